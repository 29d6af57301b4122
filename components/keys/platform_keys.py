"""PlatformKeys: one customer-managed KMS key per purpose, each with a purpose-specific key policy.

Why one key per purpose: a key policy can only be as narrow as the widest use of its key. The log
key must trust the CloudWatch Logs service principal and the EBS key the Auto Scaling
service-linked role; sharing one key would hand both of them the artifact store's data key.

Every key policy starts with the standard "enable IAM policies" statement (the account root may
administer and use the key), so identity policies built from the keys' grants
(:class:`~components.keys.grants.PlatformKey`) decide who may use a key; no other principal is
trusted unless its purpose demands it. Without that statement, a key whose policy names no
administrator becomes unmanageable.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from pydantic.alias_generators import to_camel

from components.config import alerts_topic_name, artifact_bucket_prefix, dispatch_queue_name
from components.iam.peers import PeerStack
from components.iam.policy import Statement, policy_document
from components.keys.grants import KEY_USE_ACTIONS, KmsAction, PlatformKey, key_statement
from components.scope import AwsScope
from policies.awsfacts import EVENTBRIDGE_CONNECTION_KEY_TAG

# purpose -> (alias stem, description). The alias is ``alias/<name_prefix>-<env>-<stem>``.
KEY_PURPOSES: dict[str, tuple[str, str]] = {
    "artifacts": ("artifacts", "Artifact store objects, SageMaker data capture and endpoint volumes"),
    "eks_secrets": ("eks-secrets", "EKS envelope encryption of Kubernetes secrets"),
    "ebs": ("ebs", "EBS root and data volumes of EKS nodes"),
    "logs": ("logs", "CloudWatch Logs log groups"),
    "alerts": ("alerts", "The SNS alert topic's messages, published by CloudWatch alarms and EventBridge rules"),
    "images": ("images", "ECR repositories of training and serving images"),
    "dispatch": ("dispatch", "The approval dispatch: its GitHub token (the EventBridge connection's secret) and its dead-letter queue"),
}
# Tags a service requires of a key itself: EventBridge uses the dispatch key for the connection's secret only with this one.
KEY_TAGS: dict[str, dict[str, str]] = {"dispatch": {EVENTBRIDGE_CONNECTION_KEY_TAG: "true"}}

AUTOSCALING_SERVICE_LINKED_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


@dataclass(frozen=True)
class PlatformKeysArgs:
    """Inputs of :class:`PlatformKeys`.

    scope: the stack's account, partition and region (the key policies name them) and the name
        stem of the aliases (required).
    deletion_window_days: KMS deletion window of every key (required; ``storage.kmsDeletionWindowDays``).
    protect: Pulumi protect and retainOnDelete on every key (default False; ``storage.protect``).
    shared_with: the stack the artifact store's ``models/`` are shared with (``promotion.promotesTo``;
        default None): its serving roles may decrypt them through S3 (:func:`shared_models_statement`).
    """

    scope: AwsScope
    deletion_window_days: int
    protect: bool = False
    shared_with: PeerStack | None = None


def account_root_arn(scope: AwsScope) -> pulumi.Output[str]:
    return pulumi.Output.concat("arn:", scope.partition, ":iam::", scope.account_id, ":root")


def key_admin_statement(scope: AwsScope) -> Statement:
    """AWS's default key policy statement: IAM policies of this account decide who uses the key.

    ``kms:*`` on ``*`` is what AWS itself writes here; in a key policy ``*`` means "this key".
    """
    return Statement(
        sid="EnableIamPolicies",
        principals={"AWS": [account_root_arn(scope)]},
        actions=["kms:*"],
        resources=["*"],
    )


def key_policy_statements(purpose: str, scope: AwsScope, *, region: str | None = None, shared_with: PeerStack | None = None) -> list[Statement]:
    """The key policy of the key for ``purpose`` (one of :data:`KEY_PURPOSES`) in ``scope``'s
    account, for a key in ``region`` (default the scope's); the artifacts key also lets
    ``shared_with``'s serving roles read the shared models."""
    if purpose not in KEY_PURPOSES:
        raise ValueError(f"unknown key purpose {purpose!r}; known: {', '.join(KEY_PURPOSES)}")
    region = region or scope.region
    partition, account_id = scope.partition, scope.account_id
    statements = [key_admin_statement(scope)]
    if purpose == "ebs":
        # EKS managed node groups launch through Auto Scaling, which creates the encrypted volumes
        # as its service-linked role. Without these two statements instances fail to launch
        # (Client.InternalError) and node groups never become ready.
        autoscaling_role = pulumi.Output.concat("arn:", partition, ":iam::", account_id, ":", AUTOSCALING_SERVICE_LINKED_ROLE)
        statements += [
            key_statement("AllowAutoScalingToUseKeyForVolumes", KEY_USE_ACTIONS, principals={"AWS": [autoscaling_role]}, resources=["*"]),
            key_statement(
                "AllowAutoScalingToAttachVolumes", [KmsAction.CREATE_GRANT], principals={"AWS": [autoscaling_role]}, resources=["*"], for_aws_resources=True
            ),
        ]
    elif purpose == "logs":
        # CloudWatch Logs encrypts as its regional service principal. The encryption-context
        # condition limits it to this account's log groups in this region.
        statements.append(
            Statement(
                sid="AllowCloudWatchLogsForThisAccountsLogGroups",
                principals={"Service": [f"logs.{region}.amazonaws.com"]},
                actions=[a.value for a in KEY_USE_ACTIONS],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": pulumi.Output.concat(
                            "arn:", partition, ":logs:", region, ":", account_id, ":log-group:*"
                        )
                    }
                },
            )
        )
    elif purpose == "alerts":
        statements += alerts_key_statements(scope, region)
    elif purpose == "dispatch":
        statements += dispatch_key_statements(scope, region)
    elif purpose == "artifacts" and shared_with is not None:
        statements.append(shared_models_statement(scope, region, shared_with))
    # artifacts and eks_secrets: used only by principals that hold an identity-policy grant (the
    # store's grants, the EKS cluster role, the replication role), so nothing beyond the admin
    # statement is trusted here; the one exception is the next environment's serving roles, which
    # are in another account (shared_models_statement). images: ECR uses it through the grants it
    # creates on the key when the deploy role creates a repository (its identity policy allows
    # that) and decrypts layers itself on a pull (ECR's guide, "Encryption at rest"); pullers and
    # pushers, the next environment's included, need no key permission, so nothing more is trusted.
    return statements


def shared_models_statement(scope: AwsScope, region: str, shared_with: PeerStack) -> Statement:
    """Decrypt for the serving roles of ``shared_with`` (another account), reading this stack's models through S3.

    Another account's roles need the key policy itself to allow them (their identity policy alone
    cannot), so the statement names that account's root, narrowed by ``aws:PrincipalArn`` to its
    serving roles' IAM path; only through S3 in this region (``kms:ViaService``), and only for the
    artifact bucket (its encryption context: the bucket ARN with the bucket key, the object ARN
    without). Which prefix the roles read is the bucket policy's business (``models/`` only).
    """
    bucket = pulumi.Output.concat("arn:", scope.partition, ":s3:::", artifact_bucket_prefix(scope.name_stem), "*")
    return key_statement(
        "AllowPromotedToServingRolesToReadModelsThroughS3", [KmsAction.DECRYPT], principals={"AWS": [shared_with.root_arn]}, resources=["*"],
        via_service=f"s3.{region}.amazonaws.com", encryption_context={"aws:s3:arn": bucket}, principal_arn_like=[shared_with.serving_roles_arn_pattern],
    )


# What a publisher to an SSE-KMS topic needs: a data key to encrypt the message, and Decrypt of it
# (SNS docs, "Enable compatibility between event sources from AWS services and encrypted topics").
TOPIC_PUBLISH_KEY_ACTIONS: tuple[KmsAction, ...] = (KmsAction.DECRYPT, KmsAction.GENERATE_DATA_KEY)
# A producer to an SSE-KMS queue needs the same two (SQS guide, "Key management").
QUEUE_SEND_KEY_ACTIONS = TOPIC_PUBLISH_KEY_ACTIONS


def alerts_key_statements(scope: AwsScope, region: str) -> list[Statement]:
    """The alerts key lets exactly the two services that publish to the alert topic use it, for that topic only.

    SNS encrypts each message under a data key it requests as the publisher, with the topic's ARN as
    encryption context, so the services need the key themselves: an encrypted topic whose key
    CloudWatch cannot use drops every alarm notification without an error anywhere.
    - CloudWatch alarms send ``aws:SourceAccount`` and ``aws:SourceArn`` (the alarm): only this
      account's alarms in this region.
    - EventBridge's requests carry neither key (its guide: those conditions are not supported in a
      KMS key policy for SNS targets), so a condition on them would never hold; the topic's
      encryption context scopes its statement instead, and the topic policy names this stack's rules.
    """
    partition, account_id = scope.partition, scope.account_id
    topic = pulumi.Output.concat("arn:", partition, ":sns:", region, ":", account_id, ":", alerts_topic_name(scope.name_stem))
    context = {"aws:sns:topicArn": topic}
    alarms = pulumi.Output.concat("arn:", partition, ":cloudwatch:", region, ":", account_id, ":alarm:*")
    return [
        key_statement(
            "AllowCloudWatchAlarmsOfThisAccount", TOPIC_PUBLISH_KEY_ACTIONS, principals={"Service": ["cloudwatch.amazonaws.com"]}, resources=["*"],
            encryption_context=context, source_account=account_id, source_arn_like=alarms,
        ),
        key_statement(
            "AllowEventBridgeForTheAlertTopic", TOPIC_PUBLISH_KEY_ACTIONS, principals={"Service": ["events.amazonaws.com"]}, resources=["*"],
            encryption_context=context,
        ),
    ]


def dispatch_key_statements(scope: AwsScope, region: str) -> list[Statement]:
    """EventBridge may encrypt into the dispatch's dead-letter queue, and only that queue.

    An approval GitHub did not take is sent by EventBridge itself to the SSE-KMS queue, so the
    service needs a data key under the queue's encryption context (SQS binds ``aws:sqs:arn``).
    The connection's secret needs nothing here: Secrets Manager uses the key on behalf of the
    caller (the deploy role, ``mlopsctl dispatch-token``) and of EventBridge's service-linked role,
    whose IAM permissions the admin statement lets decide, and the key's tag admits it.
    """
    queue = pulumi.Output.concat("arn:", scope.partition, ":sqs:", region, ":", scope.account_id, ":", dispatch_queue_name(scope.name_stem))
    return [
        key_statement(
            "AllowEventBridgeForTheDispatchDeadLetterQueue", QUEUE_SEND_KEY_ACTIONS, principals={"Service": ["events.amazonaws.com"]}, resources=["*"],
            encryption_context={"aws:sqs:arn": queue},
        ),
    ]


def customer_managed_key(
    name: str,
    *,
    description: str,
    deletion_window_days: int,
    policy: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    region: str | None = None,
    purpose_tags: dict[str, str] | None = None,
) -> aws.kms.Key:
    """A symmetric encrypt/decrypt key with yearly rotation and an explicit policy.

    region: pulumi-aws v7's per-resource region (None: the provider's region).
    purpose_tags: tags a service requires of the key itself (:data:`KEY_TAGS`); the stack's own
        tags arrive through the provider's default tags.
    """
    return aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=deletion_window_days,
        key_usage="ENCRYPT_DECRYPT",
        customer_master_key_spec="SYMMETRIC_DEFAULT",
        policy=policy,
        region=region,
        tags=purpose_tags,
        opts=opts,
    )


class PlatformKeys(pulumi.ComponentResource):
    """The platform's customer-managed KMS keys.

    Attributes: ``artifacts``, ``eks_secrets``, ``ebs``, ``logs``, ``alerts``, ``images``, ``dispatch`` (:class:`PlatformKey`: the ARN
    and the grants other components use), ``keys`` and ``aliases`` (purpose -> ``aws.kms.Key`` /
    ``aws.kms.Alias``), ``arns`` (purpose -> ARN) and ``output_arns`` (the ``kmsKeys`` stack output).
    """

    artifacts: PlatformKey
    eks_secrets: PlatformKey
    ebs: PlatformKey
    logs: PlatformKey
    alerts: PlatformKey
    images: PlatformKey
    dispatch: PlatformKey

    def __init__(self, name: str, args: PlatformKeysArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:security:PlatformKeys", name, None, opts)
        scope = args.scope
        self.keys: dict[str, aws.kms.Key] = {}
        self.aliases: dict[str, aws.kms.Alias] = {}
        for purpose, (stem, description) in KEY_PURPOSES.items():
            key = customer_managed_key(
                f"{name}-{stem}",
                description=f"{scope.name(stem)}: {description}",
                deletion_window_days=args.deletion_window_days,
                policy=policy_document(key_policy_statements(purpose, scope, shared_with=args.shared_with), kind="key"),
                purpose_tags=KEY_TAGS.get(purpose),
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
            )
            self.aliases[purpose] = aws.kms.Alias(
                f"{name}-{stem}-alias",
                name=f"alias/{scope.name(stem)}",
                target_key_id=key.key_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.keys[purpose] = key
            setattr(self, purpose, PlatformKey(arn=key.arn))
        self.arns: dict[str, pulumi.Output[str]] = {purpose: key.arn for purpose, key in self.keys.items()}
        # Stack-output shape: {"artifacts": arn, "eksSecrets": arn, "ebs": arn, "logs": arn, "alerts": arn, "images": arn, "dispatch": arn}.
        self.output_arns: dict[str, pulumi.Output[str]] = {to_camel(purpose): arn for purpose, arn in self.arns.items()}
        self.register_outputs(self.output_arns)
