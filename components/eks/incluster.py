"""In-cluster resources (pulumi-kubernetes): GPU device plugin, Cluster Autoscaler, ML namespaces
with quotas and limits, and the workload service accounts bound to AWS roles via Pod Identity.

Every resource here uses the cluster's own Kubernetes provider and depends on the deployer's
access policy association: without it the API server rejects the deployer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.config import EksConfig
from components.eks import identity, pins
from components.eks.nodegroups import (
    CA_TAG_PREFIX,
    DEVICE_PLUGIN_LABEL,
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    KUBERNETES_TAINT_EFFECTS,
    NODE_ROLE_LABEL,
)
from components.iam.policy import Statement
from components.iam.roles import inline_policy

TRAINING_NAMESPACE = "ml-training"
SERVING_NAMESPACE = "ml-serving"
SYSTEM_NAMESPACE = "kube-system"
AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"
GPU_TOLERATION = {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": KUBERNETES_TAINT_EFFECTS[GPU_TAINT_EFFECT]}
# Defaults for containers that declare nothing, so quotas and bin-packing see real numbers.
DEFAULT_LIMITS = {"cpu": "2", "memory": "4Gi"}
DEFAULT_REQUESTS = {"cpu": "250m", "memory": "512Mi"}


class ArtifactGrants(Protocol):
    """What workload roles need from the artifact store: CDK-style prefix grants."""

    def grant_read(self, role: aws.iam.Role, prefix: str = ...) -> object: ...

    def grant_write(self, role: aws.iam.Role, prefix: str = ...) -> object: ...


@dataclass(frozen=True)
class Workload:
    """A namespace's service account, its role, and what the role may touch in the store."""

    namespace: str
    service_account: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]


WORKLOADS = (
    Workload(TRAINING_NAMESPACE, "training", reads=("datasets/",), writes=("models/",)),
    Workload(SERVING_NAMESPACE, "serving", reads=("models/",), writes=()),
)


def device_plugin_values() -> dict:
    """Run the plugin only on GPU nodes whose AMI lacks it, tolerating the GPU taint."""
    return {
        "tolerations": [GPU_TOLERATION],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [{"key": DEVICE_PLUGIN_LABEL, "operator": "In", "values": ["helm"]}]}]
                }
            }
        },
    }


def autoscaler_values(*, cluster_name: str, region: str, image_tag: str) -> dict:
    return {
        "cloudProvider": "aws",
        # Explicit, because IMDS hop limit 1 keeps pods from discovering the region themselves.
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        "image": {"tag": image_tag},
        "rbac": {"create": True, "serviceAccount": {"create": True, "name": AUTOSCALER_SERVICE_ACCOUNT}},
        "nodeSelector": {NODE_ROLE_LABEL: "system"},
        "extraArgs": {"balance-similar-node-groups": True, "expander": "least-waste", "skip-nodes-with-system-pods": False},
    }


def autoscaler_statements(*, cluster_name: str, region: str, account_id: pulumi.Input[str], partition: pulumi.Input[str]) -> list[Statement]:
    return [
        Statement(
            sid="Discover",
            actions=[
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
            # These actions support no resource-level permissions.
            resources=["*"],
        ),
        Statement(
            sid="ScaleOwnGroupsOnly",
            actions=["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            resources=["*"],
            conditions={"StringEquals": {f"aws:ResourceTag/{CA_TAG_PREFIX}/{cluster_name}": "owned"}},
        ),
        Statement(
            sid="ReadManagedNodeGroups",
            # Labels and taints of managed groups, for node templates when a group is at zero.
            actions=["eks:DescribeNodegroup"],
            resources=[pulumi.Output.concat("arn:", partition, f":eks:{region}:", account_id, f":nodegroup/{cluster_name}/*/*")],
        ),
    ]


@dataclass(frozen=True)
class InCluster:
    namespaces: dict[str, k8s.core.v1.Namespace]
    quotas: dict[str, k8s.core.v1.ResourceQuota]
    device_plugin: k8s.helm.v3.Release
    autoscaler: k8s.helm.v3.Release
    autoscaler_role: aws.iam.Role
    workload_roles: dict[str, aws.iam.Role]


def in_cluster(
    name: str,
    *,
    cluster: aws.eks.Cluster,
    cluster_name: str,
    config: EksConfig,
    region: str,
    account_id: pulumi.Input[str],
    partition: pulumi.Input[str],
    provider: k8s.Provider,
    deployer_access: aws.eks.AccessPolicyAssociation,
    system_nodes: Sequence[pulumi.Resource],
    artifact_store: ArtifactGrants | None,
    permissions_boundary_arn: str | None,
    opts: pulumi.ResourceOptions,
) -> InCluster:
    def k8s_opts(*also: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=provider, depends_on=[deployer_access, *also]))

    quotas = {TRAINING_NAMESPACE: config.gpu_quota.training, SERVING_NAMESPACE: config.gpu_quota.serving}
    namespaces: dict[str, k8s.core.v1.Namespace] = {}
    quota_objects: dict[str, k8s.core.v1.ResourceQuota] = {}
    for namespace, gpus in quotas.items():
        ns = k8s.core.v1.Namespace(f"{name}-ns-{namespace}", metadata={"name": namespace}, opts=k8s_opts())
        namespaces[namespace] = ns
        in_ns = k8s_opts(ns)
        quota_objects[namespace] = k8s.core.v1.ResourceQuota(
            f"{name}-{namespace}-gpu-quota",
            metadata={"name": "gpu", "namespace": namespace},
            spec={"hard": {"requests.nvidia.com/gpu": str(gpus)}},
            opts=in_ns,
        )
        k8s.core.v1.LimitRange(
            f"{name}-{namespace}-defaults",
            metadata={"name": "container-defaults", "namespace": namespace},
            spec={"limits": [{"type": "Container", "default": DEFAULT_LIMITS, "defaultRequest": DEFAULT_REQUESTS}]},
            opts=in_ns,
        )

    plugin = pins.nvidia_device_plugin()
    device_plugin = k8s.helm.v3.Release(
        f"{name}-nvidia-device-plugin",
        name="nvidia-device-plugin",
        namespace=SYSTEM_NAMESPACE,
        chart=plugin.chart,
        version=plugin.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=plugin.repository),
        values=device_plugin_values(),
        opts=k8s_opts(),
    )

    aws_opts = opts
    autoscaler_role = identity.pod_identity_role(
        f"{name}-cluster-autoscaler",
        account_id=account_id,
        cluster_name=cluster_name,
        namespace=SYSTEM_NAMESPACE,
        service_account=AUTOSCALER_SERVICE_ACCOUNT,
        description=f"Cluster Autoscaler of EKS cluster {cluster_name}",
        permissions_boundary_arn=permissions_boundary_arn,
        opts=aws_opts,
    )
    autoscaler_policy = inline_policy(
        f"{name}-cluster-autoscaler",
        autoscaler_role,
        autoscaler_statements(cluster_name=cluster_name, region=region, account_id=account_id, partition=partition),
        aws_opts,
    )
    autoscaler_binding = identity.associate(
        f"{name}-cluster-autoscaler",
        cluster_name=cluster.name,
        namespace=SYSTEM_NAMESPACE,
        service_account=AUTOSCALER_SERVICE_ACCOUNT,
        role=autoscaler_role,
        opts=aws_opts,
    )
    ca = pins.cluster_autoscaler(config.version)
    autoscaler = k8s.helm.v3.Release(
        f"{name}-cluster-autoscaler",
        name="cluster-autoscaler",
        namespace=SYSTEM_NAMESPACE,
        chart=ca.chart,
        version=ca.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=ca.repository),
        values=autoscaler_values(cluster_name=cluster_name, region=region, image_tag=ca.image_tag or ""),
        # It needs nodes to run on, and credentials before the pod starts (else it crash-loops).
        opts=k8s_opts(*system_nodes, autoscaler_policy, autoscaler_binding),
    )

    workload_roles: dict[str, aws.iam.Role] = {}
    if artifact_store is not None:
        for workload in WORKLOADS:
            role = identity.pod_identity_role(
                f"{name}-{workload.namespace}-{workload.service_account}",
                account_id=account_id,
                cluster_name=cluster_name,
                namespace=workload.namespace,
                service_account=workload.service_account,
                description=f"{workload.namespace}/{workload.service_account} pods of EKS cluster {cluster_name}",
                permissions_boundary_arn=permissions_boundary_arn,
                opts=aws_opts,
            )
            for prefix in workload.reads:
                artifact_store.grant_read(role, prefix=prefix)
            for prefix in workload.writes:
                artifact_store.grant_write(role, prefix=prefix)
            identity.associate(
                f"{name}-{workload.namespace}-{workload.service_account}",
                cluster_name=cluster.name,
                namespace=workload.namespace,
                service_account=workload.service_account,
                role=role,
                opts=aws_opts,
            )
            k8s.core.v1.ServiceAccount(
                f"{name}-{workload.namespace}-{workload.service_account}-sa",
                metadata={"name": workload.service_account, "namespace": workload.namespace, "labels": {"app.kubernetes.io/managed-by": "pulumi"}},
                opts=k8s_opts(namespaces[workload.namespace]),
            )
            workload_roles[workload.namespace] = role

    return InCluster(
        namespaces=namespaces,
        quotas=quota_objects,
        device_plugin=device_plugin,
        autoscaler=autoscaler,
        autoscaler_role=autoscaler_role,
        workload_roles=workload_roles,
    )
