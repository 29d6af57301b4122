"""The retraining triggers end to end in moto, as the stacks register them: the drift rule's pattern
against sample processing-job events in the layout AWS documents (tests/support/sagemaker_events.py),
its alert message, and the registered retrain guard run in moto's Step Functions interpreter
against moto's SageMaker holding the registered pipeline.

The alert topic is stood in for by an SQS queue (moto delivers rule targets to queues; the input
transformer is what the topic would receive)."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest

from components.training.retrain_guard import NOT_A_TRIGGER
from tests.support import sagemaker_events as events
from tests.support.aws_seed import moto_account
from tests.support.clock import TEST_TODAY
from tests.support.eventbridge import rule_into_queue
from tests.support.stacks import STACK_ACCOUNTS, stack_preview
from tests.support.stepfunctions import moto_with_jsonata

REGION = "us-east-1"
NOW = dt.datetime.combine(dt.date.fromisoformat(TEST_TODAY), dt.time(12), tzinfo=dt.UTC)
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"


def schedule_arn(stack: str, endpoint: str = "churn") -> str:
    # Auto-named from <stem>-<endpoint>-drift by Pulumi (a 7-character suffix).
    return f"arn:aws:sagemaker:{REGION}:{STACK_ACCOUNTS[stack]}:monitoring-schedule/mlops-{stack}-{endpoint}-drift-1a2b3c4"


def monitoring_run(stack: str, status: str, exit_message: str | None = None, *, schedule: str | None = None) -> events.SampleEvent:
    return events.processing_job(STACK_ACCOUNTS[stack], REGION, "model-monitoring-202612031100-abc", status, exit_message=exit_message,
                                 schedule_arn=schedule if schedule is not None else schedule_arn(stack))


VIOLATIONS = "CompletedWithViolations: Job completed successfully with 3 violations."


def envelope(stack: str, sample: events.SampleEvent, event_id: str = "6f1a3a4e-8c1b-4b0c-9d1e-2f3a4b5c6d7e") -> dict:
    """What EventBridge hands the guard: the event with its envelope."""
    return {"version": "0", "id": event_id, "detail-type": sample.detail_type, "source": "aws.sagemaker", "account": STACK_ACCOUNTS[stack],
            "time": "2026-12-03T11:58:00Z", "region": REGION, "resources": list(sample.resources), "detail": sample.detail}


def scheduled_event(stack: str) -> dict:
    """AWS's sample "Scheduled Event" (EventBridge User Guide, "Creating a rule that runs on a schedule"), this stack's rule."""
    return {"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": STACK_ACCOUNTS[stack], "time": "2026-12-03T12:00:00Z", "region": REGION,
            "resources": [f"arn:aws:events:{REGION}:{STACK_ACCOUNTS[stack]}:rule/mlops-{stack}-churn-retrain-schedule"], "detail": {}}


@pytest.fixture
def drift_alerts(monkeypatch):
    """``deliver(sample)``: the alert messages prod's drift rule sends for ``sample``."""
    rec = stack_preview("prod").recording
    [rule] = [r for r in rec.of_type(RULE) if r.inputs["name"] == "mlops-prod-churn-retrain-drift"]
    topic = rec.one("aws:sns/topic:Topic")
    [alert] = [t for t in rec.of_type(TARGET) if t.inputs["rule"] == rule.inputs["name"] and t.propertyDependencies.get("arn") == [topic.urn]]
    monkeypatch.setenv("MOTO_ACCOUNT_ID", STACK_ACCOUNTS["prod"])
    with moto_account(monkeypatch, REGION):
        yield rule_into_queue(REGION, rule.inputs, alert.inputs)


def test_violations_of_the_endpoints_drift_monitor_reach_the_alert_topic_with_what_happened(drift_alerts):
    [message] = drift_alerts(monitoring_run("prod", "Completed", VIOLATIONS))
    assert message["endpoint"] == "churn" and message["pipeline"] == "mlops-prod-churn-training"
    assert message["job"] == "model-monitoring-202612031100-abc" and message["result"] == VIOLATIONS
    assert message["alert"].startswith("Drift found violations: retraining requested")


@pytest.mark.parametrize(
    "sample",
    [
        pytest.param(lambda: monitoring_run("prod", "Completed", "Completed: Job completed successfully with no violations."), id="no-violations"),
        pytest.param(lambda: monitoring_run("prod", "Failed"), id="failed-run-is-an-alert-not-a-retrain"),
        pytest.param(lambda: monitoring_run("prod", "InProgress"), id="in-progress"),
        pytest.param(lambda: monitoring_run("prod", "Completed", VIOLATIONS, schedule=schedule_arn("prod", "fraud")), id="another-endpoint"),
        pytest.param(lambda: monitoring_run("prod", "Completed", VIOLATIONS, schedule=schedule_arn("staging")), id="another-stack"),
    ],
)
def test_nothing_else_asks_for_a_retraining(drift_alerts, sample):
    assert drift_alerts(sample()) == []


def test_a_processing_job_of_no_monitoring_schedule_never_matches(drift_alerts):
    sample = events.processing_job(STACK_ACCOUNTS["prod"], REGION, "pipelines-abc123-preparedata-x1", "Completed", exit_message=VIOLATIONS)
    assert "MonitoringScheduleArn" not in sample.detail
    assert drift_alerts(sample) == []


# -- the registered guard -------------------------------------------------------------------------


@pytest.fixture
def guard(monkeypatch):
    """``run(stack, event)``: the stack's registered guard run in moto beside its registered pipeline."""

    def start(stack: str):
        rec = stack_preview(stack).recording
        pipeline, machine = rec.one("aws:sagemaker/pipeline:Pipeline"), rec.one("aws:sfn/stateMachine:StateMachine")
        monkeypatch.setenv("MOTO_ACCOUNT_ID", STACK_ACCOUNTS[stack])
        return pipeline, machine

    contexts = []

    def run(stack: str, event: dict) -> tuple[dict, list[dict]]:
        pipeline, machine = start(stack)
        context = moto_with_jsonata(monkeypatch, REGION, NOW)
        runner = context.__enter__()
        contexts.append(context)
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        sagemaker.create_pipeline(PipelineName=pipeline.inputs["pipelineName"], PipelineDefinition=pipeline.inputs["pipelineDefinition"],
                                  RoleArn=pipeline.inputs["roleArn"])
        arn = runner.create(machine.inputs["name"], json.loads(machine.inputs["definition"]))
        execution = runner.run(arn, event)
        started = sagemaker.list_pipeline_executions(PipelineName=pipeline.inputs["pipelineName"])["PipelineExecutionSummaries"]
        return execution, started

    yield run
    for context in reversed(contexts):
        context.__exit__(None, None, None)


def test_prods_guard_starts_one_retraining_for_a_drift_finding_the_rule_matched(guard, drift_alerts):
    sample = monitoring_run("prod", "Completed", VIOLATIONS)
    assert len(drift_alerts(sample)) == 1  # the rule matches this very event
    execution, started = guard("prod", envelope("prod", sample))
    assert execution["status"] == "SUCCEEDED", execution
    assert len(started) == 1 and started[0]["PipelineExecutionDisplayName"].startswith("retrain-drift")


def test_prods_guard_starts_a_scheduled_run_too(guard):
    execution, started = guard("prod", scheduled_event("prod"))
    assert execution["status"] == "SUCCEEDED" and len(started) == 1
    assert started[0]["PipelineExecutionDisplayName"].startswith("retrain-schedule")


def test_devs_guard_has_no_drift_trigger_and_refuses_a_drift_event(guard):
    execution, started = guard("dev", envelope("dev", monitoring_run("dev", "Completed", VIOLATIONS)))
    assert execution["status"] == "FAILED" and execution.get("error") == NOT_A_TRIGGER
    assert started == []
