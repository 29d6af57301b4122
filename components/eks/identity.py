"""Workload identity: EKS Pod Identity roles and associations, used for every pod that calls AWS.

Why Pod Identity and not IRSA: no OIDC provider or thumbprint to manage, one trust policy shape
for every role (the ``pods.eks.amazonaws.com`` service, narrowed by the session tags EKS sets),
and credentials come from the node-local agent on a link-local address, so IMDS can stay at hop
limit 1. The trust below names the cluster, namespace and service account, so a role cannot be
borrowed by another association in the same account.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components.iam.policy import Statement, policy_document
from components.scope import AwsScope

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def pod_identity_trust(scope: AwsScope, *, cluster_name: str, namespace: str, service_account: str) -> Statement:
    """Trust for exactly one service account of one cluster in ``scope``'s account (session tags
    set by EKS Pod Identity)."""
    return Statement(
        sid="EksPodIdentity",
        actions=["sts:AssumeRole", "sts:TagSession"],
        principals={"Service": [POD_IDENTITY_PRINCIPAL]},
        conditions={
            "StringEquals": {
                "aws:SourceAccount": scope.account_id,
                "aws:RequestTag/eks-cluster-name": cluster_name,
                "aws:RequestTag/kubernetes-namespace": namespace,
                "aws:RequestTag/kubernetes-service-account": service_account,
            }
        },
    )


def pod_identity_role(
    name: str,
    scope: AwsScope,
    *,
    cluster_name: str,
    namespace: str,
    service_account: str,
    description: str,
    opts: pulumi.ResourceOptions,
    managed_policy_arns: Sequence[pulumi.Input[str]] = (),
) -> aws.iam.Role:
    """A role only ``namespace/service_account`` of ``cluster_name`` in ``scope``'s account can
    assume, via Pod Identity, with ``scope``'s permissions boundary."""
    trust = pod_identity_trust(scope, cluster_name=cluster_name, namespace=namespace, service_account=service_account)
    role = aws.iam.Role(
        name,
        description=description,
        assume_role_policy=policy_document([trust]),
        permissions_boundary=scope.permissions_boundary_arn,
        max_session_duration=3600,
        opts=opts,
    )
    for index, policy_arn in enumerate(managed_policy_arns):
        aws.iam.RolePolicyAttachment(f"{name}-managed-{index}", role=role.name, policy_arn=policy_arn, opts=opts)
    return role


def associate(
    name: str,
    *,
    cluster_name: pulumi.Input[str],
    namespace: str,
    service_account: str,
    role: aws.iam.Role,
    opts: pulumi.ResourceOptions,
) -> aws.eks.PodIdentityAssociation:
    """Bind ``namespace/service_account`` to ``role`` (the agent hands pods its credentials)."""
    return aws.eks.PodIdentityAssociation(
        name,
        cluster_name=cluster_name,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        opts=opts,
    )
