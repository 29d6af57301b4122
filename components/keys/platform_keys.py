"""PlatformKeys: one customer-managed KMS key per purpose, each with a purpose-specific key policy.

Why one key per purpose: a key policy can only be as narrow as the widest use of its key. The log
key must trust the CloudWatch Logs service principal and the EBS key the Auto Scaling
service-linked role; sharing one key would hand both of them the artifact store's data key.

Every key policy starts with the standard "enable IAM policies" statement (the account root may
administer and use the key), so identity policies built by grants (``ArtifactStore.grant_read``
and friends) decide who may use a key; no other principal is trusted unless its purpose demands
it. Without that statement, a key whose policy names no administrator becomes unmanageable.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from pydantic.alias_generators import to_camel

from components.config import PlatformConfig
from components.iam.policy import Statement, policy_document
from components.iam.roles import inline_policy

# purpose -> (alias stem, description). The alias is ``alias/<name_prefix>-<env>-<stem>``.
KEY_PURPOSES: dict[str, tuple[str, str]] = {
    "artifacts": ("artifacts", "Artifact store objects, SageMaker data capture and endpoint volumes"),
    "eks_secrets": ("eks-secrets", "EKS envelope encryption of Kubernetes secrets"),
    "ebs": ("ebs", "EBS root and data volumes of EKS nodes"),
    "logs": ("logs", "CloudWatch Logs log groups"),
}

# Data-key operations a service needs to encrypt and decrypt on a principal's behalf. Spelled out
# rather than "kms:ReEncrypt*" so that a reader (and the policy checks) see exactly what is granted.
KEY_USE_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)

AUTOSCALING_SERVICE_LINKED_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


@dataclass(frozen=True)
class PlatformKeysArgs:
    """Inputs of :class:`PlatformKeys`.

    config: the validated stack configuration (required). Used: ``region``, ``resource_name`` for
        aliases, ``storage.kms_deletion_window_days`` and ``storage.protect`` (protect and
        retainOnDelete on every key).
    account_id: the AWS account the keys live in (required), e.g. from ``aws.get_caller_identity``.
    partition: the AWS partition (default ``"aws"``).
    """

    config: PlatformConfig
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str] = "aws"


def account_root_arn(partition: pulumi.Input[str], account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.concat("arn:", partition, ":iam::", account_id, ":root")


def key_admin_statement(partition: pulumi.Input[str], account_id: pulumi.Input[str]) -> Statement:
    """AWS's default key policy statement: IAM policies of this account decide who uses the key.

    ``kms:*`` on ``*`` is what AWS itself writes here; in a key policy ``*`` means "this key".
    """
    return Statement(
        sid="EnableIamPolicies",
        principals={"AWS": [account_root_arn(partition, account_id)]},
        actions=["kms:*"],
        resources=["*"],
    )


def key_policy_statements(purpose: str, *, region: str, account_id: pulumi.Input[str], partition: pulumi.Input[str] = "aws") -> list[Statement]:
    """The key policy of the key for ``purpose`` (one of :data:`KEY_PURPOSES`)."""
    if purpose not in KEY_PURPOSES:
        raise ValueError(f"unknown key purpose {purpose!r}; known: {', '.join(KEY_PURPOSES)}")
    statements = [key_admin_statement(partition, account_id)]
    if purpose == "ebs":
        # EKS managed node groups launch through Auto Scaling, which creates the encrypted volumes
        # as its service-linked role. Without these two statements instances fail to launch
        # (Client.InternalError) and node groups never become ready.
        autoscaling_role = pulumi.Output.concat("arn:", partition, ":iam::", account_id, ":", AUTOSCALING_SERVICE_LINKED_ROLE)
        statements += [
            Statement(
                sid="AllowAutoScalingToUseKeyForVolumes",
                principals={"AWS": [autoscaling_role]},
                actions=list(KEY_USE_ACTIONS),
                resources=["*"],
            ),
            Statement(
                sid="AllowAutoScalingToAttachVolumes",
                principals={"AWS": [autoscaling_role]},
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        ]
    elif purpose == "logs":
        # CloudWatch Logs encrypts as its regional service principal. The encryption-context
        # condition limits it to this account's log groups in this region.
        statements.append(
            Statement(
                sid="AllowCloudWatchLogsForThisAccountsLogGroups",
                principals={"Service": [f"logs.{region}.amazonaws.com"]},
                actions=list(KEY_USE_ACTIONS),
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
    # artifacts and eks_secrets: used only by principals that hold an identity-policy grant (the
    # store's grants, the EKS cluster role, the replication role), so nothing beyond the admin
    # statement is trusted here.
    return statements


def customer_managed_key(
    name: str,
    *,
    description: str,
    deletion_window_days: int,
    policy: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    region: str | None = None,
) -> aws.kms.Key:
    """A symmetric encrypt/decrypt key with yearly rotation and an explicit policy.

    region: pulumi-aws v7's per-resource region (None: the provider's region).
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
        opts=opts,
    )


class PlatformKeys(pulumi.ComponentResource):
    """The platform's customer-managed KMS keys.

    Attributes: ``artifacts``, ``eks_secrets``, ``ebs``, ``logs`` (``aws.kms.Key``), ``aliases``
    (purpose -> ``aws.kms.Alias``), and ``artifacts_arn``, ``eks_secrets_arn``, ``ebs_arn``,
    ``logs_arn`` (``Output[str]``).
    """

    artifacts: aws.kms.Key
    eks_secrets: aws.kms.Key
    ebs: aws.kms.Key
    logs: aws.kms.Key

    def __init__(self, name: str, args: PlatformKeysArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:security:PlatformKeys", name, None, opts)
        self._name_stem = name
        config = args.config
        protect = config.storage.protect
        self.keys: dict[str, aws.kms.Key] = {}
        self.aliases: dict[str, aws.kms.Alias] = {}
        for purpose, (stem, description) in KEY_PURPOSES.items():
            statements = key_policy_statements(purpose, region=config.region, account_id=args.account_id, partition=args.partition)
            key = customer_managed_key(
                f"{name}-{stem}",
                description=f"{config.resource_name(stem)}: {description}",
                deletion_window_days=config.storage.kms_deletion_window_days,
                policy=policy_document(statements, kind="key"),
                opts=pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect),
            )
            self.aliases[purpose] = aws.kms.Alias(
                f"{name}-{stem}-alias",
                name=f"alias/{config.resource_name(stem)}",
                target_key_id=key.key_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.keys[purpose] = key
            setattr(self, purpose, key)
            setattr(self, f"{purpose}_arn", key.arn)
        self.arns: dict[str, pulumi.Output[str]] = {purpose: key.arn for purpose, key in self.keys.items()}
        # Stack-output shape: {"artifacts": arn, "eksSecrets": arn, "ebs": arn, "logs": arn}.
        self.output_arns: dict[str, pulumi.Output[str]] = {to_camel(purpose): arn for purpose, arn in self.arns.items()}
        self.register_outputs(self.output_arns)

    def grant(self, role: aws.iam.Role, purpose: str, actions: list[str], *, via_service: str | None = None) -> aws.iam.RolePolicy:
        """Let ``role`` call ``actions`` (e.g. ``["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]``)
        on the key for ``purpose`` only, optionally only through ``via_service`` (e.g.
        ``"eks.us-east-1.amazonaws.com"``). An inline policy on the role, child of this component."""
        if purpose not in self.keys:
            raise ValueError(f"unknown key purpose {purpose!r}; known: {', '.join(self.keys)}")
        if not actions or any(not a.startswith("kms:") for a in actions):
            raise ValueError(f"a key grant lists kms: actions only, got {actions}")
        statement = Statement(
            sid=f"Use{to_camel(purpose)[0].upper()}{to_camel(purpose)[1:]}Key",
            actions=list(actions),
            resources=[self.keys[purpose].arn],
            conditions={"StringEquals": {"kms:ViaService": via_service}} if via_service else None,
        )
        return inline_policy(f"{self._name_stem}-{role._name}-{KEY_PURPOSES[purpose][0]}", role, [statement], opts=pulumi.ResourceOptions(parent=self))
