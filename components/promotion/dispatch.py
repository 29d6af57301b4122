"""ApprovalDispatch: when a model package of an endpoint's group is Approved, call GitHub's
``repository_dispatch`` so the promote workflow opens the pull request that deploys it.

The path, all AWS-managed (no function code):

- one EventBridge rule per promotable endpoint (an endpoint whose champion is a model package):
  SageMaker's "Model Package State Change" event on the default bus, ``ModelApprovalStatus``
  Approved, the endpoint's model package group by exact name;
- its target, an API destination ``POST https://api.github.com/repos/<repo>/dispatches`` through a
  connection that adds ``Authorization: Bearer <token>`` and GitHub's media-type and API-version
  headers; the input transformer writes the request body GitHub expects (``event_type``,
  ``client_payload``: environment, endpoint, group, version, package ARN), so the workflow needs
  nothing from AWS to know what to promote;
- retries for a day (``promotion.retryAttempts``, ``maximumEventAgeSeconds``), then the event goes
  to an SSE-KMS dead-letter queue whose depth alarms the alert topic: an approval is never lost
  without a person hearing of it.

The token is the one secret the platform holds. Pulumi creates the connection with a placeholder
and never reads or writes the value again (``ignoreChanges``); ``mlopsctl dispatch-token`` sets it
from stdin. So the token is in no stack file, no state file and no CI log, only in the
connection's Secrets Manager secret, encrypted under the stack's ``dispatch`` key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alerts.events import APPROVED, MODEL_PACKAGE_STATE_CHANGE, SAGEMAKER_SOURCE
from components.config import (
    DISPATCH_AUTH_HEADER,
    DISPATCH_AUTHORIZATION_TYPE,
    DISPATCH_TOKEN_INPUT,
    DISPATCH_TOKEN_PLACEHOLDER,
    GITHUB_API_HEADERS,
    PromotionConfig,
    dispatch_connection_name,
    dispatch_queue_name,
    dispatch_rule_name,
)
from components.iam.policy import Statement, policy_document
from components.iam.roles import inline_policy, service_role
from components.keys import PlatformKey
from components.scope import AwsScope
from policies.awsfacts import EXPECTED_DISPATCHES_TAG

GITHUB_API = "https://api.github.com"
# The repository_dispatch event type the promote workflow listens for (.github/workflows/promote.yml).
DISPATCH_EVENT_TYPE = "mlops-model-approved"
TARGET_ID = "github-dispatch"
# The dead-letter alarm: any message at all is an approval GitHub never received.
DEAD_LETTER_ALARM_PERIOD_S = 300


@dataclass(frozen=True)
class PromotedEndpoint:
    """An endpoint whose champion is a model package: ``name`` (as in the stack file) and ``group``."""

    name: str
    group: str


@dataclass(frozen=True)
class ApprovalDispatchArgs:
    """Inputs of :class:`ApprovalDispatch`.

    config: the validated ``promotion`` section (required): retries, event age, queue retention,
        the API destination's rate and the volume the cost model prices.
    scope: the stack's account, region and partition (policies, the queue's ARN) and name stem
        (the connection, queue and rules are named under it) (required).
    environment: the stack's environment, written into every dispatch (required).
    github_repo: ``<owner>/<repo>`` whose promote workflow receives the dispatch (required;
        ``ciRunner.githubRepo``).
    endpoints: the promotable endpoints, one rule each (required; none makes no rule).
    key: the ``dispatch`` key (required): the connection's secret and the dead-letter queue.
    alarm_topic_arn: the alert topic the dead-letter alarm notifies (required).
    """

    config: PromotionConfig
    scope: AwsScope
    environment: str
    github_repo: str
    endpoints: Sequence[PromotedEndpoint]
    key: PlatformKey
    alarm_topic_arn: pulumi.Input[str]


def dispatch_body_template(environment: str, endpoint: str) -> str:
    """The input template: GitHub's repository_dispatch body for an approval of ``endpoint``'s group.

    Placeholders sit inside JSON strings, where EventBridge inserts the value as text, so the
    version (a number in the event) arrives as a string and every value is valid JSON.
    """
    payload = {"environment": environment, "endpoint": endpoint, "group": "<group>", "version": "<version>", "modelPackageArn": "<package>"}
    return json.dumps({"event_type": DISPATCH_EVENT_TYPE, "client_payload": payload})


DISPATCH_INPUT_PATHS = {"group": "$.detail.ModelPackageGroupName", "version": "$.detail.ModelPackageVersion", "package": "$.detail.ModelPackageArn"}


def approval_pattern(group: str) -> str:
    return json.dumps(
        {"source": [SAGEMAKER_SOURCE], "detail-type": [MODEL_PACKAGE_STATE_CHANGE], "detail": {"ModelPackageGroupName": [group], "ModelApprovalStatus": [APPROVED]}},
        sort_keys=True,
    )


class ApprovalDispatch(pulumi.ComponentResource):
    """The connection, API destination, invoke role, dead-letter queue and alarm, and one rule and
    target per promotable endpoint.

    Attributes: ``connection``, ``api_destination``, ``role``, ``queue``, ``queue_policy``,
    ``dead_letter_alarm``, ``rules`` and ``targets`` (endpoint -> rule / target) and ``outputs``
    (the ``promotion`` stack output).
    """

    def __init__(self, name: str, args: ApprovalDispatchArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:promotion:ApprovalDispatch", name, None, opts)
        scope, config = args.scope, args.config
        child = pulumi.ResourceOptions(parent=self)
        connection_name = dispatch_connection_name(scope.name_stem)
        headers = [aws.cloudwatch.EventConnectionAuthParametersInvocationHttpParametersHeaderArgs(key=k, value=v, is_value_secret=False)
                   for k, v in GITHUB_API_HEADERS.items()]
        self.connection = aws.cloudwatch.EventConnection(
            f"{name}-connection",
            name=connection_name,
            description=f"GitHub repository_dispatch on {args.github_repo} (token set with mlopsctl dispatch-token)",
            authorization_type=DISPATCH_AUTHORIZATION_TYPE,
            auth_parameters=aws.cloudwatch.EventConnectionAuthParametersArgs(
                api_key=aws.cloudwatch.EventConnectionAuthParametersApiKeyArgs(key=DISPATCH_AUTH_HEADER, value=DISPATCH_TOKEN_PLACEHOLDER),
                invocation_http_parameters=aws.cloudwatch.EventConnectionAuthParametersInvocationHttpParametersArgs(headers=headers),
            ),
            kms_key_identifier=args.key.arn,
            # The token is set out of band; Pulumi must neither hold it nor put the placeholder back.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=[DISPATCH_TOKEN_INPUT]),
        )
        self.api_destination = aws.cloudwatch.EventApiDestination(
            f"{name}-api-destination",
            name=connection_name,
            description=f"POST {GITHUB_API}/repos/{args.github_repo}/dispatches",
            connection_arn=self.connection.arn,
            http_method="POST",
            invocation_endpoint=f"{GITHUB_API}/repos/{args.github_repo}/dispatches",
            invocation_rate_limit_per_second=config.invocation_rate_per_second,
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            f"{name}-dead-letters",
            name=dispatch_queue_name(scope.name_stem),
            kms_master_key_id=args.key.arn,
            kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=config.dead_letter_retention_seconds,
            opts=child,
        )
        rule_names = {e.name: dispatch_rule_name(scope.name_stem, e.name) for e in args.endpoints}
        rule_arns = [pulumi.Output.concat("arn:", scope.partition, ":events:", scope.region, ":", scope.account_id, ":rule/", rule) for rule in rule_names.values()]
        self.role = service_role(
            f"{name}-invoke-role",
            scope,
            service="events.amazonaws.com",
            description=f"EventBridge calls GitHub's repository_dispatch for {scope.name_stem}'s approval rules",
            # Only this stack's approval rules may use the role (the confused-deputy guard).
            extra_conditions={"ArnLike": {"aws:SourceArn": pulumi.Output.concat("arn:", scope.partition, ":events:", scope.region, ":", scope.account_id,
                                                                                ":rule/", scope.name_stem, "-*-promote")}},
            opts=child,
        )
        self.role_policy = inline_policy(
            f"{name}-invoke-policy",
            self.role,
            [Statement(sid="InvokeTheGitHubDispatchDestination", actions=["events:InvokeApiDestination"],
                       # The ARN ends in /<uuid> after the name, so the name and any id after it.
                       resources=[pulumi.Output.concat("arn:", scope.partition, ":events:", scope.region, ":", scope.account_id, ":api-destination/",
                                                       connection_name, "/*")])],
            child,
        )
        self.queue_policy = aws.sqs.QueuePolicy(
            f"{name}-dead-letters-policy",
            queue_url=self.queue.url,
            policy=policy_document(self._queue_statements(rule_arns), kind="resource"),
            opts=child,
        )
        self.dead_letter_alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-dead-letters-alarm",
            name=f"{dispatch_queue_name(scope.name_stem)}-not-empty",
            alarm_description="Approvals GitHub did not accept after every retry (token unset, expired or revoked; GitHub down): see docs/promotion.md",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": self.queue.name},
            statistic="Maximum",
            period=DEAD_LETTER_ALARM_PERIOD_S,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.alarm_topic_arn],
            ok_actions=[args.alarm_topic_arn],
            opts=child,
        )
        self.rules: dict[str, aws.cloudwatch.EventRule] = {}
        self.targets: dict[str, aws.cloudwatch.EventTarget] = {}
        for endpoint in args.endpoints:
            self._route(name, args, endpoint, rule_names[endpoint.name])
        self.outputs: dict[str, pulumi.Input] = {
            "connectionName": self.connection.name,
            "apiDestinationName": self.api_destination.name,
            "deadLetterQueueName": self.queue.name,
            "deadLetterQueueUrl": self.queue.url,
            "rules": {endpoint: rule.name for endpoint, rule in self.rules.items()},
        }
        self.register_outputs(self.outputs)

    def _queue_statements(self, rule_arns: list[pulumi.Output[str]]) -> list[Statement]:
        statements = [
            Statement(
                sid="DenyInsecureTransport", effect="Deny", principals={"AWS": "*"}, actions=["sqs:*"], resources=[self.queue.arn],
                conditions={"Bool": {"aws:SecureTransport": "false"}},
            )
        ]
        if rule_arns:
            statements.insert(0, Statement(
                sid="AllowThisStacksApprovalRules", principals={"Service": ["events.amazonaws.com"]}, actions=["sqs:SendMessage"], resources=[self.queue.arn],
                conditions={"ArnEquals": {"aws:SourceArn": rule_arns}},
            ))
        return statements

    def _route(self, name: str, args: ApprovalDispatchArgs, endpoint: PromotedEndpoint, rule_name: str) -> None:
        config = args.config
        rule = aws.cloudwatch.EventRule(
            f"{name}-{endpoint.name}",
            name=rule_name,
            description=f"An approved {endpoint.group} package dispatches GitHub's promote workflow for {endpoint.name}",
            event_pattern=approval_pattern(endpoint.group),
            # The cost model prices the API destination's invocations from this volume.
            tags={EXPECTED_DISPATCHES_TAG: str(config.expected_approvals_per_month)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.rules[endpoint.name] = rule
        self.targets[endpoint.name] = aws.cloudwatch.EventTarget(
            f"{name}-{endpoint.name}-target",
            rule=rule.name,
            target_id=TARGET_ID,
            arn=self.api_destination.arn,
            role_arn=self.role.arn,
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                input_paths=DISPATCH_INPUT_PATHS, input_template=dispatch_body_template(args.environment, endpoint.name)
            ),
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                maximum_retry_attempts=config.retry_attempts, maximum_event_age_in_seconds=config.maximum_event_age_seconds
            ),
            dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=self.queue.arn),
            # The queue must admit the rule before EventBridge's first dead letter.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.queue_policy, self.role_policy]),
        )
