"""Managed node groups: one CPU system group and any number of GPU groups, each with its own
launch template, plus the Auto Scaling group tags Cluster Autoscaler needs to scale GPU groups
up from zero.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import (
    GPU_RESOURCE,
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    PROJECT,
    GpuNodeGroupConfig,
    NodeGroupConfig,
    SystemNodeGroupConfig,
)
from components.iam.policy import Statement, policy_document
from components.scope import AwsScope

LABEL_PREFIX = PROJECT
NODE_ROLE_LABEL = f"{LABEL_PREFIX}/node-role"
GPU_GROUP_LABEL = f"{LABEL_PREFIX}/gpu-group"
ACCELERATOR_LABEL = f"{LABEL_PREFIX}/accelerator"
# "helm": the AMI lacks the Kubernetes device plugin, so our Helm release runs it there;
# "ami": the AMI (Bottlerocket NVIDIA) ships it, and the Helm release must stay away.
DEVICE_PLUGIN_LABEL = f"{LABEL_PREFIX}/nvidia-device-plugin"
# Cluster Autoscaler's AWS provider treats nodes with this label as GPU nodes: it waits for the
# device plugin to advertise nvidia.com/gpu on a new node instead of scaling up again meanwhile.
CA_GPU_LABEL = "k8s.amazonaws.com/accelerator"
AMIS_WITH_DEVICE_PLUGIN = frozenset({"BOTTLEROCKET_x86_64_NVIDIA"})

KUBERNETES_TAINT_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}

# The Python SDK only camelCases top-level names in ignore_changes; nested paths go as written.
IGNORE_DESIRED_SIZE = "scalingConfig.desiredSize"

CA_TAG_PREFIX = "k8s.io/cluster-autoscaler"
# Bottlerocket: a small OS volume and a data volume for images and pods (Karpenter's defaults).
BOTTLEROCKET_ROOT_GIB = 4
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    # Pull-only ECR access (AWS's current recommendation for node roles; narrower than ReadOnly).
    "AmazonEC2ContainerRegistryPullOnly",
)


@dataclass(frozen=True)
class NodeGroupSpec:
    """What a node group is, independent of Pulumi: derived from config once, tested directly."""

    key: str  # "system" or the GPU group's config name
    config: NodeGroupConfig
    ami_type: str
    labels: dict[str, str]
    taints: tuple[tuple[str, str, str], ...]  # (key, value, EKS effect)

    @property
    def is_gpu(self) -> bool:
        return isinstance(self.config, GpuNodeGroupConfig)

    def volumes(self) -> list[tuple[str, int]]:
        """(device, GiB) of the encrypted gp3 volumes."""
        if self.ami_type.startswith("BOTTLEROCKET"):
            return [("/dev/xvda", BOTTLEROCKET_ROOT_GIB), ("/dev/xvdb", self.config.disk_size_gib)]
        return [("/dev/xvda", self.config.disk_size_gib)]

    def node_template_tags(self) -> dict[str, str]:
        """Cluster Autoscaler node-template tags: exactly this group's labels and taints and, for a GPU
        group, its nodes' nvidia.com/gpu count (aws_facts.json nvidiaGpusPerInstanceType) and disk
        size as ephemeral storage (a Kubernetes quantity, as the autoscaler parses it). Without the
        count, a template built at zero has no GPUs until a real node has registered them, so a GPU
        pod cannot trigger a scale-up from zero (docs/eks.md)."""
        tags = {f"{CA_TAG_PREFIX}/node-template/label/{k}": v for k, v in self.labels.items()}
        for key, value, effect in self.taints:
            tags[f"{CA_TAG_PREFIX}/node-template/taint/{key}"] = f"{value}:{KUBERNETES_TAINT_EFFECTS[effect]}"
        if self.is_gpu:
            tags[f"{CA_TAG_PREFIX}/node-template/resources/{GPU_RESOURCE}"] = str(self.config.gpus_per_node)
            # Training images and datasets are large: a pod that requests ephemeral storage must fit
            # the template too. The data disk (Bottlerocket) or root disk (AL2023) holds it.
            tags[f"{CA_TAG_PREFIX}/node-template/resources/ephemeral-storage"] = f"{self.config.disk_size_gib}Gi"
        return tags


def system_spec(config: SystemNodeGroupConfig) -> NodeGroupSpec:
    return NodeGroupSpec(key="system", config=config, ami_type=config.ami_type, labels={NODE_ROLE_LABEL: "system"}, taints=())


def gpu_spec(config: GpuNodeGroupConfig) -> NodeGroupSpec:
    labels = {
        NODE_ROLE_LABEL: "gpu",
        GPU_GROUP_LABEL: config.name,
        ACCELERATOR_LABEL: config.accelerator,
        CA_GPU_LABEL: config.accelerator,
        DEVICE_PLUGIN_LABEL: "ami" if config.ami_type in AMIS_WITH_DEVICE_PLUGIN else "helm",
    }
    return NodeGroupSpec(
        key=config.name,
        config=config,
        ami_type=config.ami_type,
        labels=labels,
        taints=((GPU_TAINT_KEY, GPU_TAINT_VALUE, GPU_TAINT_EFFECT),),
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def autoscaler_discovery_tags(cluster_name: str) -> dict[str, str]:
    return {f"{CA_TAG_PREFIX}/enabled": "true", f"{CA_TAG_PREFIX}/{cluster_name}": "owned"}


def node_role(name: str, scope: AwsScope, *, opts: pulumi.ResourceOptions) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    trust = Statement(sid="TrustEc2", actions=["sts:AssumeRole"], principals={"Service": ["ec2.amazonaws.com"]})
    role = aws.iam.Role(
        f"{name}-node-role",
        description="EKS managed node groups",
        assume_role_policy=policy_document([trust]),
        permissions_boundary=scope.permissions_boundary_arn,
        max_session_duration=3600,
        opts=opts,
    )
    attachments = [
        aws.iam.RolePolicyAttachment(f"{name}-node-{policy}", role=role.name, policy_arn=pulumi.Output.concat("arn:", scope.partition, f":iam::aws:policy/{policy}"), opts=opts)
        for policy in NODE_POLICIES
    ]
    return role, attachments


def launch_template(
    name: str, spec: NodeGroupSpec, scope: AwsScope, *, cluster_name: str, ebs_kms_key_arn: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> aws.ec2.LaunchTemplate:
    tags = dict(scope.tags)
    # Provider default tags never reach instances EKS launches; these make GPU cost attributable.
    node_tags = {**tags, "Name": f"{cluster_name}-{spec.key}", "node-group": spec.key}
    return aws.ec2.LaunchTemplate(
        f"{name}-{spec.key}-lt",
        name_prefix=f"{cluster_name}-{spec.key}-",
        description=f"Nodes of group {spec.key} in EKS cluster {cluster_name}",
        update_default_version=True,
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",
            http_put_response_hop_limit=spec.config.imds_hop_limit,
            instance_metadata_tags="disabled",
        ),
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name=device,
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=size,
                    volume_type="gp3",
                    encrypted="true",
                    kms_key_id=ebs_kms_key_arn,
                    delete_on_termination="true",
                ),
            )
            for device, size in spec.volumes()
        ],
        tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=node_tags) for kind in ("instance", "volume")],
        tags=tags,
        opts=opts,
    )


def node_group(
    name: str,
    spec: NodeGroupSpec,
    scope: AwsScope,
    *,
    cluster: aws.eks.Cluster,
    role: aws.iam.Role,
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
    template: aws.ec2.LaunchTemplate,
    opts: pulumi.ResourceOptions,
) -> aws.eks.NodeGroup:
    config = spec.config
    return aws.eks.NodeGroup(
        f"{name}-{spec.key}",
        cluster_name=cluster.name,
        # Nodes follow the control plane's version, so a version bump upgrades them after it.
        version=cluster.version,
        # A prefix, so changes that force replacement can create the new group first.
        node_group_name_prefix=f"{spec.key}-",
        node_role_arn=role.arn,
        subnet_ids=subnet_ids,
        instance_types=list(config.instance_types),
        capacity_type=config.capacity_type,
        ami_type=spec.ami_type,
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(min_size=config.min_size, desired_size=config.desired_size, max_size=config.max_size),
        update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=config.max_unavailable),
        labels=spec.labels,
        taints=[aws.eks.NodeGroupTaintArgs(key=k, value=v, effect=e) for k, v, e in spec.taints] or None,
        # Size lives in the launch template's block devices: EKS rejects disk_size with one.
        launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=template.id, version=template.latest_version.apply(str)),
        tags={**scope.tags, "node-group": spec.key},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=[IGNORE_DESIRED_SIZE])),
    )


def scale_from_zero_tags(name: str, spec: NodeGroupSpec, group: aws.eks.NodeGroup, *, cluster_name: str, opts: pulumi.ResourceOptions) -> list[aws.autoscaling.Tag]:
    """Tag the group's ASG so Cluster Autoscaler can build a node template while it has no nodes.

    EKS does not copy node group labels or taints to the ASG, and managed node groups have no
    input for ASG tags (https://github.com/pulumi/pulumi-eks/issues/658). The discovery tags EKS
    already sets are declared too, with the same values, so the guarantee does not rest on an
    EKS default.
    """
    asg_name = group.resources.apply(lambda resources: resources[0].autoscaling_groups[0].name)
    tags = {**spec.node_template_tags(), **autoscaler_discovery_tags(cluster_name)}
    return [
        aws.autoscaling.Tag(
            f"{name}-{spec.key}-asg-{_slug(key.removeprefix(CA_TAG_PREFIX + '/'))}",
            autoscaling_group_name=asg_name,
            tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
            opts=opts,
        )
        for key, value in sorted(tags.items())
    ]
