"""Typed, validated platform configuration.

A stack file carries one structured object, ``mlops-platform:platform``, next to ``aws:region``.
It is parsed once into a frozen :class:`PlatformConfig` before any resource is registered;
components receive these objects and never read ``pulumi.Config`` themselves.

Defaults live in one place: field defaults below for what is the same in every environment, and
:data:`ENVIRONMENT_DEFAULTS` for what a real team sets differently in dev, staging and prod. Stack
files override either. Every field's ``description`` documents it next to its default.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import typing
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import facts
from policies.awsfacts import PROJECT, clock, eks_versions

# The taint every GPU node group carries so only GPU workloads land there (EKS API spelling; the
# node groups set it, the in-cluster tolerations and ``mlopsctl verify`` read it).
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "true"
GPU_TAINT_EFFECT = "NO_SCHEDULE"  # EKS API spelling; Kubernetes calls it NoSchedule
CONFIG_KEY = f"{PROJECT}:platform"
REGION_KEY = "aws:region"

Environment = Literal["dev", "staging", "prod"]


# namePrefix is also bootstrap's --name: the deploy role's S3, KMS-alias, IAM and CodeBuild
# permissions are scoped to <name>-*, so both must accept exactly the same names. The bound is the
# tightest AWS name built from the prefix, for the longest environment name, because a prefix the
# stack cannot use must not get an account bootstrapped for it:
# - S3 buckets <prefix>-<env>-<stem>- plus Terraform's 26-character unique suffix fit S3's 63 (an
#   S3 rule botocore's BucketName shape does not carry); the longest stem, replica-logs, makes
#   this the tightest (15);
# - bootstrap's state bucket <name>-pulumi-state-<account>-<longest region> (63): 22;
# - the CodeConnections connection <name>-github (ConnectionName, 32): 25;
# - the runner's IAM role, <prefix>-<env>-gha-runner plus Pulumi's 8-character suffix (64): 37.
# EKS cluster names (<prefix>-<env>, 100), KMS aliases (256), CodeBuild projects (150) are looser.
# bootstrap's validate_name still checks each name it builds against botocore.
S3_BUCKET_NAME_MAX = 63
LONGEST_BUCKET_STEM = "replica-logs"  # stems of components/storage: artifacts, access-logs, replica, replica-logs


def _name_prefix_max() -> int:
    env = max(typing.get_args(Environment), key=len)
    region = max(facts.known_regions(), key=len)
    return min(
        S3_BUCKET_NAME_MAX - facts.PREFIXED_UNIQUE_SUFFIX_LENGTH - len(f"-{env}-{LONGEST_BUCKET_STEM}-"),
        S3_BUCKET_NAME_MAX - len(f"-pulumi-state-{'0' * 12}-{region}"),
        int(facts.shape_limits("codeconnections", "ConnectionName")["max"]) - len("-github"),
        int(facts.shape_limits("iam", "roleNameType")["max"]) - facts.PULUMI_RANDOM_SUFFIX_LENGTH - len(f"-{env}-gha-runner"),
    )


NAME_PREFIX_MIN = 2
NAME_PREFIX_MAX = _name_prefix_max()
NAME_PREFIX_PATTERN = rf"^[a-z][a-z0-9-]{{{NAME_PREFIX_MIN - 1},{NAME_PREFIX_MAX - 1}}}$"
NAME_PREFIX_RULE = f"{NAME_PREFIX_MIN}-{NAME_PREFIX_MAX} chars of lowercase letters, digits and '-', starting with a letter"

# The artifact store's prefix layout. Grants and data capture are scoped to these.
ARTIFACT_PREFIXES: tuple[str, ...] = ("models/", "datasets/", "data-capture/", "pipelines/")

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy). Zero ("never
# expire") is deliberately absent: every log group here has a retention.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)

ENVIRONMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    # dev: cheap and disposable, but still private and encrypted.
    "dev": {
        "network": {"azCount": 2, "natGateways": "single"},
        "storage": {"protect": False, "kmsDeletionWindowDays": 7, "replication": {"enabled": False}},
        "eks": {"deletionProtection": False, "logRetentionDays": 30, "upgradePolicy": "STANDARD"},
        "serving": {"dataCaptureByDefault": False, "driftMonitoring": {"enabled": False}},
        "ciRunner": {"logRetentionDays": 30},
    },
    # staging: production-shaped, cheaper where availability is not at stake.
    "staging": {
        "network": {"azCount": 2, "natGateways": "single"},
        "storage": {"protect": True, "kmsDeletionWindowDays": 30, "replication": {"enabled": False}},
        "eks": {"deletionProtection": False, "logRetentionDays": 90, "upgradePolicy": "STANDARD"},
        "serving": {"dataCaptureByDefault": True, "driftMonitoring": {"enabled": False}},
        "ciRunner": {"logRetentionDays": 90},
    },
    # prod: highly available, data retained, nothing deletable by accident.
    "prod": {
        "network": {"azCount": 3, "natGateways": "perAz"},
        "storage": {"protect": True, "kmsDeletionWindowDays": 30, "replication": {"enabled": True}},
        # EXTENDED: EKS never upgrades prod behind Pulumi's back; the extended rate is priced.
        "eks": {"deletionProtection": True, "logRetentionDays": 365, "upgradePolicy": "EXTENDED"},
        "serving": {"dataCaptureByDefault": True, "driftMonitoring": {"enabled": True}},
        "ciRunner": {"logRetentionDays": 365},
    },
}


class ConfigError(Exception):
    """Bad stack configuration. ``str()`` is a single line naming file, key and what is allowed."""

    def __init__(self, source: str, key_path: str, message: str):
        self.source = source
        self.key_path = key_path
        self.message = message
        super().__init__(f"{source}: {key_path}: {message}")


# ---------------------------------------------------------------------------------------------
# Reusable field types


def _ec2_instance_type(value: str) -> str:
    if value not in facts.ec2_instance_types():
        raise ValueError(f"unknown EC2 instance type {value!r} (not in botocore's ec2 InstanceType enum)")
    return value


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR block ({exc})") from None
    if network.version != 4:
        raise ValueError(f"{value!r} is not an IPv4 CIDR block")
    return str(network)


_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_POLICY_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::(\d{12}|aws):policy/[\w+=,.@/-]{1,512}$")


def _role_arn(value: str) -> str:
    if not _ROLE_ARN.match(value):
        raise ValueError(f"{value!r} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)")
    return value


def _policy_arn(value: str) -> str:
    if not _POLICY_ARN.match(value):
        raise ValueError(f"{value!r} is not an IAM policy ARN (arn:aws:iam::<account>:policy/<name>)")
    return value


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"{value} is not a CloudWatch Logs retention; allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")
    return value


Ec2InstanceType = Annotated[str, AfterValidator(_ec2_instance_type)]
Cidr = Annotated[str, AfterValidator(_cidr)]
RoleArn = Annotated[str, AfterValidator(_role_arn)]
PolicyArn = Annotated[str, AfterValidator(_policy_arn)]
LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]
TagKey = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\w .:/=+\-@]+$")]


class Model(BaseModel):
    """Base for every config section: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


class Scaling(Model):
    min_size: int = Field(ge=0, description="Fewest nodes/instances.")
    desired_size: int = Field(ge=0, description="Nodes/instances at creation; autoscalers own it afterwards.")
    max_size: int = Field(ge=1, description="Most nodes/instances.")

    @model_validator(mode="after")
    def _ordered(self):
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"@minSize: need minSize <= desiredSize <= maxSize, got {self.min_size} <= {self.desired_size} <= {self.max_size}"
            )
        return self


# ---------------------------------------------------------------------------------------------
# Sections


class NetworkConfig(Model):
    vpc_cidr: Cidr = Field("10.0.0.0/16", description="VPC IPv4 range.")
    az_count: int = Field(2, ge=2, le=3, description="Availability zones to spread subnets over (2-3).")
    nat_gateways: Literal["single", "perAz"] = Field("single", description="One shared NAT gateway, or one per AZ.")
    public_subnet_cidrs: list[Cidr] | None = Field(None, description="Explicit public subnets (one per AZ); derived from vpcCidr when absent.")
    private_subnet_cidrs: list[Cidr] | None = Field(None, description="Explicit private subnets (one per AZ); derived from vpcCidr when absent.")
    interface_endpoints: list[Literal["ecr.api", "ecr.dkr", "sts", "sagemaker.runtime", "sagemaker.api", "logs"]] = Field(
        default_factory=list, description="Interface VPC endpoints so image pulls and AWS API calls skip the NAT."
    )
    flow_log_retention_days: LogRetentionDays = Field(90, description="VPC flow log retention in CloudWatch.")

    @field_validator("interface_endpoints")
    @classmethod
    def _unique_endpoints(cls, services: list[str]) -> list[str]:
        repeated = sorted({s for s in services if services.count(s) > 1})
        if repeated:
            raise ValueError(f"each interface endpoint may appear once; repeated: {repeated}")
        return services

    @model_validator(mode="after")
    def _subnets(self):
        vpc = ipaddress.ip_network(self.vpc_cidr)
        if vpc.prefixlen > 20:
            raise ValueError(f"@vpcCidr: {self.vpc_cidr} is too small; use /20 or larger so each AZ gets public and private subnets")
        subnets: list[tuple[str, str]] = []
        for key, cidrs in (("publicSubnetCidrs", self.public_subnet_cidrs), ("privateSubnetCidrs", self.private_subnet_cidrs)):
            if cidrs is None:
                continue
            if len(cidrs) != self.az_count:
                raise ValueError(f"@{key}: has {len(cidrs)} entries; need exactly azCount={self.az_count}")
            for cidr in cidrs:
                if not ipaddress.ip_network(cidr).subnet_of(vpc):
                    raise ValueError(f"@{key}: {cidr} is outside vpcCidr {self.vpc_cidr}")
                subnets.append((key, cidr))
        for i, (key_a, a) in enumerate(subnets):
            for key_b, b in subnets[i + 1 :]:
                if ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b)):
                    raise ValueError(f"@{key_b}: subnet {b} overlaps {a} ({key_a})")
        return self

    def subnet_layout(self) -> tuple[list[str], list[str]]:
        """(public, private) CIDRs, one per AZ: explicit ones, or carved from the VPC range.

        Derived layout: the VPC splits into 4 equal blocks per side; private subnets take the big
        first half (pods get VPC IPs with the VPC CNI), public ones small /24-ish slices after it.
        """
        vpc = ipaddress.ip_network(self.vpc_cidr)
        halves = list(vpc.subnets(prefixlen_diff=1))
        private = [str(s) for s in list(halves[0].subnets(prefixlen_diff=2))[: self.az_count]]
        public = [str(s) for s in list(halves[1].subnets(prefixlen_diff=4))[: self.az_count]]
        return (self.public_subnet_cidrs or public, self.private_subnet_cidrs or private)


class NodeGroupConfig(Scaling):
    instance_types: list[Ec2InstanceType] = Field(min_length=1, description="EC2 instance types, checked against botocore.")
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field("ON_DEMAND", description="ON_DEMAND, or SPOT (cheaper, but EC2 may reclaim a node at two minutes' notice).")
    disk_size_gib: int = Field(50, ge=20, le=16384, description="Encrypted gp3 root volume size.")
    imds_hop_limit: Literal[1, 2] = Field(1, description="IMDSv2 hop limit; 2 only when a pod truly needs instance metadata.")
    max_unavailable: int = Field(1, ge=1, le=100, description="Nodes replaced at once during a node group update.")


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
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,23}$", description="Short group name (lowercase, <= 24 chars); used in labels and resource names.")
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
        return types

    @property
    def accelerator(self) -> str:
        """GPU model of the group's nodes, e.g. ``nvidia-a10g`` (one per group, validated)."""
        return facts.gpu_accelerator(self.instance_types[0]) or "unknown"


class GpuQuotaConfig(Model):
    training: int = Field(8, ge=0, description="requests.nvidia.com/gpu quota of the ml-training namespace.")
    serving: int = Field(2, ge=0, description="requests.nvidia.com/gpu quota of the ml-serving namespace.")


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
    gpu_node_groups: list[GpuNodeGroupConfig] = Field(default_factory=list, description="GPU managed node groups.")
    gpu_quota: GpuQuotaConfig = Field(default_factory=GpuQuotaConfig, description="GPU quotas per ML namespace.")

    @field_validator("version")
    @classmethod
    def _supported(cls, version: str) -> str:
        supported = eks_versions.supported()
        if version not in supported:
            raise ValueError(f"Kubernetes {version!r} is not in EKS standard or extended support on {clock.today()}; supported: {', '.join(supported)}")
        # --- eks: every supported version also needs pinned addon and chart versions.
        from components.eks import pins

        pinned = pins.pinned_versions()
        if version not in pinned:
            raise ValueError(f"no pinned addon/chart versions for Kubernetes {version!r} in {pins.PINS_FILE.name}; pinned: {', '.join(pinned)}")
        return version

    @field_validator("gpu_node_groups")
    @classmethod
    def _unique_names(cls, groups: list[GpuNodeGroupConfig]) -> list[GpuNodeGroupConfig]:
        names = [g.name for g in groups]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"GPU node group names must be unique; repeated: {duplicates}")
        return groups

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


class StorageTransition(Model):
    prefix: str = Field(description=f"One of the artifact prefixes: {', '.join(ARTIFACT_PREFIXES)}.")
    days: int = Field(ge=0, description="Age in days before the move.")
    storage_class: Literal["STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"] = Field(
        description="Target storage class."
    )

    @field_validator("prefix")
    @classmethod
    def _known_prefix(cls, prefix: str) -> str:
        if prefix not in ARTIFACT_PREFIXES:
            raise ValueError(f"{prefix!r} is not an artifact prefix; allowed: {', '.join(ARTIFACT_PREFIXES)}")
        return prefix

    # S3 rejects lifecycle transitions to STANDARD_IA earlier than 30 days
    # (S3 User Guide, "Transitioning objects using Amazon S3 Lifecycle": minimum storage duration).
    @model_validator(mode="after")
    def _minimum_age(self):
        if self.storage_class == "STANDARD_IA" and self.days < 30:
            raise ValueError(f"@days: S3 transitions to STANDARD_IA need at least 30 days, got {self.days}")
        return self


class ReplicationConfig(Model):
    enabled: bool = Field(False, description="Cross-region replication of the artifact bucket.")
    region: str | None = Field(None, description="Replica region (must differ from aws:region).")


class StorageConfig(Model):
    protect: bool = Field(False, description="Pulumi protect and retainOnDelete on buckets and keys: `pulumi destroy` refuses, and removing them from the program leaves them in AWS.")
    force_destroy: bool = Field(False, description="Allow `pulumi destroy` to empty buckets (dev teardown only; never with protect).")
    kms_deletion_window_days: int = Field(30, ge=7, le=30, description="KMS key deletion window.")
    noncurrent_version_expiration_days: int = Field(90, ge=1, description="Expire noncurrent object versions after this many days.")
    abort_incomplete_multipart_days: int = Field(7, ge=1, description="Abort incomplete multipart uploads after this many days.")
    transitions: list[StorageTransition] = Field(
        default_factory=lambda: [StorageTransition(prefix="data-capture/", days=30, storage_class="STANDARD_IA")],
        description="Storage-class transitions by prefix, one lifecycle rule each (current objects never expire).",
    )
    access_log_expiration_days: int = Field(365, ge=1, description="Expiry of the access-log bucket's objects.")
    replication: ReplicationConfig = Field(default_factory=ReplicationConfig, description="Cross-region replication.")

    @model_validator(mode="after")
    def _safety(self):
        if self.protect and self.force_destroy:
            raise ValueError("@forceDestroy: cannot be combined with protect; protected stores are never emptied")
        if self.replication.enabled and not self.replication.region:
            raise ValueError("@replication.region: required when replication.enabled is true")
        if self.replication.region is not None and self.replication.region not in facts.known_regions():
            raise ValueError(f"@replication.region: {self.replication.region!r} is not an AWS region known to botocore")
        return self


# GitHub owner and repository names (also bootstrap's --github-repo).
GITHUB_REPO_PATTERN = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100})$")
_CONNECTION_ARN = re.compile(r"^arn:aws:codeconnections:[a-z0-9-]+:(\d{12}):connection/[0-9a-f-]{36}$")


class CiRunnerConfig(Model):
    """The in-VPC GitHub Actions runner (AWS CodeBuild) that deploys layer 2 (docs/operations.md)."""

    github_repo: str | None = Field(None, description="<org>/<repo> whose deploy jobs the runner serves (required for the runner project).")
    connection_arn: str | None = Field(
        None,
        description="The CodeConnections GitHub connection from `mlopsctl bootstrap --github-connection`, named here once it is AVAILABLE. Without it no runner project is made.",
    )
    webhook: bool = Field(False, description="Create the runner webhook (WORKFLOW_JOB_QUEUED from allowedActorIds only). Needs connectionArn and allowedActorIds.")
    allowed_actor_ids: list[Annotated[int, Field(gt=0)]] = Field(
        default_factory=list,
        description="Numeric GitHub user ids whose workflow jobs may start a runner build (maintainers). A fork's pull request can never match.",
    )
    compute_type: Literal["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"] = Field(
        "BUILD_GENERAL1_MEDIUM", description="CodeBuild EC2 compute (4 GB / 2 vCPU is enough for `pulumi up` of layer 2)."
    )
    image: str = Field("aws/codebuild/standard:7.0", description="CodeBuild image; Ubuntu, because actions/setup-python has no Amazon Linux builds.")
    build_timeout_minutes: int = Field(60, ge=5, le=2160, description="A runner build (one job) stops after this long.")
    concurrent_build_limit: int = Field(2, ge=1, le=10, description="At most this many runner builds at once.")
    log_retention_days: LogRetentionDays = Field(90, description="Retention of the runner's build logs.")

    @field_validator("github_repo")
    @classmethod
    def _repo(cls, value: str | None) -> str | None:
        if value is not None and not GITHUB_REPO_PATTERN.match(value):
            raise ValueError(f"{value!r} is not <org>/<repo> (GitHub owner and repository names)")
        return value

    @field_validator("connection_arn")
    @classmethod
    def _connection(cls, value: str | None) -> str | None:
        if value is not None and not _CONNECTION_ARN.match(value):
            raise ValueError(f"{value!r} is not a CodeConnections connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<uuid>)")
        return value

    @model_validator(mode="after")
    def _webhook_needs(self):
        if self.connection_arn and not self.github_repo:
            raise ValueError("@githubRepo: required with connectionArn (the runner project's source repository)")
        if self.webhook and not self.connection_arn:
            raise ValueError("@webhook: needs connectionArn (authorise the connection first: mlopsctl bootstrap --github-connection)")
        if self.webhook and not self.allowed_actor_ids:
            raise ValueError("@allowedActorIds: required with webhook: the GitHub user ids whose jobs may start the runner")
        return self

    @property
    def enabled(self) -> bool:
        return self.connection_arn is not None


class IamConfig(Model):
    permissions_boundary_arn: PolicyArn | None = Field(None, description="Permissions boundary attached to every role the platform creates.")


# ---------------------------------------------------------------------------------------------
# Serving (SageMaker). Limits come from botocore's sagemaker model (components/facts.py);
# facts botocore lacks (serverless memory steps, local-storage families, Model Monitor image
# accounts) from policies/awsfacts/aws_facts.json.


def _sagemaker_name(shape: str):
    def check(value: str) -> str:
        limit, pattern = facts.sagemaker_name_limits(shape)
        if len(value) > limit:
            raise ValueError(f"{value!r} is {len(value)} characters; SageMaker's {shape} allows {limit}")
        if not re.fullmatch(pattern, value):
            raise ValueError(f"{value!r} does not match SageMaker's {shape} pattern {pattern} (letters and digits; hyphens only between them)")
        return value

    return check


def _sagemaker_instance_type(value: str) -> str:
    if value not in facts.sagemaker_instance_types():
        raise ValueError(f"unknown SageMaker instance type {value!r} (not in botocore's sagemaker ProductionVariantInstanceType enum)")
    return value


def _processing_instance_type(value: str) -> str:
    if value not in facts.sagemaker_processing_instance_types():
        raise ValueError(f"unknown processing instance type {value!r} (not in botocore's sagemaker ProcessingInstanceType enum)")
    return value


def _within_shape(shape: str, what: str):
    def check(value: int) -> int:
        meta = facts.shape_limits("sagemaker", shape)
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{what} must be within {low}..{high} (botocore sagemaker {shape}), got {value}")
        return value

    return check


def _serverless_memory(value: int) -> int:
    allowed = facts.serverless_memory_sizes()
    if value not in allowed:
        raise ValueError(f"{value} MB is not a serverless memory size; allowed: {', '.join(map(str, allowed))}")
    return value


_ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([a-z0-9][a-z0-9._/-]*)(:[\w.-]{1,128}|@sha256:[a-f0-9]{64})$")
_MODEL_PACKAGE_VERSION = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/([a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})/(\d+)$")
_S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(\S+[^/])$")


def _ecr_image(value: str) -> str:
    if not _ECR_IMAGE.match(value) or not facts.name_matches_shape("sagemaker", "ContainerImage", value):
        raise ValueError(f"{value!r} is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or @sha256:<digest>)")
    return value


def _model_package_version(value: str) -> str:
    if not _MODEL_PACKAGE_VERSION.match(value) or not facts.name_matches_shape("sagemaker", "ModelPackageArn", value):
        raise ValueError(f"{value!r} is not a versioned model package ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)")
    return value


def _s3_object_uri(value: str) -> str:
    if not _S3_URI.match(value):
        raise ValueError(f"{value!r} is not an S3 object URI (s3://<bucket>/<key>)")
    return value


SageMakerInstanceType = Annotated[str, AfterValidator(_sagemaker_instance_type)]
S3ObjectUri = Annotated[str, AfterValidator(_s3_object_uri)]

# Repositories of SageMaker's prebuilt inference images that aws.sagemaker.get_prebuilt_ecr_image resolves.
PrebuiltRepository = Literal["sagemaker-scikit-learn", "sagemaker-xgboost", "pytorch-inference", "tensorflow-inference"]
MODELS_PREFIX = "models/"
DATA_CAPTURE_PREFIX = "data-capture/"


class PrebuiltImageConfig(Model):
    repository: PrebuiltRepository = Field(description="SageMaker prebuilt image repository (looked up per region with aws.sagemaker.get_prebuilt_ecr_image).")
    tag: str = Field(pattern=r"^[\w.-]{1,128}$", description="Image tag, e.g. 1.2-1-cpu-py3.")


class ModelSourceConfig(Model):
    """Exactly one of modelPackageArn, image or prebuiltImage."""

    model_package_arn: Annotated[str, AfterValidator(_model_package_version)] | None = Field(
        None, description="An approved model package version from the registry (its group must be the endpoint's modelPackageGroup)."
    )
    image: Annotated[str, AfterValidator(_ecr_image)] | None = Field(None, description="An ECR image URI (tag or digest).")
    prebuilt_image: PrebuiltImageConfig | None = Field(None, description="A SageMaker prebuilt image.")
    model_data_key: str | None = Field(
        None, pattern=r"^models/\S+$", description="Model data (model.tar.gz) key under the artifact store's models/ prefix; required with prebuiltImage."
    )
    environment: dict[Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$")], str] = Field(
        default_factory=dict, description="Container environment variables (no secrets: they are visible in DescribeModel)."
    )

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k, v in (("modelPackageArn", self.model_package_arn), ("image", self.image), ("prebuiltImage", self.prebuilt_image)) if v is not None]
        if len(given) != 1:
            raise ValueError(f"@modelPackageArn: set exactly one of modelPackageArn, image or prebuiltImage (got {', '.join(given) or 'none'})")
        if self.model_package_arn and self.model_data_key:
            raise ValueError("@modelDataKey: a model package carries its own model data; remove modelDataKey")
        if self.prebuilt_image and not self.model_data_key:
            raise ValueError("@modelDataKey: required with prebuiltImage (a key under models/)")
        return self

    @property
    def package_group(self) -> str | None:
        match = _MODEL_PACKAGE_VERSION.match(self.model_package_arn or "")
        return match.group(1) if match else None


class InstanceVariantConfig(Model):
    instance_type: SageMakerInstanceType = Field(description="ML instance type, checked against botocore.")
    initial_count: int = Field(1, ge=1, description="Instances when the variant is created (and after a blue/green rollout).")
    min_count: int = Field(1, ge=1, description="Autoscaling minimum.")
    max_count: int = Field(2, ge=1, description="Autoscaling maximum.")

    @model_validator(mode="after")
    def _ordered(self):
        if not self.min_count <= self.initial_count <= self.max_count:
            raise ValueError(
                f"@minCount: need minCount <= initialCount <= maxCount, got {self.min_count} <= {self.initial_count} <= {self.max_count}"
            )
        return self


class ChallengerVariantConfig(InstanceVariantConfig):
    """A second production variant for A/B tests; traffic is split by weight."""

    model: ModelSourceConfig = Field(description="The challenger's model.")
    traffic_percent: int = Field(ge=1, le=99, description="Share of traffic (1-99%); the primary variant gets the rest.")


class InstanceServingConfig(InstanceVariantConfig):
    autoscaling: bool = Field(
        True, description="Register the variants with Application Auto Scaling; false is step one of an instance-type change (docs/serving.md)."
    )
    target_invocations_per_instance: int = Field(100, ge=1, description="Target tracking value of SageMakerVariantInvocationsPerInstance (per minute).")
    scale_in_cooldown_seconds: int = Field(300, ge=0, description="Wait after a scale-in before another.")
    scale_out_cooldown_seconds: int = Field(60, ge=0, description="Wait after a scale-out before another.")
    challenger: ChallengerVariantConfig | None = Field(None, description="Optional second variant (A/B).")


class ServerlessServingConfig(Model):
    memory_size_mb: Annotated[int, AfterValidator(_serverless_memory)] = Field(description="Memory per concurrent invocation (aws_facts.json steps).")
    max_concurrency: Annotated[int, AfterValidator(_within_shape("ServerlessMaxConcurrency", "maxConcurrency"))] = Field(
        5, description="Concurrent invocations (botocore ServerlessMaxConcurrency bounds)."
    )


class DataCaptureSettings(Model):
    enabled: bool | None = Field(None, description="Capture requests/responses to data-capture/<endpoint>/; unset follows serving.dataCaptureByDefault (instance endpoints only).")
    sampling_percentage: Annotated[int, AfterValidator(_within_shape("SamplingPercentage", "samplingPercentage"))] = Field(
        20, description="Percentage of requests captured."
    )
    capture_modes: list[Literal["Input", "Output"]] = Field(default_factory=lambda: ["Input", "Output"], min_length=1, description="What to capture.")

    @model_validator(mode="after")
    def _some_sampling(self):
        if self.enabled is not False and self.sampling_percentage < 1:
            raise ValueError("@samplingPercentage: must be at least 1 when data capture is enabled")
        return self


CANARY_STEP_PERCENT = (1, 50)
LINEAR_STEP_PERCENT = (10, 50)


class DeploymentSettings(Model):
    strategy: Literal["canary", "linear"] = Field("canary", description="Blue/green traffic shifting: canary (one step, then the rest) or linear (equal steps).")
    size_percent: int = Field(10, description="Canary size (1-50%) or linear step (10-50%) of the new fleet's capacity.")
    wait_seconds: Annotated[int, AfterValidator(_within_shape("WaitIntervalInSeconds", "waitSeconds"))] = Field(
        300, description="Bake time between traffic shifts, watching the rollback alarms."
    )
    termination_wait_seconds: Annotated[int, AfterValidator(_within_shape("TerminationWaitInSeconds", "terminationWaitSeconds"))] = Field(
        300, description="Keep the old fleet this long after full shift, for a fast rollback."
    )
    maximum_execution_timeout_seconds: Annotated[int, AfterValidator(_within_shape("MaximumExecutionTimeoutInSeconds", "maximumExecutionTimeoutSeconds"))] | None = Field(
        None, description="Upper bound of the whole rollout (SageMaker's default when absent)."
    )

    @model_validator(mode="after")
    def _step_size(self):
        if not 1 <= self.size_percent <= 100:
            raise ValueError(f"@sizePercent: a percentage of the variant's capacity, 1..100, got {self.size_percent}")
        # botocore TrafficRoutingConfig docs: CanarySize <= 50% of the variant's instance count;
        # LinearStepSize 10-50%.
        low, high = CANARY_STEP_PERCENT if self.strategy == "canary" else LINEAR_STEP_PERCENT
        if not low <= self.size_percent <= high:
            raise ValueError(f"@sizePercent: a {self.strategy} step must be {low}..{high}% of the variant's capacity (SageMaker TrafficRoutingConfig), got {self.size_percent}")
        return self


class AlarmSettings(Model):
    server_errors_threshold: int = Field(5, ge=1, description="Invocation5XXErrors per minute (Sum) that trips the alarm and rolls a deployment back.")
    model_latency_threshold_ms: int = Field(1000, ge=1, description="ModelLatency (milliseconds) that trips the alarm.")
    latency_statistic: Literal["Average", "p90", "p95", "p99"] = Field("p99", description="Statistic of the latency alarm.")
    evaluation_periods: int = Field(3, ge=1, le=60, description="Consecutive one-minute periods over threshold before the alarm fires.")


class EndpointSettings(Model):
    name: Annotated[str, AfterValidator(_sagemaker_name("EndpointName"))] = Field(
        description="Short endpoint name; the physical name is <namePrefix>-<environment>-<name> (checked against SageMaker's limits)."
    )
    model_package_group: Annotated[str, AfterValidator(_sagemaker_name("EntityName"))] = Field(
        description="Model family: the registry's model package group name (one group per family)."
    )
    model: ModelSourceConfig = Field(description="What the primary variant serves.")
    instance: InstanceServingConfig | None = Field(None, description="Instance-based variants with autoscaling (exclusive with serverless).")
    serverless: ServerlessServingConfig | None = Field(None, description="Serverless variant (exclusive with instance): no cost when idle.")
    vpc: bool = Field(False, description="Run the model in the platform's private subnets with a dedicated security group.")
    network_isolation: bool = Field(False, description="No outbound network from the model container.")
    data_capture: DataCaptureSettings = Field(default_factory=DataCaptureSettings, description="Request/response capture.")
    deployment: DeploymentSettings = Field(default_factory=DeploymentSettings, description="Blue/green rollout of new endpoint configs.")
    alarms: AlarmSettings = Field(default_factory=AlarmSettings, description="Rollback alarm thresholds.")
    _capture_default: bool = PrivateAttr(False)

    @model_validator(mode="after")
    def _consistent(self):
        if (self.instance is None) == (self.serverless is None):
            raise ValueError("@instance: set exactly one of instance or serverless")
        if self.serverless is not None:
            # AWS "Serverless Inference feature exclusions": no VPC, isolation, capture, multiple variants.
            for flag, key in ((self.vpc, "vpc"), (self.network_isolation, "networkIsolation"), (self.data_capture.enabled is True, "dataCapture.enabled")):
                if flag:
                    raise ValueError(f"@{key}: serverless endpoints do not support it (AWS Serverless Inference feature exclusions); use instance variants")
        for key, source in (("model", self.model), ("instance.challenger.model", self.instance.challenger.model if self.instance and self.instance.challenger else None)):
            if source is not None and source.package_group not in (None, self.model_package_group):
                raise ValueError(f"@{key}.modelPackageArn: belongs to model package group {source.package_group!r}, not this endpoint's modelPackageGroup {self.model_package_group!r}")
        return self

    @property
    def captures_data(self) -> bool:
        """dataCapture.enabled as stated, else the environment default; never for serverless."""
        if self.data_capture.enabled is not None:
            return self.data_capture.enabled
        return self._capture_default and self.serverless is None

    @property
    def variant_names(self) -> list[str]:
        """Stable across endpoint configs: blue/green deployments require the same variant names."""
        return ["primary", "challenger"] if self.instance and self.instance.challenger else ["primary"]


class DriftBaseline(Model):
    statistics_uri: S3ObjectUri = Field(description="statistics.json from a Model Monitor baselining job.")
    constraints_uri: S3ObjectUri = Field(description="constraints.json from the same baselining job.")


class DriftMonitoringConfig(Model):
    enabled: bool = Field(False, description="Data-quality monitoring of every endpoint with data capture.")
    schedule_expression: str = Field("cron(0 * ? * * *)", min_length=1, max_length=256, description="Monitoring schedule (hourly by default).")
    instance_type: Annotated[str, AfterValidator(_processing_instance_type)] = Field("ml.m5.large", description="Processing instance of the monitoring job.")
    max_runtime_seconds: int = Field(1800, ge=60, le=3600, description="Monitoring job time limit (hourly schedules allow at most 3600).")
    baselines: dict[str, DriftBaseline] = Field(default_factory=dict, description="Baseline per endpoint name (s3:// URIs).")


class ServingConfig(Model):
    """SageMaker serving: endpoints, their registry groups and drift monitoring (components/serving)."""

    data_capture_by_default: bool = Field(False, description="Default of endpoints[].dataCapture.enabled for instance endpoints.")
    endpoints: list[EndpointSettings] = Field(default_factory=list, description="SageMaker endpoints.")
    drift_monitoring: DriftMonitoringConfig = Field(default_factory=DriftMonitoringConfig, description="Data-quality drift monitoring.")

    @model_validator(mode="after")
    def _endpoints(self):
        for endpoint in self.endpoints:
            # Private attributes may be set on frozen models; the stated value stays as written.
            endpoint._capture_default = self.data_capture_by_default
        names = [e.name for e in self.endpoints]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"@endpoints: endpoint names must be unique; repeated: {repeated}")
        drift = self.drift_monitoring
        captured = [e.name for e in self.endpoints if e.captures_data]
        for name in drift.baselines:
            if name not in captured:
                raise ValueError(f"@driftMonitoring.baselines.{name}: not an endpoint with data capture enabled (those are: {', '.join(captured) or 'none'})")
        if drift.enabled:
            missing = [n for n in captured if n not in drift.baselines]
            if missing:
                raise ValueError(f"@driftMonitoring.baselines: drift monitoring needs a baseline for every endpoint with data capture; missing: {', '.join(missing)}")
        return self

    def monitored_endpoints(self) -> list[EndpointSettings]:
        if not self.drift_monitoring.enabled:
            return []
        return [e for e in self.endpoints if e.name in self.drift_monitoring.baselines]

    def check_environment(self, environment: str, name_prefix: str, region: str) -> None:
        """Checks that need the environment, naming and region (called by PlatformConfig)."""
        limit, _ = facts.sagemaker_name_limits("EndpointConfigName")
        for index, endpoint in enumerate(self.endpoints):
            physical = "-".join((name_prefix, environment, endpoint.name))
            # The endpoint config is auto-named "<physical>-" + a 26-character unique suffix.
            room = limit - facts.PREFIXED_UNIQUE_SUFFIX_LENGTH - 1
            if len(physical) > room:
                raise ValueError(
                    f"@serving.endpoints.{index}.name: physical name {physical!r} is {len(physical)} characters; "
                    f"at most {room} leaves room for the endpoint config's {facts.PREFIXED_UNIQUE_SUFFIX_LENGTH}-character suffix (SageMaker limit {limit})"
                )
            if environment == "prod":
                if endpoint.instance is None:
                    raise ValueError(f"@serving.endpoints.{index}.serverless: prod endpoints are instance-based with at least 2 instances")
                if endpoint.instance.min_count < 2:
                    raise ValueError(f"@serving.endpoints.{index}.instance.minCount: prod needs at least 2 instances (spread over AZs), got {endpoint.instance.min_count}")
        if self.monitored_endpoints() and facts.model_monitor_image_uri(region) is None:
            raise ValueError(f"@serving.driftMonitoring.enabled: no Model Monitor analyzer image is listed for {region} in policies/awsfacts/aws_facts.json")


class PlatformConfig(Model):
    environment: Environment = Field(description="The environment this stack deploys; selects the per-environment defaults (ENVIRONMENT_DEFAULTS) and the checks that differ by environment.")
    region: str = Field(description="From aws:region; must be a region botocore knows.")
    owner: str = Field(min_length=1, max_length=256, description="Owning team; the `owner` tag.")
    cost_center: str = Field(min_length=1, max_length=256, description="The `cost-center` tag.")
    project: str = Field(PROJECT, description="The `project` tag, and the logical name of the root MlopsPlatform component.")
    name_prefix: str = Field("mlops", pattern=NAME_PREFIX_PATTERN, description=f"Short prefix of physical names ({NAME_PREFIX_RULE}); bootstrap's --name.")
    account_id: str = Field(
        pattern=r"^\d{12}$",
        description=(
            "The AWS account of this environment (one account per environment). The provider's allowedAccountIds: "
            "a deploy with credentials of any other account fails before it changes anything."
        ),
    )
    assume_role_arn: RoleArn | None = Field(None, description="Role the AWS provider assumes (per-environment accounts).")
    extra_tags: dict[TagKey, str] = Field(default_factory=dict, description="More tags on every taggable resource.")
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="VPC layout.")
    storage: StorageConfig = Field(default_factory=StorageConfig, description="Artifact store.")
    iam: IamConfig = Field(default_factory=IamConfig, description="IAM guardrails.")
    eks: EksConfig = Field(default_factory=EksConfig, description="EKS cluster and node groups.")
    serving: ServingConfig = Field(default_factory=ServingConfig, description="SageMaker serving.")
    ci_runner: CiRunnerConfig = Field(default_factory=CiRunnerConfig, description="The in-VPC CodeBuild GitHub Actions runner for layer 2 deploys.")

    @field_validator("region")
    @classmethod
    def _known_region(cls, region: str) -> str:
        if region not in facts.known_regions():
            raise ValueError(f"{region!r} is not an AWS region known to botocore")
        return region

    @model_validator(mode="after")
    def _one_account(self):
        arns = {
            "@iam.permissionsBoundaryArn": self.iam.permissions_boundary_arn,
            "@eks.deployRoleArn": self.eks.deploy_role_arn,
            "@assumeRoleArn": self.assume_role_arn,
            "@ciRunner.connectionArn": self.ci_runner.connection_arn,
            **{f"@eks.adminRoleArns.{i}": arn for i, arn in enumerate(self.eks.admin_role_arns)},
        }
        for key, arn in arns.items():
            if arn and arn.split(":")[4] != self.account_id:
                raise ValueError(f"{key}: {arn} is in account {arn.split(':')[4]}, not this environment's accountId {self.account_id}")
        return self

    @model_validator(mode="after")
    def _cross_section(self):
        if self.environment in ("staging", "prod") and self.eks.endpoint_public_access:
            raise ValueError(f"@eks.endpointPublicAccess: must be false in {self.environment} (CI reaches the private endpoint from its runner in the VPC)")
        if self.environment == "prod":
            if self.storage.force_destroy:
                raise ValueError("@storage.forceDestroy: not allowed in prod")
        self.serving.check_environment(self.environment, self.name_prefix, self.region)
        if self.storage.replication.enabled and self.storage.replication.region == self.region:
            raise ValueError(f"@storage.replication.region: must differ from aws:region ({self.region})")
        return self

    @property
    def default_tags(self) -> dict[str, str]:
        """Tags every taggable AWS resource carries, through the provider's default_tags."""
        return {
            **self.extra_tags,
            "environment": self.environment,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
            "project": self.project,
        }

    def resource_name(self, *parts: str) -> str:
        """Physical-name stem such as ``mlops-dev-artifacts``."""
        return "-".join((self.name_prefix, self.environment, *parts))


# ---------------------------------------------------------------------------------------------
# Parsing


def _deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _key_path(loc: tuple) -> str:
    path = CONFIG_KEY
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("function-after", "function-before") or "[" in str(part):
            continue
        else:
            path += f".{part}"
    return path


def _allowed_keys(loc: tuple) -> list[str]:
    """The keys a section accepts, for 'unknown key' errors."""
    model: Any = PlatformConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return []
        annotation = field.annotation
        inner = getattr(annotation, "__args__", None)
        candidates = [annotation, *(inner or [])]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return []
    return sorted((f.alias or n) for n, f in model.model_fields.items())


def _describe(error: dict) -> tuple[str, str]:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc)
        return _key_path(loc), f"unknown key; allowed keys: {', '.join(allowed)}"
    if kind == "missing":
        return _key_path(loc), "required key is missing"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if message.startswith("@"):
        # Cross-field checks name the key they are about: "@<relative.key>: <message>".
        relative, message = message[1:].split(": ", 1)
        loc = loc + tuple(int(part) if part.isdigit() else part for part in relative.split("."))
    return _key_path(loc), message


def parse_platform_config(raw: Any, region: Any, source: str) -> PlatformConfig:
    """Validate the structured ``platform`` object of a stack. Raises :class:`ConfigError`."""
    if raw is None:
        raise ConfigError(source, CONFIG_KEY, "required key is missing")
    if not isinstance(raw, dict):
        raise ConfigError(source, CONFIG_KEY, f"must be a mapping of settings, got {type(raw).__name__}")
    if region is None:
        raise ConfigError(source, REGION_KEY, "required key is missing (set the AWS region, e.g. us-east-1)")
    if "region" in raw:
        raise ConfigError(source, f"{CONFIG_KEY}.region", f"set the region with {REGION_KEY}, not inside the platform object")
    try:
        clock.today()
    except clock.ClockError as exc:
        raise ConfigError("environment", clock.TODAY_ENV, str(exc)) from None
    environment = raw.get("environment")
    defaults = ENVIRONMENT_DEFAULTS.get(environment, {}) if isinstance(environment, str) else {}
    merged = _deep_merge(defaults, raw)
    merged["region"] = region
    try:
        return PlatformConfig.model_validate(merged)
    except ValidationError as exc:
        errors = exc.errors()
        key_path, message = _describe(errors[0])
        if key_path == f"{CONFIG_KEY}.region":
            key_path = REGION_KEY
        if len(errors) > 1:
            message += f" (+{len(errors) - 1} more)"
        raise ConfigError(source, key_path, message) from None


def stack_file_for(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"


def load_from_pulumi_config() -> PlatformConfig:
    """Read the stack's config through the Pulumi runtime (real CLI or mocks) and validate it."""
    import pulumi

    source = stack_file_for(pulumi.get_stack())
    raw = pulumi.Config(PROJECT).get_object("platform")
    region = pulumi.Config("aws").get("region")
    return parse_platform_config(raw, region, source)
