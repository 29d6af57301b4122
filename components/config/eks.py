"""The ``eks`` section: cluster, upgrade policy, node groups and GPU quotas (components/eks)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from components import facts
from components.config.base import Cidr, Ec2InstanceType, LogRetentionDays, Model, RoleArn, Scaling, lowercase_name_pattern, repeated
from policies.awsfacts import clock, eks_versions

# The taint every GPU node group carries so only GPU workloads land there (EKS API spelling; the
# node groups set it, the in-cluster tolerations and ``mlopsctl verify`` read it).
# The extended resource NVIDIA's device plugin advertises; the GPU taint uses the same key.
GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT_KEY = GPU_RESOURCE
GPU_TAINT_VALUE = "true"
GPU_TAINT_EFFECT = "NO_SCHEDULE"  # EKS API spelling; Kubernetes calls it NoSchedule


class NodeGroupConfig(Scaling):
    instance_types: list[Ec2InstanceType] = Field(min_length=1, description="EC2 instance types, checked against botocore.")
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field("ON_DEMAND", description="ON_DEMAND, or SPOT (cheaper, but EC2 may reclaim a node at two minutes' notice).")
    disk_size_gib: int = Field(50, ge=20, le=16384, description="Encrypted gp3 root volume size.")
    imds_hop_limit: Literal[1, 2] = Field(1, description="IMDSv2 hop limit; 2 only when a pod truly needs instance metadata.")
    max_unavailable: int = Field(1, ge=1, le=100, description="Nodes replaced at once during a node group update.")

    @model_validator(mode="after")
    def _within_the_eks_quota(self):
        quota = facts.eks_node_group_quotas()["nodesPerNodeGroup"]
        if self.max_size > quota:
            raise ValueError(f"@maxSize: at most {quota} nodes per managed node group (EKS default quota 'Nodes per managed node group'), got {self.max_size}")
        return self


class SystemNodeGroupConfig(NodeGroupConfig):
    ami_type: Literal["AL2023_x86_64_STANDARD", "BOTTLEROCKET_x86_64"] = Field("AL2023_x86_64_STANDARD", description="CPU AMI type.")

    @field_validator("instance_types")
    @classmethod
    def _cpu_only(cls, types: list[str]) -> list[str]:
        gpu = [t for t in types if facts.is_gpu_ec2_type(t)]
        if gpu:
            raise ValueError(f"the system node group is CPU-only; remove GPU types {gpu}")
        return types


class GpuNodeGroupConfig(NodeGroupConfig):
    name: str = Field(pattern=lowercase_name_pattern(1, 24), description="Short group name (lowercase, <= 24 chars); used in labels and resource names.")
    min_size: int = Field(0, ge=0, description="Fewest GPU nodes; 0 lets the group scale to zero when idle.")
    desired_size: int = Field(0, ge=0, description="GPU nodes at creation; Cluster Autoscaler owns it afterwards.")
    disk_size_gib: int = Field(200, ge=20, le=16384, description="Root (AL2023) or data (Bottlerocket) volume size; CUDA images are large.")
    ami_type: Literal["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"] = Field("AL2023_x86_64_NVIDIA", description="GPU AMI type.")

    @field_validator("instance_types")
    @classmethod
    def _gpu_only(cls, types: list[str]) -> list[str]:
        cpu = [t for t in types if not facts.is_gpu_ec2_type(t)]
        if cpu:
            families = ", ".join(facts.facts()["gpuInstanceFamilies"]["ec2"])
            raise ValueError(f"GPU node groups need NVIDIA GPU instance types; {cpu} are not (GPU families: {families})")
        # The group's accelerator label (and the Cluster Autoscaler node template built from it)
        # must be true for every node the group can launch.
        accelerators = sorted({facts.gpu_accelerator(t) or "unknown" for t in types})
        if len(accelerators) > 1:
            raise ValueError(f"all instance types of a GPU group must carry the same GPU model; {types} mix {accelerators} (use one group per GPU model)")
        # Cluster Autoscaler builds a group's node template at zero from one nvidia.com/gpu count.
        unlisted = [t for t in types if facts.nvidia_gpus(t) is None]
        if unlisted:
            raise ValueError(
                f"{', '.join(unlisted)}: no GPU count in policies/awsfacts/aws_facts.json nvidiaGpusPerInstanceType "
                "(Cluster Autoscaler's node template needs it to scale the group from zero); add the type with its source"
            )
        counts = {t: facts.nvidia_gpus(t) for t in types}
        if len(set(counts.values())) > 1:
            shown = ", ".join(f"{t}: {n}" for t, n in counts.items())
            raise ValueError(f"all instance types of a GPU group must carry the same number of GPUs ({shown}); a node template advertises one count (use one group per size)")
        return types

    @property
    def max_gpus_per_node(self) -> int:
        """The most GPUs one node of the group may carry: its families' biggest sizes (aws_facts.json)."""
        return max(facts.max_gpus_per_instance(t) or 0 for t in self.instance_types)

    @property
    def gpus_per_node(self) -> int:
        """NVIDIA GPUs of each node (the same for every instance type of the group, checked above)."""
        return facts.nvidia_gpus(self.instance_types[0]) or 0

    @property
    def accelerator(self) -> str:
        """GPU model of the group's nodes, e.g. ``nvidia-a10g`` (one per group, validated)."""
        return facts.gpu_accelerator(self.instance_types[0]) or "unknown"


class GpuQuotaConfig(Model):
    training: int = Field(8, ge=0, description="requests.nvidia.com/gpu quota of the ml-training namespace; at most what the GPU node groups can hold.")
    serving: int = Field(2, ge=0, description="requests.nvidia.com/gpu quota of the ml-serving namespace; at most what the GPU node groups can hold.")


class EksConfig(Model):
    version: str = Field("1.35", description="Kubernetes minor version; must be in EKS standard or extended support (policies/awsfacts/eks_versions.json) and pinned (components/data/eks_addons.json).")
    upgrade_policy: Literal["STANDARD", "EXTENDED"] = Field(
        "EXTENDED",
        description=(
            "upgradePolicy.supportType of the cluster. STANDARD: EKS force-upgrades the control plane when standard support ends "
            "(outside Pulumi; the preview warns 60 days ahead). EXTENDED: the cluster keeps its version at the extended-support rate."
        ),
    )
    endpoint_public_access: bool = Field(False, description="Expose the API server publicly, allowlisted by publicAccessCidrs (dev only; never in staging or prod).")
    public_access_cidrs: list[Cidr] = Field(default_factory=list, description="CIDRs allowed to reach a public endpoint.")
    allow_public_endpoint_from_anywhere: bool = Field(False, description="Deliberately insecure: permit 0.0.0.0/0 on a non-prod public endpoint.")
    admin_role_arns: list[RoleArn] = Field(default_factory=list, description="IAM roles given cluster-admin access entries.")
    deploy_role_arn: RoleArn | None = Field(None, description="The CI deploy role (from `mlopsctl bootstrap`) given a cluster-admin access entry.")
    cluster_creator_admin: bool = Field(False, description="Let EKS grant the creating identity admin (off: access entries are explicit).")
    deletion_protection: bool = Field(False, description="EKS deletion protection on the cluster.")
    log_retention_days: LogRetentionDays = Field(90, description="Control-plane log retention.")
    system_node_group: SystemNodeGroupConfig = Field(
        default_factory=lambda: SystemNodeGroupConfig(instance_types=["m6i.large"], min_size=2, desired_size=2, max_size=4),
        description="CPU managed node group for system pods.",
    )
    gpu_node_groups: list[GpuNodeGroupConfig] = Field(
        default_factory=list,
        description=f"GPU managed node groups; with the system group at most {facts.eks_node_group_quotas()['nodeGroupsPerCluster']} (EKS default quota).",
    )
    gpu_quota: GpuQuotaConfig = Field(default_factory=GpuQuotaConfig, description="GPU quotas per ML namespace.")

    @field_validator("version")
    @classmethod
    def _supported(cls, version: str) -> str:
        supported = eks_versions.supported()
        if version not in supported:
            raise ValueError(f"Kubernetes {version!r} is not in EKS standard or extended support on {clock.today()}; supported: {', '.join(supported)}")
        # Every supported version also needs pinned addon and chart versions.
        from components.eks import pins

        pinned = pins.pinned_versions()
        if version not in pinned:
            raise ValueError(f"no pinned addon/chart versions for Kubernetes {version!r} in {pins.PINS_FILE.name}; pinned: {', '.join(pinned)}")
        return version

    @field_validator("gpu_node_groups")
    @classmethod
    def _unique_names(cls, groups: list[GpuNodeGroupConfig]) -> list[GpuNodeGroupConfig]:
        duplicates = repeated([g.name for g in groups])
        if duplicates:
            raise ValueError(f"GPU node group names must be unique; repeated: {duplicates}")
        quota = facts.eks_node_group_quotas()["nodeGroupsPerCluster"]
        if len(groups) + 1 > quota:
            raise ValueError(f"{len(groups)} GPU node groups and the system group make {len(groups) + 1} managed node groups; EKS allows {quota} per cluster (default quota 'Managed node groups per cluster')")
        return groups

    @model_validator(mode="after")
    def _gpu_quota_within_capacity(self):
        # A quota the node groups can never fill bounds nothing, and reads as GPUs the cluster cannot start.
        if not self.gpu_node_groups:
            return self
        capacity = sum(g.max_size * g.max_gpus_per_node for g in self.gpu_node_groups)
        held = ", ".join(f"{g.name}: maxSize {g.max_size} x up to {g.max_gpus_per_node} GPUs" for g in self.gpu_node_groups)
        lines = [
            f"@gpuQuota.{namespace}: {value} GPUs is more than the GPU node groups can ever hold, at most {capacity} ({held})"
            for namespace, value in (("training", self.gpu_quota.training), ("serving", self.gpu_quota.serving))
            if value > capacity
        ]
        if lines:
            raise ValueError("\n".join(lines))
        return self

    @model_validator(mode="after")
    def _endpoint(self):
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise ValueError("@publicAccessCidrs: endpointPublicAccess needs publicAccessCidrs (the CIDRs allowed to reach the API server)")
        if not self.endpoint_public_access and self.public_access_cidrs:
            raise ValueError("@publicAccessCidrs: set but endpointPublicAccess is false; remove one")
        if "0.0.0.0/0" in self.public_access_cidrs and not self.allow_public_endpoint_from_anywhere:
            raise ValueError("@publicAccessCidrs: contains 0.0.0.0/0; list specific CIDRs (or set allowPublicEndpointFromAnywhere outside prod)")
        return self

    @model_validator(mode="after")
    def _someone_can_reach_it(self):
        # Access entries come from config only, so with creator admin off an empty list locks everyone out.
        if not self.cluster_creator_admin and not self.admin_role_arns and not self.deploy_role_arn:
            raise ValueError("@deployRoleArn: required (or adminRoleArns): access entries come from config only, so nobody could reach the cluster")
        return self
