"""The retrain guard executed in moto: its ASL interpreted, its SDK tasks against moto's SageMaker.

Time is the project's pinned day (noon UTC of tests/support/clock.py's TEST_TODAY): the guard's
"now" (``$states.context.Execution.StartTime``) and SageMaker's stamp on a new execution are
pinned to it (tests/support/stepfunctions.py), and the earlier executions' start times and
statuses are set on moto's backend objects, as a pipeline's history would have them. moto's
pipeline executions start as "Succeeded" and moto never deduplicates ClientRequestToken (it only
stores it): the idempotency cases check the token the guard sends, not SageMaker's dedup.
"""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest

from components.training.retrain_guard import (
    NOT_A_TRIGGER,
    SCHEDULE_TRIGGER,
    RetrainGuardArgs,
    retrain_guard_definition,
    token_prefix,
)
from tests.support import sagemaker_events
from tests.support.clock import TEST_TODAY
from tests.support.stepfunctions import moto_with_jsonata

REGION = "us-east-1"
ACCOUNT = "123456789012"
PIPELINE = "mlops-dev-churn"
INTERVAL = 6 * 3600
NOW = dt.datetime.combine(dt.date.fromisoformat(TEST_TODAY), dt.time(12), tzinfo=dt.UTC)
DRIFT_EVENT_ID = "6f1a3a4e-8c1b-4b0c-9d1e-2f3a4b5c6d7e"
SCHEDULE_EVENT_ID = "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"


def drift_event(event_id: str = DRIFT_EVENT_ID) -> dict:
    """The envelope EventBridge delivers for a monitoring run that found violations."""
    schedule = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/mlops-dev-churn-drift"
    sample = sagemaker_events.processing_job(ACCOUNT, REGION, "model-monitoring-202612031100-abc", "Completed",
                                             exit_message="CompletedWithViolations: Job completed successfully with 3 violations.",
                                             schedule_arn=schedule)
    return {"version": "0", "id": event_id, "detail-type": sample.detail_type, "source": "aws.sagemaker", "account": ACCOUNT,
            "time": "2026-12-03T11:58:00Z", "region": REGION, "resources": list(sample.resources), "detail": sample.detail}


def scheduled_event() -> dict:
    """AWS's sample "Scheduled Event" (EventBridge, "Creating a rule that runs on a schedule"), this account's rule."""
    return {"version": "0", "id": SCHEDULE_EVENT_ID, "detail-type": "Scheduled Event", "source": "aws.events", "account": ACCOUNT,
            "time": "2026-12-03T12:00:00Z", "region": REGION, "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/mlops-dev-churn-retrain"],
            "detail": {}}


@pytest.fixture
def guard(monkeypatch):
    with moto_with_jsonata(monkeypatch, REGION, NOW) as runner:
        boto3.client("sagemaker", region_name=REGION).create_pipeline(
            PipelineName=PIPELINE, PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/mlops-dev-churn-pipeline",
        )
        arn = runner.create("mlops-dev-churn-retrain-guard", retrain_guard_definition(RetrainGuardArgs(PIPELINE, INTERVAL)))

        def run(event: dict) -> dict:
            execution = runner.run(arn, event)
            assert execution["startDate"] == NOW, "the guard's clock is not the pinned one"
            return execution

        yield run


def executions() -> dict:
    """moto's pipeline executions by ARN (its backend objects, to read and set what the API cannot)."""
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[ACCOUNT][REGION].pipelines[PIPELINE].pipeline_executions


def earlier_execution(status: str, started: dt.datetime) -> str:
    arn = boto3.client("sagemaker", region_name=REGION).start_pipeline_execution(PipelineName=PIPELINE)["PipelineExecutionArn"]
    executions()[arn].pipeline_execution_status = status
    executions()[arn].start_time = started.astimezone(dt.UTC).replace(tzinfo=None)
    return arn


def output(execution: dict) -> dict:
    assert execution["status"] == "SUCCEEDED", execution
    return json.loads(execution["output"])


def new_executions(before: set[str]) -> list:
    return [e for arn, e in executions().items() if arn not in before]


def test_with_no_execution_ever_it_starts_one_naming_the_trigger_and_event(guard):
    result = output(guard(drift_event()))
    (started,) = executions().values()
    assert result == {"outcome": "started", "trigger": "drift", "eventId": DRIFT_EVENT_ID, "pipelineExecutionArn": started.arn}
    assert started.client_request_token == f"{token_prefix(PIPELINE)}-{DRIFT_EVENT_ID}"
    assert started.pipeline_execution_display_name == "retrain-drift"
    assert started.pipeline_execution_description == (
        f"Started by the retrain guard for the drift event {DRIFT_EVENT_ID} of 2026-12-03T11:58:00Z"
    )
    assert started.start_time == NOW.replace(tzinfo=None)


def test_a_scheduled_event_starts_one_as_the_schedule_trigger(guard):
    result = output(guard(scheduled_event()))
    (started,) = executions().values()
    assert (result["outcome"], result["trigger"]) == ("started", SCHEDULE_TRIGGER.name)
    assert started.pipeline_execution_display_name == "retrain-schedule"


@pytest.mark.parametrize("status", ["Executing", "Stopping"])
def test_an_active_execution_skips_however_old_it_is(guard, status):
    active = earlier_execution(status, NOW - dt.timedelta(days=3))
    before = set(executions())
    result = output(guard(drift_event()))
    assert result["outcome"] == f"skipped: an execution is still active ({status} {active})"
    assert new_executions(before) == []


def test_a_finished_execution_within_the_interval_skips(guard):
    newest = NOW - dt.timedelta(seconds=INTERVAL - 1)
    earlier_execution("Succeeded", newest)
    before = set(executions())
    result = output(guard(drift_event()))
    assert result["outcome"] == (
        f"skipped: the newest execution started at 2026-12-03T06:00:01.000Z, less than {INTERVAL} seconds before {NOW.isoformat()}"
    )
    assert new_executions(before) == []


@pytest.mark.parametrize("status", ["Succeeded", "Failed", "Stopped", "CompletedWithFailures"])
def test_the_last_finished_long_enough_ago_starts_one(guard, status):
    earlier_execution(status, NOW - dt.timedelta(seconds=INTERVAL))  # exactly the interval: allowed
    before = set(executions())
    assert output(guard(drift_event()))["outcome"] == "started"
    assert len(new_executions(before)) == 1


def test_the_newest_start_decides_whatever_order_the_list_comes_in(guard):
    # moto lists in insertion order, oldest first here: the recent one is seeded first.
    earlier_execution("Succeeded", NOW - dt.timedelta(hours=1))
    earlier_execution("Failed", NOW - dt.timedelta(days=30))
    assert output(guard(drift_event()))["outcome"].startswith("skipped: the newest execution started at 2026-12-03T11:00:00.000Z")


def test_the_same_event_twice_starts_one_execution(guard):
    first = output(guard(drift_event()))
    (started,) = executions().values()
    started.pipeline_execution_status = "Executing"  # what SageMaker reports right after the start; moto says Succeeded
    second = output(guard(drift_event()))
    assert first["outcome"] == "started"
    assert second["outcome"] == f"skipped: an execution is still active (Executing {started.arn})"
    assert len(executions()) == 1


def test_a_redelivered_event_that_races_past_the_checks_sends_the_same_token(guard):
    # Two guard runs for one event that both listed before either started: SageMaker sees the
    # same ClientRequestToken twice (moto does not deduplicate, so the tokens are compared).
    output(guard(drift_event()))
    (first,) = executions().values()
    executions().clear()
    output(guard(drift_event()))
    (second,) = executions().values()
    assert second.client_request_token == first.client_request_token
    executions().clear()
    output(guard(drift_event("0e7f5c1d-2b3a-4c5d-8e9f-a0b1c2d3e4f5")))
    (other,) = executions().values()
    assert other.client_request_token != first.client_request_token


@pytest.mark.parametrize("event", [
    pytest.param({**drift_event(), "detail-type": "SageMaker Training Job State Change"}, id="another-detail-type"),
    pytest.param({**drift_event(), "source": "custom.replay"}, id="another-source"),
    pytest.param({**drift_event(), "id": "short"}, id="id-too-short-for-a-token"),
    pytest.param({k: v for k, v in drift_event().items() if k != "time"}, id="no-time"),
    pytest.param({"anything": "else"}, id="not-an-event"),
])
def test_an_input_that_is_not_a_trigger_event_fails_and_starts_nothing(guard, event):
    execution = guard(event)
    assert (execution["status"], execution.get("error")) == ("FAILED", NOT_A_TRIGGER)
    assert executions() == {}
