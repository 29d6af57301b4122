"""PlatformAlerts: the stack's one alert topic, who hears it, and the EventBridge rules that feed it.

The topic is SSE-KMS under the platform's ``alerts`` key (components/keys: its policy lets
CloudWatch alarms and EventBridge use it for this topic only). Its policy lets exactly this
account's CloudWatch alarms and this stack's EventBridge rules publish, and refuses anything but
TLS. Subscriptions come from ``alerts.subscriptions``; SNS holds each one pending until its owner
confirms it (docs/alerts.md). Alarms are wired to the topic by the components that create them,
through :attr:`PlatformAlerts.topic_arn`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alerts.events import AlertRule, alert_rules
from components.config import AlertsConfig, alerts_topic_name
from components.iam.policy import Statement, policy_document
from components.keys import PlatformKey
from components.scope import AwsScope
from policies.awsfacts import EXPECTED_NOTIFICATIONS_TAG

TARGET_ID = "alert-topic"


@dataclass(frozen=True)
class PlatformAlertsArgs:
    """Inputs of :class:`PlatformAlerts`.

    config: the validated ``alerts`` section: subscriptions (email, https) (required).
    scope: the stack's account and region (the topic and key policies' conditions), partition and
        name stem: the topic is ``<name stem>-alerts``, the rules ``<name stem>-<rule>``, and rules
        match endpoints and monitoring schedules named under the stem (required).
    key: the customer-managed key of the topic (required; the platform passes ``PlatformKeys.alerts``,
        whose policy already lets the publishing services use it for this topic).
    model_package_groups: the registry's model package group names; the approval rule matches
        these (default none: no approval rule).
    """

    config: AlertsConfig
    scope: AwsScope
    key: PlatformKey
    model_package_groups: Sequence[str] = ()


def topic_policy_statements(scope: AwsScope, topic_arn: pulumi.Input[str]) -> list[Statement]:
    """Publish for this account's alarms and this stack's rules only; nothing without TLS."""
    arn = pulumi.Output.concat("arn:", scope.partition, ":")
    in_this_account = pulumi.Output.concat(":", scope.region, ":", scope.account_id, ":")
    alarms = pulumi.Output.concat(arn, "cloudwatch", in_this_account, "alarm:*")
    rules = pulumi.Output.concat(arn, "events", in_this_account, "rule/", scope.name_stem, "-*")

    def publisher(sid: str, service: str, sources: pulumi.Input[str]) -> Statement:
        conditions = {"StringEquals": {"aws:SourceAccount": scope.account_id}, "ArnLike": {"aws:SourceArn": sources}}
        return Statement(sid=sid, principals={"Service": [service]}, actions=["sns:Publish"], resources=[topic_arn], conditions=conditions)

    return [
        publisher("AllowThisAccountsCloudWatchAlarms", "cloudwatch.amazonaws.com", alarms),
        publisher("AllowThisStacksEventBridgeRules", "events.amazonaws.com", rules),
        Statement(
            sid="DenyInsecureTransport",
            effect="Deny",
            principals={"AWS": "*"},
            actions=["sns:*"],
            resources=[topic_arn],
            conditions={"Bool": {"aws:SecureTransport": "false"}},
        ),
    ]


def _endpoint_slug(endpoint: str) -> str:
    # Logical names by endpoint, not position: reordering the list replaces nothing.
    return hashlib.sha256(endpoint.encode()).hexdigest()[:8]


class PlatformAlerts(pulumi.ComponentResource):
    """The alert topic, its policy and subscriptions, and one EventBridge rule and target per alert.

    Attributes: ``topic`` (``aws.sns.Topic``), ``topic_arn``, ``topic_policy``, ``subscriptions``
    (endpoint -> ``aws.sns.TopicSubscription``), ``rules`` and ``targets`` (rule stem ->
    ``aws.cloudwatch.EventRule`` / ``EventTarget``) and ``outputs`` (the ``alerts`` stack output).
    """

    def __init__(self, name: str, args: PlatformAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:alerts:PlatformAlerts", name, None, opts)
        scope = args.scope
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=alerts_topic_name(scope.name_stem),
            display_name=f"{scope.name_stem} platform alerts",
            kms_master_key_id=args.key.arn,
            # The cost model prices publishes and deliveries from this volume (policies/pricing).
            tags={EXPECTED_NOTIFICATIONS_TAG: str(args.config.expected_notifications_per_month)},
            opts=child,
        )
        self.topic_arn: pulumi.Output[str] = self.topic.arn
        self.topic_policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy", arn=self.topic.arn, policy=policy_document(topic_policy_statements(scope, self.topic.arn), kind="resource"), opts=child
        )
        self.subscriptions: dict[str, aws.sns.TopicSubscription] = {
            s.endpoint: aws.sns.TopicSubscription(
                f"{name}-{s.protocol}-{_endpoint_slug(s.endpoint)}", topic=self.topic.arn, protocol=s.protocol, endpoint=s.endpoint, opts=child
            )
            for s in args.config.subscriptions
        }
        self.rules: dict[str, aws.cloudwatch.EventRule] = {}
        self.targets: dict[str, aws.cloudwatch.EventTarget] = {}
        for rule in alert_rules(scope, args.model_package_groups):
            self._route(name, scope, rule)
        self.outputs: dict[str, pulumi.Input] = {
            "topicArn": self.topic_arn,
            "topicName": self.topic.name,
            "subscriptions": [{"protocol": s.protocol, "endpoint": s.endpoint} for s in args.config.subscriptions],
            "rules": {stem: rule.name for stem, rule in self.rules.items()},
        }
        self.register_outputs(self.outputs)

    def _route(self, name: str, scope: AwsScope, rule: AlertRule) -> None:
        """One rule and its target, the topic; the target waits for the policy that lets it publish."""
        event_rule = aws.cloudwatch.EventRule(
            f"{name}-{rule.stem}",
            # Named under the stem: the topic policy admits rules named <name stem>-*.
            name=scope.name(rule.stem),
            description=rule.description,
            event_pattern=rule.event_pattern(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.rules[rule.stem] = event_rule
        self.targets[rule.stem] = aws.cloudwatch.EventTarget(
            f"{name}-{rule.stem}-target",
            rule=event_rule.name,
            target_id=TARGET_ID,
            arn=self.topic.arn,
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(input_paths=dict(rule.paths), input_template=rule.input_template()),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.topic_policy]),
        )
