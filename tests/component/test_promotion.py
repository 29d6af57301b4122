"""ApprovalDispatch under mocks: what the engine would receive for the approval rule, its API
destination and connection, the invoke role, the dead-letter queue and its alarm; the policies
evaluated as IAM would. What the rule matches and the body it writes are proved end to end in
moto (tests/stack/test_dispatch_rule.py)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from components.config import DISPATCH_TOKEN_PLACEHOLDER, ConfigError
from components.iam.policy import policy_document
from components.keys import PlatformKey
from components.keys.platform_keys import key_policy_statements
from components.promotion import DISPATCH_EVENT_TYPE, ApprovalDispatch, ApprovalDispatchArgs, PromotedEndpoint
from components.scope import scope_for
from mlopsctl.offline.harness import ACCOUNT_ID
from tests.support.iam_eval import service_is_allowed
from tests.support.programs import run_component
from tests.support.stacks import stack_config, stack_preview

KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/dispatch-0000"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:mlops-staging-alerts"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:mlops-staging-dispatch-dlq"
RULE_ARN = f"arn:aws:events:us-east-1:{ACCOUNT_ID}:rule/mlops-staging-churn-promote"
CONNECTION = "aws:cloudwatch/eventConnection:EventConnection"
DESTINATION = "aws:cloudwatch/eventApiDestination:EventApiDestination"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"


CHURN = (PromotedEndpoint("churn", "churn"),)


def run_dispatch(endpoints=CHURN):
    config = stack_config("staging")

    def program():
        provider = aws.Provider("aws", region=config.region)
        args = ApprovalDispatchArgs(
            config=config.promotion, scope=scope_for(config, account_id=ACCOUNT_ID), environment="staging",
            github_repo="example-org/mlops-platform", endpoints=list(endpoints), key=PlatformKey(KEY), alarm_topic_arn=TOPIC,
        )
        ApprovalDispatch("promotion", args, opts=pulumi.ResourceOptions(providers={"aws": provider}))

    return run_component(program)


@pytest.fixture(scope="module")
def staging():
    return run_dispatch()


def test_the_connection_holds_a_placeholder_pulumi_never_restores_under_the_dispatch_key(staging):
    connection = staging.one(CONNECTION)
    auth = connection.inputs["authParameters"]
    assert connection.inputs["name"] == "mlops-staging-github-dispatch" and connection.inputs["authorizationType"] == "API_KEY"
    assert auth["apiKey"]["key"] == "Authorization" and auth["apiKey"]["value"] == DISPATCH_TOKEN_PLACEHOLDER
    # The wire path exactly: a nested path the engine does not recognise would ignore nothing.
    assert connection.ignoreChanges == ["authParameters.apiKey.value"]
    headers = {h["key"]: h["value"] for h in auth["invocationHttpParameters"]["headers"]}
    assert headers == {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    assert connection.inputs["kmsKeyIdentifier"] == KEY


def test_the_destination_posts_to_the_repositorys_dispatches_endpoint(staging):
    destination = staging.one(DESTINATION)
    assert destination.inputs["invocationEndpoint"] == "https://api.github.com/repos/example-org/mlops-platform/dispatches"
    assert destination.inputs["httpMethod"] == "POST" and destination.inputs["invocationRateLimitPerSecond"] == 1
    assert destination.propertyDependencies["connectionArn"] == [staging.one(CONNECTION).urn]


def test_one_rule_per_endpoint_matches_approvals_of_its_group_only(staging):
    rule = staging.one(RULE)
    assert rule.inputs["name"] == "mlops-staging-churn-promote"
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelApprovalStatus": ["Approved"], "ModelPackageGroupName": ["churn"]},
    }
    assert rule.inputs["tags"] == {"mlops:expected-dispatches-per-month": "20"}


def test_the_target_retries_then_dead_letters_and_writes_githubs_body(staging):
    target = staging.one(TARGET)
    config = stack_config("staging").promotion
    assert target.propertyDependencies["arn"] == [staging.one(DESTINATION).urn]
    assert target.inputs["retryPolicy"] == {"maximumRetryAttempts": config.retry_attempts, "maximumEventAgeInSeconds": config.maximum_event_age_seconds}
    assert target.propertyDependencies["deadLetterConfig"] == [staging.one("aws:sqs/queue:Queue").urn]
    assert target.inputs["roleArn"] and target.propertyDependencies["roleArn"] == [staging.one("aws:iam/role:Role").urn]
    template = json.loads(target.inputs["inputTransformer"]["inputTemplate"])
    assert template == {"event_type": DISPATCH_EVENT_TYPE, "client_payload": {
        "environment": "staging", "endpoint": "churn", "group": "<group>", "version": "<version>", "modelPackageArn": "<package>"}}
    # The queue must admit the rule before the first dead letter.
    assert staging.one("aws:sqs/queuePolicy:QueuePolicy").urn in target.dependencies


def _trust(rec) -> dict:
    return json.loads(rec.one("aws:iam/role:Role").inputs["assumeRolePolicy"])


def test_only_this_stacks_promote_rules_may_assume_the_invoke_role(staging):
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/invoke"
    ours = {"aws:SourceAccount": ACCOUNT_ID, "aws:SourceArn": RULE_ARN}
    assert service_is_allowed(_trust(staging), "events.amazonaws.com", "sts:AssumeRole", role, ours)
    for other in (
        {"aws:SourceAccount": "999999999999", "aws:SourceArn": RULE_ARN.replace(ACCOUNT_ID, "999999999999")},
        {**ours, "aws:SourceArn": f"arn:aws:events:us-east-1:{ACCOUNT_ID}:rule/mlops-staging-endpoint-status"},
        {**ours, "aws:SourceArn": f"arn:aws:events:us-east-1:{ACCOUNT_ID}:rule/mlops-prod-churn-promote"},
    ):
        assert not service_is_allowed(_trust(staging), "events.amazonaws.com", "sts:AssumeRole", role, other), other
    assert not service_is_allowed(_trust(staging), "lambda.amazonaws.com", "sts:AssumeRole", role, ours)


def test_the_invoke_role_may_call_exactly_the_dispatch_destination(staging):
    [statement] = json.loads(staging.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"]
    assert statement["Action"] == ["events:InvokeApiDestination"]
    assert statement["Resource"] == [f"arn:aws:events:us-east-1:{ACCOUNT_ID}:api-destination/mlops-staging-github-dispatch/*"]


def _queue_policy(rec) -> dict:
    return json.loads(rec.one("aws:sqs/queuePolicy:QueuePolicy").inputs["policy"])


def test_the_dead_letter_queue_takes_messages_from_the_approval_rules_only_over_tls(staging):
    queue = staging.one("aws:sqs/queue:Queue")
    assert queue.inputs["name"] == "mlops-staging-dispatch-dlq" and queue.inputs["kmsMasterKeyId"] == KEY
    assert queue.inputs["messageRetentionSeconds"] == 1_209_600
    policy = _queue_policy(staging)
    tls = {"aws:SecureTransport": "true"}
    assert service_is_allowed(policy, "events.amazonaws.com", "sqs:SendMessage", QUEUE, {**tls, "aws:SourceArn": RULE_ARN})
    assert not service_is_allowed(policy, "events.amazonaws.com", "sqs:SendMessage", QUEUE, {**tls, "aws:SourceArn": RULE_ARN.replace("churn", "other")})
    assert not service_is_allowed(policy, "events.amazonaws.com", "sqs:SendMessage", QUEUE, {"aws:SecureTransport": "false", "aws:SourceArn": RULE_ARN})
    assert not service_is_allowed(policy, "sns.amazonaws.com", "sqs:SendMessage", QUEUE, {**tls, "aws:SourceArn": RULE_ARN})


def test_the_dead_letter_alarm_tells_the_alert_topic_of_any_message(staging):
    alarm = staging.one("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarm.inputs["namespace"] == "AWS/SQS" and alarm.inputs["metricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm.inputs["dimensions"] == {"QueueName": "mlops-staging-dispatch-dlq"}
    assert (alarm.inputs["threshold"], alarm.inputs["comparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm.inputs["alarmActions"] == [TOPIC] and alarm.inputs["okActions"] == [TOPIC]
    assert alarm.inputs["name"].startswith("mlops-staging-")


def test_the_dispatch_key_lets_eventbridge_encrypt_into_that_queue_only():
    scope = scope_for(stack_config("staging"), account_id=ACCOUNT_ID)
    rec = run_component(lambda: aws.kms.Key("dispatch", policy=policy_document(key_policy_statements("dispatch", scope), kind="key")))
    policy = json.loads(rec.one("aws:kms/key:Key").inputs["policy"])
    context = {"kms:EncryptionContext:aws:sqs:arn": QUEUE}
    assert service_is_allowed(policy, "events.amazonaws.com", "kms:GenerateDataKey", KEY, context)
    assert service_is_allowed(policy, "events.amazonaws.com", "kms:Decrypt", KEY, context)
    assert not service_is_allowed(policy, "events.amazonaws.com", "kms:GenerateDataKey", KEY, {"kms:EncryptionContext:aws:sqs:arn": QUEUE + "-other"})
    assert not service_is_allowed(policy, "events.amazonaws.com", "kms:Encrypt", KEY, context)


def test_the_stacks_key_carries_the_tag_eventbridge_requires():
    rec = stack_preview("staging").recording
    dispatch_key = rec.one("aws:kms/key:Key", "dispatch")
    assert dispatch_key.inputs["tags"] == {"EventBridgeApiDestinations": "true"}


def test_no_promotable_endpoint_means_no_dispatch_and_dev_has_none():
    assert not [r for r in stack_preview("dev").recording.resources if r.type.startswith("mlops:promotion")]
    with pytest.raises(ConfigError, match=r"promotion\.dispatch: no endpoint serves a model package"):
        stack_config("dev", promotion={"dispatch": True})
