"""Cluster access entries (authentication mode API), from config only: admins and the deploy role.

With cluster-creator admin off, nobody reaches the Kubernetes API without an entry. The entries
come from the stack file alone, never from whoever runs the program: a PR preview (read-only role)
and a laptop ``pulumi up`` then plan exactly the entries CI deploys. A single-person setup names
its own role under ``eks.adminRoleArns``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.scope import AwsScope

CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True)
class ClusterAccess:
    principals: dict[str, str]  # principal ARN -> why it has access
    associations: dict[str, aws.eks.AccessPolicyAssociation]  # principal ARN -> association


def admin_principals(admin_role_arns: Sequence[str], deploy_role_arn: str | None) -> dict[str, str]:
    """Principal ARN -> reason, deduplicated, in a stable order (admins, then the deploy role)."""
    principals: dict[str, str] = {}
    for arn in admin_role_arns:
        principals.setdefault(arn, "admin")
    if deploy_role_arn:
        principals.setdefault(deploy_role_arn, "deploy")
    return principals


def cluster_access(
    name: str,
    scope: AwsScope,
    *,
    cluster: aws.eks.Cluster,
    admin_role_arns: Sequence[str],
    deploy_role_arn: str | None,
    opts: pulumi.ResourceOptions,
) -> ClusterAccess:
    tags = dict(scope.tags)
    principals = admin_principals(admin_role_arns, deploy_role_arn)
    associations: dict[str, aws.eks.AccessPolicyAssociation] = {}
    for arn in principals:
        # Named by the principal, not its position, so reordering the config replaces nothing.
        suffix = f"{arn.rsplit('/', 1)[-1]}-{hashlib.sha256(arn.encode()).hexdigest()[:6]}"
        entry = aws.eks.AccessEntry(
            f"{name}-access-{suffix}",
            cluster_name=cluster.name,
            principal_arn=arn,
            type="STANDARD",
            tags=tags,
            opts=opts,
        )
        associations[arn] = aws.eks.AccessPolicyAssociation(
            f"{name}-access-{suffix}-admin",
            cluster_name=cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=pulumi.Output.concat("arn:", scope.partition, f":eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}"),
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=opts,
        )
    return ClusterAccess(principals=principals, associations=associations)
