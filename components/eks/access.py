"""Cluster access entries (authentication mode API): admins, the CI deploy role and the deployer.

With cluster-creator admin off, the identity running ``pulumi up`` must be given an access entry
for its *role* (the issuer of its STS session, not the session ARN), or every pulumi-kubernetes
resource fails with Unauthorized. In-cluster resources depend on that identity's association.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True)
class ClusterAccess:
    deployer_principal_arn: str
    principals: dict[str, str]  # principal ARN -> why it has access
    associations: dict[str, aws.eks.AccessPolicyAssociation]  # principal ARN -> association

    @property
    def deployer_association(self) -> aws.eks.AccessPolicyAssociation:
        return self.associations[self.deployer_principal_arn]


def deployer_role_arn(opts: pulumi.InvokeOptions) -> str:
    """The IAM role (or user) behind the credentials running this program.

    Synchronous on purpose: whether the deployer needs its own entry or already is the deploy
    role decides which resources exist, so it must be known while the program is built. Call it
    before registering resources whose outputs may fail (blocking invokes drive the event loop).
    """
    caller = aws.get_caller_identity(opts=opts)
    # For an assumed-role session, issuer_arn is the role ARN (with its path); for a user it is
    # the user ARN itself.
    return aws.iam.get_session_context(arn=caller.arn, opts=opts).issuer_arn


def admin_principals(admin_role_arns: Sequence[str], deploy_role_arn: str | None, deployer_arn: str) -> dict[str, str]:
    """Principal ARN -> reason, deduplicated, in a stable order (admins, deploy role, deployer)."""
    principals: dict[str, str] = {}
    for arn in admin_role_arns:
        principals.setdefault(arn, "admin")
    if deploy_role_arn:
        principals.setdefault(deploy_role_arn, "deploy")
    principals.setdefault(deployer_arn, "deployer")
    return principals


def cluster_access(
    name: str,
    *,
    cluster: aws.eks.Cluster,
    admin_role_arns: Sequence[str],
    deploy_role_arn: str | None,
    deployer_arn: str,
    partition: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> ClusterAccess:
    principals = admin_principals(admin_role_arns, deploy_role_arn, deployer_arn)
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
            policy_arn=pulumi.Output.concat("arn:", partition, f":eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}"),
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=opts,
        )
    return ClusterAccess(deployer_principal_arn=deployer_arn, principals=principals, associations=associations)
