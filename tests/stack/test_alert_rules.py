"""The alert rules end to end in moto: the pattern and transformer the real stack registers, a
sample SageMaker event through ``PutEvents``, and what an SQS queue in the topic's place receives.

The rules are read from the recorded RegisterResourceRequests of the prod stack's preview (the one
stack with drift monitoring), never rebuilt here, so what is tested is what the engine would create.
An SQS queue stands in for the topic because moto delivers rule targets to SQS and the queue shows
the message as the transformer wrote it. moto's TestEventPattern returns no verdict worth
trusting, so every proof here is a delivered message, or its absence.
"""

from __future__ import annotations

import json

import boto3
import pytest

from tests.support import sagemaker_events as events
from tests.support.aws_seed import moto_account
from tests.support.stacks import STACK_ACCOUNTS, stack_preview

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
STACK = "prod"
ACCOUNT = STACK_ACCOUNTS[STACK]
REGION = "us-east-1"
ENDPOINT = "mlops-prod-churn"


@pytest.fixture(scope="module")
def registered() -> dict[str, tuple[dict, dict]]:
    """Rule stem -> (the rule's inputs, its target's inputs), as the prod preview registered them."""
    rec = stack_preview(STACK).recording
    rules = {r.inputs["name"].removeprefix("mlops-prod-"): r for r in rec.of_type(RULE) if "mlops:alerts:PlatformAlerts" in r.urn}
    targets = {t.inputs["rule"]: t for t in rec.of_type(TARGET)}
    return {stem: (rule.inputs, targets[rule.inputs["name"]].inputs) for stem, rule in rules.items()}


@pytest.fixture(scope="module")
def schedule_arn() -> str:
    [schedule] = stack_preview(STACK).recording.of_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/{schedule.id.lower()}"


@pytest.fixture
def deliver(monkeypatch, registered):
    """``deliver(stem, sample)``: the messages the rule ``stem`` delivers for ``sample``."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)  # the events carry the stack's own account
    with moto_account(monkeypatch, REGION):
        sqs, bus = boto3.client("sqs", region_name=REGION), boto3.client("events", region_name=REGION)

        def run(stem: str, sample: events.SampleEvent) -> list[dict]:
            rule, target = registered[stem]
            queue = sqs.create_queue(QueueName=f"alerts-{stem}")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            bus.put_rule(Name=rule["name"], EventPattern=rule["eventPattern"], State="ENABLED")
            transformer = target["inputTransformer"]
            bus.put_targets(Rule=rule["name"], Targets=[{"Id": target["targetId"], "Arn": queue_arn, "InputTransformer": {
                "InputPathsMap": transformer["inputPaths"], "InputTemplate": transformer["inputTemplate"]}}])
            assert bus.put_events(Entries=[events.entry(sample)])["FailedEntryCount"] == 0
            received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            bus.remove_targets(Rule=rule["name"], Ids=[target["targetId"]])
            bus.delete_rule(Name=rule["name"])
            return [json.loads(m["Body"]) for m in received]

        yield run


def test_prod_registers_one_rule_per_alert_each_targeting_the_topic(registered):
    assert sorted(registered) == ["drift-monitoring", "endpoint-deployment", "endpoint-status", "model-approval"]
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:mlops-prod-alerts"
    for rule, target in registered.values():
        assert target["arn"] == topic and json.loads(rule["eventPattern"])["source"] == ["aws.sagemaker"]


def test_a_failed_deployment_and_a_finished_rollback_reach_the_topic(deliver):
    [message] = deliver("endpoint-deployment", events.deployment(ACCOUNT, REGION, ENDPOINT, "UPDATE_ROLLBACK_FAILED"))
    assert message["alert"] == "Endpoint deployment failed or rolled back"
    assert (message["endpoint"], message["status"], message["account"], message["region"]) == (ENDPOINT, "UPDATE_ROLLBACK_FAILED", ACCOUNT, REGION)
    reason = "Rolled back: alarm mlops-prod-churn-primary-server-errors in ALARM during baking"
    [rolled_back] = deliver("endpoint-deployment", events.deployment(ACCOUNT, REGION, ENDPOINT, "IN_SERVICE", failure_reason=reason))
    assert rolled_back["reason"] == reason and rolled_back["status"] == "IN_SERVICE"


def test_a_deployment_in_progress_or_of_another_endpoint_does_not(deliver):
    assert deliver("endpoint-deployment", events.deployment(ACCOUNT, REGION, ENDPOINT, "UPDATING")) == []  # AWS's own sample: baking, fine
    assert deliver("endpoint-deployment", events.deployment(ACCOUNT, REGION, "other-team-churn", "UPDATE_ROLLBACK_FAILED")) == []
    assert deliver("endpoint-deployment", events.deployment(ACCOUNT, REGION, "mlops-staging-churn", "FAILED")) == []  # another stack's


def test_a_failed_endpoint_reaches_the_topic_and_a_healthy_or_foreign_one_does_not(deliver):
    [message] = deliver("endpoint-status", events.endpoint_state(ACCOUNT, REGION, ENDPOINT, "FAILED"))
    assert (message["alert"], message["endpoint"], message["status"]) == ("Endpoint failed", ENDPOINT, "FAILED")
    assert deliver("endpoint-status", events.endpoint_state(ACCOUNT, REGION, ENDPOINT, "IN_SERVICE")) == []
    assert deliver("endpoint-status", events.endpoint_state(ACCOUNT, REGION, "other-team-churn", "FAILED")) == []


def test_a_monitoring_run_with_violations_and_a_failed_one_reach_the_topic(deliver, schedule_arn):
    violations = "CompletedWithViolations: Job completed successfully with 3 violations."
    job = "model-monitoring-202612031000-0a1b2c3d4e5f60718293a4b5"
    [message] = deliver("drift-monitoring", events.processing_job(ACCOUNT, REGION, job, "Completed", exit_message=violations, schedule_arn=schedule_arn))
    assert (message["alert"], message["schedule"], message["job"], message["result"]) == (
        "Drift monitoring found violations or failed", schedule_arn, job, violations)
    [failed] = deliver("drift-monitoring", events.processing_job(ACCOUNT, REGION, job, "Failed", schedule_arn=schedule_arn, failure_reason="ClientError: no data"))
    assert (failed["status"], failed["reason"]) == ("Failed", "ClientError: no data")


def test_a_clean_run_and_other_processing_jobs_do_not(deliver, schedule_arn):
    job = "model-monitoring-202612031100-0a1b2c3d4e5f60718293a4b5"
    clean = "Completed: Job completed successfully with no violations."
    assert deliver("drift-monitoring", events.processing_job(ACCOUNT, REGION, job, "Completed", exit_message=clean, schedule_arn=schedule_arn)) == []
    # A training pipeline's processing job fails: not a monitoring run, no schedule.
    assert deliver("drift-monitoring", events.processing_job(ACCOUNT, REGION, "pipelines-p4jn9xou8a8s-preprocess", "Failed")) == []
    # Another stack's schedule in the same account, and this stack's name in another account.
    other_stack = schedule_arn.replace("/mlops-prod-", "/mlops-staging-")
    violations = "CompletedWithViolations: Job completed successfully with 1 violations."
    assert deliver("drift-monitoring", events.processing_job(ACCOUNT, REGION, job, "Completed", exit_message=violations, schedule_arn=other_stack)) == []
    assert deliver("drift-monitoring", events.processing_job(ACCOUNT, REGION, job, "Failed", schedule_arn=schedule_arn.replace(ACCOUNT, "999999999999"))) == []


def test_an_approval_decision_in_a_platform_family_reaches_the_topic(deliver):
    [message] = deliver("model-approval", events.model_package(ACCOUNT, REGION, "churn", "Approved", version=7))
    assert (message["group"], message["version"], message["approval"]) == ("churn", "7", "Approved")
    assert message["package"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/7"
    assert deliver("model-approval", events.model_package(ACCOUNT, REGION, "churn", "Rejected"))[0]["approval"] == "Rejected"


def test_a_pending_package_or_another_family_does_not(deliver):
    assert deliver("model-approval", events.model_package(ACCOUNT, REGION, "churn", "PendingManualApproval")) == []
    assert deliver("model-approval", events.model_package(ACCOUNT, REGION, "versionedmp-p-idy6c3e1fiqj", "Rejected")) == []  # AWS's sample group


def test_every_sample_names_its_documented_source():
    for url in events.SOURCES.values():
        assert url.startswith("https://docs.aws.amazon.com/")
