"""PlatformAlerts under mocks: the encrypted topic, its policy (evaluated as IAM would), the
subscriptions from config, and one EventBridge rule and target per alert.

What the rules match is proved end to end in moto (tests/stack/test_alert_rules.py); here, what
the engine would receive."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from components.alerts import PlatformAlerts, PlatformAlertsArgs
from components.keys import PlatformKey
from components.scope import scope_for
from mlopsctl.offline.harness import ACCOUNT_ID
from tests.support.iam_eval import service_is_allowed
from tests.support.programs import run_component
from tests.support.stacks import STACK_ACCOUNTS, stack_config, stack_preview

KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/alerts-0000"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:mlops-staging-alerts"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"


def run_alerts(stack: str, groups=("churn",)):
    config = stack_config(stack)

    def program():
        provider = aws.Provider("aws", region=config.region)
        args = PlatformAlertsArgs(config=config.alerts, scope=scope_for(config, account_id=ACCOUNT_ID), key=PlatformKey(KEY), model_package_groups=list(groups))
        PlatformAlerts("alerts", args, opts=pulumi.ResourceOptions(providers={"aws": provider}))

    return run_component(program)


@pytest.fixture(scope="module")
def staging():
    return run_alerts("staging")


def _topic_policy(rec) -> dict:
    return json.loads(rec.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])


def test_one_named_topic_encrypted_with_the_alerts_key(staging):
    topic = staging.one("aws:sns/topic:Topic")
    assert topic.inputs["name"] == "mlops-staging-alerts" and topic.inputs["kmsMasterKeyId"] == KEY
    assert topic.parent == staging.one("mlops:alerts:PlatformAlerts").urn
    assert staging.one("aws:sns/topicPolicy:TopicPolicy").inputs["arn"] == TOPIC


def _publish(rec, service: str, **context: str) -> bool:
    return service_is_allowed(_topic_policy(rec), service, "sns:Publish", TOPIC, context)


def test_this_accounts_alarms_may_publish_and_no_one_elses(staging):
    alarm = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:mlops-staging-churn-primary-server-errors"
    assert _publish(staging, "cloudwatch.amazonaws.com", **{"aws:SourceAccount": ACCOUNT_ID, "aws:SourceArn": alarm})
    assert not _publish(staging, "cloudwatch.amazonaws.com", **{"aws:SourceAccount": "999999999999", "aws:SourceArn": alarm.replace(ACCOUNT_ID, "999999999999")})
    assert not _publish(staging, "cloudwatch.amazonaws.com", **{"aws:SourceAccount": ACCOUNT_ID, "aws:SourceArn": alarm.replace("us-east-1", "eu-west-1")})
    assert not _publish(staging, "cloudwatch.amazonaws.com")
    assert not _publish(staging, "s3.amazonaws.com", **{"aws:SourceAccount": ACCOUNT_ID})


def test_this_stacks_rules_may_publish_and_other_rules_may_not(staging):
    rule = f"arn:aws:events:us-east-1:{ACCOUNT_ID}:rule/mlops-staging-endpoint-status"
    assert _publish(staging, "events.amazonaws.com", **{"aws:SourceAccount": ACCOUNT_ID, "aws:SourceArn": rule})
    assert not _publish(staging, "events.amazonaws.com", **{"aws:SourceAccount": ACCOUNT_ID, "aws:SourceArn": rule.replace("mlops-staging-", "someone-")})
    assert not _publish(staging, "events.amazonaws.com", **{"aws:SourceAccount": "999999999999", "aws:SourceArn": rule.replace(ACCOUNT_ID, "999999999999")})


def test_nothing_reaches_the_topic_without_tls(staging):
    alarm = {"aws:SourceAccount": ACCOUNT_ID, "aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:a"}
    assert not _publish(staging, "cloudwatch.amazonaws.com", **alarm, **{"aws:SecureTransport": "false"})
    assert _publish(staging, "cloudwatch.amazonaws.com", **alarm, **{"aws:SecureTransport": "true"})
    [deny] = [s for s in _topic_policy(staging)["Statement"] if s["Effect"] == "Deny"]
    assert deny["Principal"] == {"AWS": "*"} and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_subscriptions_come_from_config_email_and_https_only(staging):
    subscriptions = {s.inputs["endpoint"]: s for s in staging.of_type(SUBSCRIPTION)}
    assert {e: s.inputs["protocol"] for e, s in subscriptions.items()} == {
        "ml-platform-staging@example.com": "email", "https://alerts.example.com/hooks/mlops-staging": "https"}
    assert all(s.inputs["topic"] == TOPIC for s in subscriptions.values())


def test_subscriptions_are_named_by_endpoint_so_reordering_replaces_nothing():
    config = stack_config("staging")
    reordered = stack_config("staging", alerts={"subscriptions": [s.model_dump(by_alias=True) for s in reversed(config.alerts.subscriptions)]})
    names = {s.name for s in run_alerts("staging").of_type(SUBSCRIPTION)}
    assert reordered.alerts.subscriptions != config.alerts.subscriptions

    def program():
        args = PlatformAlertsArgs(config=reordered.alerts, scope=scope_for(reordered, account_id=ACCOUNT_ID), key=PlatformKey(KEY))
        PlatformAlerts("alerts", args, opts=pulumi.ResourceOptions(providers={"aws": aws.Provider("aws", region="us-east-1")}))

    assert {s.name for s in run_component(program).of_type(SUBSCRIPTION)} == names


def test_one_rule_per_alert_under_the_stack_name_each_routed_to_the_topic_after_its_policy(staging):
    rules = {r.inputs["name"]: r for r in staging.of_type(RULE)}
    assert sorted(rules) == ["mlops-staging-drift-monitoring", "mlops-staging-endpoint-deployment", "mlops-staging-endpoint-status", "mlops-staging-model-approval"]
    policy = staging.one("aws:sns/topicPolicy:TopicPolicy")
    for target in staging.of_type(TARGET):
        assert target.inputs["arn"] == TOPIC and target.inputs["rule"] in rules
        assert policy.urn in target.dependencies  # a rule that fires before the policy exists would be refused
        template = json.loads(target.inputs["inputTransformer"]["inputTemplate"])
        assert template["alert"] and template["account"] == "<account>"
        assert set(target.inputs["inputTransformer"]["inputPaths"]) >= {"account", "region", "at"}


def test_rules_match_only_this_stacks_resources(staging):
    patterns = {r.inputs["name"].removeprefix("mlops-staging-"): json.loads(r.inputs["eventPattern"]) for r in staging.of_type(RULE)}
    assert patterns["endpoint-status"]["detail"]["EndpointName"] == [{"prefix": "mlops-staging-"}]
    assert patterns["endpoint-deployment"]["detail"]["EndpointName"] == [{"prefix": "mlops-staging-"}]
    assert patterns["drift-monitoring"]["detail"]["MonitoringScheduleArn"] == [
        {"prefix": f"arn:aws:sagemaker:us-east-1:{ACCOUNT_ID}:monitoring-schedule/mlops-staging-"}]
    assert patterns["model-approval"]["detail"]["ModelPackageGroupName"] == ["churn"]
    assert {p["source"][0] for p in patterns.values()} == {"aws.sagemaker"}


def test_without_model_families_there_is_no_approval_rule():
    names = {r.inputs["name"] for r in run_alerts("dev", groups=()).of_type(RULE)}
    assert "mlops-dev-model-approval" not in names and len(names) == 3


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_stack_registers_the_topic_and_wires_every_alarm_to_it(stack):
    rec = stack_preview(stack).recording
    topic = rec.one("aws:sns/topic:Topic")
    arn = f"arn:aws:sns:us-east-1:{STACK_ACCOUNTS[stack]}:mlops-{stack}-alerts"
    assert topic.inputs["name"] == f"mlops-{stack}-alerts" and len([r for r in rec.of_type(RULE) if "mlops:alerts:PlatformAlerts" in r.urn]) == 4
    alarms = rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarms
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [arn] and alarm.inputs["okActions"] == [arn], alarm.name
    assert rec.stack_outputs["alerts"]["topicArn"] == arn
    # The topic's key is the platform's alerts key, the one whose policy admits the publishers.
    key = rec.one("aws:kms/key:Key", "keys-alerts")
    assert topic.propertyDependencies["kmsMasterKeyId"] == [key.urn]
