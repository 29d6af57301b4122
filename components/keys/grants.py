"""How a principal gets to use a platform key: the one place that writes ``kms:`` statements.

Components never spell out KMS actions or condition keys themselves. They hold a
:class:`PlatformKey` and ask it for a statement (to merge into a policy they compose, the way
``ArtifactStore.grant_statements`` is used) or for a whole inline policy (:meth:`PlatformKey.grant`,
the way ``ArtifactStore.grant_read`` is used). Actions are :class:`KmsAction` members, each one
exact operation: a wildcard such as ``kms:ReEncrypt*`` cannot be written, so a reader and the
policy checks see exactly what is granted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam.policy import PRINCIPAL_ARN, Statement, expand_action
from components.iam.roles import inline_policy

GRANT_FOR_AWS_RESOURCE = "kms:GrantIsForAWSResource"


class KmsAction(StrEnum):
    """The KMS operations platform statements may allow, each by its exact IAM action name."""

    ENCRYPT = "kms:Encrypt"
    DECRYPT = "kms:Decrypt"
    RE_ENCRYPT_FROM = "kms:ReEncryptFrom"
    RE_ENCRYPT_TO = "kms:ReEncryptTo"
    GENERATE_DATA_KEY = "kms:GenerateDataKey"
    GENERATE_DATA_KEY_WITHOUT_PLAINTEXT = "kms:GenerateDataKeyWithoutPlaintext"
    DESCRIBE_KEY = "kms:DescribeKey"
    CREATE_GRANT = "kms:CreateGrant"
    LIST_GRANTS = "kms:ListGrants"
    REVOKE_GRANT = "kms:RevokeGrant"


# Data-key operations a service needs to encrypt and decrypt on a principal's behalf (the
# ReEncrypt API call is authorised as both ReEncryptFrom and ReEncryptTo). Data key *pairs*
# (GenerateDataKeyPair*) are asymmetric-client operations no platform service performs.
KEY_USE_ACTIONS: tuple[KmsAction, ...] = (
    KmsAction.ENCRYPT,
    KmsAction.DECRYPT,
    KmsAction.RE_ENCRYPT_FROM,
    KmsAction.RE_ENCRYPT_TO,
    KmsAction.GENERATE_DATA_KEY,
    KmsAction.GENERATE_DATA_KEY_WITHOUT_PLAINTEXT,
    KmsAction.DESCRIBE_KEY,
)
# What a service needs to hand a key on to the AWS resource it manages (EBS attaching a volume).
GRANT_ACTIONS: tuple[KmsAction, ...] = (KmsAction.CREATE_GRANT, KmsAction.LIST_GRANTS, KmsAction.REVOKE_GRANT)


def key_statement(
    sid: str,
    actions: Sequence[KmsAction],
    *,
    resources: Sequence[pulumi.Input[str]],
    principals: Mapping[str, Sequence[pulumi.Input[str]]] | None = None,
    via_service: pulumi.Input[str] | None = None,
    encryption_context: Mapping[str, Any] | None = None,
    for_aws_resources: bool = False,
    source_account: pulumi.Input[str] | None = None,
    source_arn_like: pulumi.Input[str] | None = None,
    principal_arn_like: Sequence[pulumi.Input[str]] = (),
) -> Statement:
    """An Allow statement of exact KMS ``actions`` on ``resources``.

    principals: for key policies (default none: an identity-policy statement).
    via_service: only through this service endpoint, e.g. ``s3.us-east-1.amazonaws.com``
        (``kms:ViaService``).
    encryption_context: context key -> allowed values, matched with ``StringLike``, e.g.
        ``{"aws:s3:arn": [bucket_arn, bucket_arn + "/*"]}`` (``kms:EncryptionContext:<key>``).
    for_aws_resources: only grants an AWS service creates for a resource it manages
        (``kms:GrantIsForAWSResource``). Only the grant actions carry that key; any other action
        under it would never be allowed, so that is refused here.
    source_account, source_arn_like: for a service principal acting for a resource of its own
        (a CloudWatch alarm publishing to an encrypted topic): only on behalf of resources of this
        account (``aws:SourceAccount``) whose ARN matches (``aws:SourceArn``, ``ArnLike``), the
        confused-deputy guard. Only for services that send these keys with their KMS requests.
    principal_arn_like: for another account's root principal: only its principals whose ARN
        matches one of these patterns (``aws:PrincipalArn``, ``ArnLike``). A key policy cannot name
        a role that does not exist yet; the account root and a pattern can.
    """
    if not actions or any(not isinstance(a, KmsAction) for a in actions):
        raise ValueError(f"statement {sid}: a key statement lists KmsAction members, got {list(actions)}")
    if for_aws_resources:
        unguarded = [a for a in actions if not all(GRANT_FOR_AWS_RESOURCE in d["conditionKeys"] for d in expand_action(a))]
        if unguarded:
            raise ValueError(f"statement {sid}: {', '.join(unguarded)} never carries {GRANT_FOR_AWS_RESOURCE}; allow it in its own statement")
    conditions: dict[str, dict[str, Any]] = {}
    if via_service is not None:
        conditions["StringEquals"] = {"kms:ViaService": via_service}
    if source_account is not None:
        conditions.setdefault("StringEquals", {})["aws:SourceAccount"] = source_account
    if source_arn_like is not None:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn_like}
    if principal_arn_like:
        conditions.setdefault("ArnLike", {})[PRINCIPAL_ARN] = list(principal_arn_like)
    if encryption_context:
        conditions["StringLike"] = {f"kms:EncryptionContext:{key}": value for key, value in encryption_context.items()}
    if for_aws_resources:
        conditions["Bool"] = {GRANT_FOR_AWS_RESOURCE: "true"}
    return Statement(
        sid=sid,
        principals=principals,
        actions=[a.value for a in actions],
        resources=list(resources),
        conditions=conditions or None,
    )


@dataclass(frozen=True)
class PlatformKey:
    """One customer-managed key as the components that use it see it.

    arn: the key's ARN (required; an Output of the ``aws.kms.Key`` or, in tests, a literal).
    """

    arn: pulumi.Input[str]

    def allow(
        self,
        sid: str,
        actions: Sequence[KmsAction],
        *,
        via_service: pulumi.Input[str] | None = None,
        encryption_context: Mapping[str, Any] | None = None,
        for_aws_resources: bool = False,
    ) -> Statement:
        """A statement allowing ``actions`` on this key only, for composing a policy (see
        :func:`key_statement` for the conditions)."""
        return key_statement(
            sid, actions, resources=[self.arn], via_service=via_service, encryption_context=encryption_context, for_aws_resources=for_aws_resources
        )

    def grant(
        self,
        name: str,
        role: aws.iam.Role,
        sid: str,
        actions: Sequence[KmsAction],
        *,
        opts: pulumi.ResourceOptions,
        via_service: pulumi.Input[str] | None = None,
    ) -> aws.iam.RolePolicy:
        """Let ``role`` call ``actions`` on this key only: an inline policy named ``name`` with
        ``opts``, so it sits in the tree of the component that owns the role."""
        return inline_policy(name, role, [self.allow(sid, actions, via_service=via_service)], opts)
