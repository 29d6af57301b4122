"""Role helpers: every platform role gets an explicit trust policy and the optional boundary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from components.iam.policy import Statement, policy_document
from components.scope import AwsScope


def service_role(
    name: str,
    scope: AwsScope,
    *,
    service: str,
    description: str,
    opts: pulumi.ResourceOptions,
    extra_conditions: dict | None = None,
    path: str | None = None,
    role_tags: Mapping[str, str] | None = None,
) -> aws.iam.Role:
    """A role only ``service`` (e.g. ``sagemaker.amazonaws.com``) can assume, for ``scope``'s
    account only, with ``scope``'s permissions boundary; ``path``: its IAM path (default ``/``);
    ``role_tags``: tags of the role besides the stack's default tags (default none).

    The ``aws:SourceAccount`` condition stops the confused-deputy problem: another account's use of
    the same service cannot borrow this role.
    """
    conditions = {"StringEquals": {"aws:SourceAccount": scope.account_id}}
    for operator, values in (extra_conditions or {}).items():
        conditions.setdefault(operator, {}).update(values)
    trust = Statement(
        sid="TrustService",
        actions=["sts:AssumeRole"],
        principals={"Service": [service]},
        conditions=conditions,
    )
    return aws.iam.Role(
        name,
        description=description,
        assume_role_policy=policy_document([trust], kind="trust"),
        permissions_boundary=scope.permissions_boundary_arn,
        max_session_duration=3600,
        path=path,
        tags=dict(role_tags) if role_tags else None,
        opts=opts,
    )


def inline_policy(name: str, role: aws.iam.Role, statements: Sequence[Statement], opts: pulumi.ResourceOptions) -> aws.iam.RolePolicy:
    """Attach ``statements`` to ``role`` as an inline policy named after ``name``."""
    return aws.iam.RolePolicy(name, role=role.id, policy=policy_document(statements, kind="identity"), opts=opts)
