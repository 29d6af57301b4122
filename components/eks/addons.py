"""EKS managed addons at pinned versions (components/data/eks_addons.json).

Networking addons and the Pod Identity agent are created before any node group, because nodes
only become Ready once the CNI runs (the cluster skips the unmanaged defaults). CoreDNS and the
EBS CSI driver run as Deployments and need nodes, so they wait for the system node group.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.eks import identity, pins
from components.iam.roles import inline_policy
from components.keys import GRANT_ACTIONS, KEY_USE_ACTIONS, PlatformKey
from components.scope import AwsScope

BEFORE_COMPUTE = ("eks-pod-identity-agent", "vpc-cni", "kube-proxy")
AFTER_COMPUTE = ("coredns", "aws-ebs-csi-driver")
# Service accounts the AWS-managed addons run as (fixed by each addon).
VPC_CNI_SERVICE_ACCOUNT = "aws-node"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"


@dataclass(frozen=True)
class AddonRoles:
    vpc_cni: aws.iam.Role
    ebs_csi: aws.iam.Role


def addon_roles(name: str, scope: AwsScope, *, cluster_name: str, ebs_key: PlatformKey, opts: pulumi.ResourceOptions) -> AddonRoles:
    # The CNI policy sits on the addon's own role, not on every node's role.
    vpc_cni = identity.pod_identity_role(
        f"{name}-vpc-cni",
        scope,
        cluster_name=cluster_name,
        namespace="kube-system",
        service_account=VPC_CNI_SERVICE_ACCOUNT,
        description=f"VPC CNI of EKS cluster {cluster_name}",
        managed_policy_arns=[pulumi.Output.concat("arn:", scope.partition, ":iam::aws:policy/AmazonEKS_CNI_Policy")],
        opts=opts,
    )
    ebs_csi = identity.pod_identity_role(
        f"{name}-ebs-csi",
        scope,
        cluster_name=cluster_name,
        namespace="kube-system",
        service_account=EBS_CSI_SERVICE_ACCOUNT,
        description=f"EBS CSI driver of EKS cluster {cluster_name}",
        managed_policy_arns=[pulumi.Output.concat("arn:", scope.partition, ":iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy")],
        opts=opts,
    )
    # Volumes are encrypted with the platform's EBS key; the driver needs to use it, and may
    # create grants only for AWS resources (EBS attaching the volume). The EKS user guide's
    # policy ("Create the Amazon EBS CSI driver IAM role") writes ReEncrypt* and GenerateDataKey*;
    # KEY_USE_ACTIONS names the operations they stand for that EBS performs.
    inline_policy(
        f"{name}-ebs-csi-kms",
        ebs_csi,
        [ebs_key.allow("UseEbsKey", KEY_USE_ACTIONS), ebs_key.allow("GrantEbsKeyToAwsResources", GRANT_ACTIONS, for_aws_resources=True)],
        opts,
    )
    return AddonRoles(vpc_cni=vpc_cni, ebs_csi=ebs_csi)


def managed_addon(
    name: str,
    addon: str,
    scope: AwsScope,
    *,
    cluster: aws.eks.Cluster,
    kubernetes_version: str,
    opts: pulumi.ResourceOptions,
    role: aws.iam.Role | None = None,
    service_account: str | None = None,
) -> aws.eks.Addon:
    associations = (
        [aws.eks.AddonPodIdentityAssociationArgs(role_arn=role.arn, service_account=service_account)] if role is not None and service_account else None
    )
    return aws.eks.Addon(
        f"{name}-addon-{addon}",
        cluster_name=cluster.name,
        addon_name=addon,
        addon_version=pins.addon_version(kubernetes_version, addon),
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        pod_identity_associations=associations,
        tags=dict(scope.tags),
        opts=opts,
    )
