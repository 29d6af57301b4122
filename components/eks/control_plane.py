"""The EKS control plane: IAM role, API security group, log group and the cluster itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import EksConfig
from components.iam.roles import service_role
from components.keys import KmsAction, PlatformKey
from components.scope import AwsScope

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
CLUSTER_POLICY_ARN_SUFFIX = "policy/AmazonEKSClusterPolicy"


@dataclass(frozen=True)
class ControlPlane:
    cluster: aws.eks.Cluster
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    api_security_group: aws.ec2.SecurityGroup


def log_group_name(cluster_name: str) -> str:
    # EKS writes to exactly this name; creating it first lets us own retention and encryption.
    return f"/aws/eks/{cluster_name}/cluster"


def control_plane(
    name: str,
    scope: AwsScope,
    *,
    cluster_name: str,
    config: EksConfig,
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
    vpc_id: pulumi.Input[str],
    private_api_cidrs: Sequence[str],
    secrets_key: PlatformKey,
    logs_kms_key_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> ControlPlane:
    tags = dict(scope.tags)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-control-plane-logs",
        name=log_group_name(cluster_name),
        retention_in_days=config.log_retention_days,
        kms_key_id=logs_kms_key_arn,
        tags=tags,
        opts=opts,
    )

    role = service_role(f"{name}-cluster-role", scope, service="eks.amazonaws.com", description=f"EKS control plane of {cluster_name}", opts=opts)
    cluster_policy = aws.iam.RolePolicyAttachment(
        f"{name}-cluster-policy",
        role=role.name,
        policy_arn=pulumi.Output.concat("arn:", scope.partition, f":iam::aws:{CLUSTER_POLICY_ARN_SUFFIX}"),
        opts=opts,
    )
    # Envelope encryption: EKS uses the cluster role to wrap Kubernetes secrets with this key only.
    encryption_policy = secrets_key.grant(
        f"{name}-cluster-secrets-kms",
        role,
        "EnvelopeEncryptSecrets",
        [KmsAction.ENCRYPT, KmsAction.DECRYPT, KmsAction.LIST_GRANTS, KmsAction.DESCRIBE_KEY],
        opts=opts,
    )

    # EKS adds its own cluster security group for node <-> control plane traffic. This extra
    # group only opens the private API endpoint (443) to the given in-VPC ranges, e.g. for CI
    # runners and bastions reaching a private-only cluster.
    api_security_group = aws.ec2.SecurityGroup(
        f"{name}-api",
        description=f"Private API endpoint access to EKS cluster {cluster_name}",
        vpc_id=vpc_id,
        tags={**tags, "Name": f"{cluster_name}-api"},
        opts=opts,
    )
    for index, cidr in enumerate(private_api_cidrs):
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-api-https-{index}",
            security_group_id=api_security_group.id,
            description="Kubernetes API (HTTPS) from inside the network",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=cidr,
            tags=tags,
            opts=opts,
        )

    cluster = aws.eks.Cluster(
        f"{name}-cluster",
        name=cluster_name,
        version=config.version,
        upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=config.upgrade_policy),
        role_arn=role.arn,
        access_config=aws.eks.ClusterAccessConfigArgs(
            authentication_mode="API",
            bootstrap_cluster_creator_admin_permissions=config.cluster_creator_admin,
        ),
        # Managed addons (addons.py) replace the unmanaged defaults, so versions stay pinned.
        bootstrap_self_managed_addons=False,
        vpc_config=aws.eks.ClusterVpcConfigArgs(
            subnet_ids=subnet_ids,
            security_group_ids=[api_security_group.id],
            endpoint_private_access=True,
            endpoint_public_access=config.endpoint_public_access,
            public_access_cidrs=list(config.public_access_cidrs) if config.endpoint_public_access else None,
        ),
        encryption_config=aws.eks.ClusterEncryptionConfigArgs(
            provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=secrets_key.arn),
            resources=["secrets"],
        ),
        enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
        deletion_protection=config.deletion_protection,
        tags=tags,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[log_group, cluster_policy, encryption_policy])),
    )
    return ControlPlane(cluster=cluster, role=role, log_group=log_group, api_security_group=api_security_group)
