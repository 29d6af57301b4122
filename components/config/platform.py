"""The root model of ``mlops-platform:platform``: identity, tags, and the checks across sections."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator, model_validator

from components import facts
from components.config.alerts import AlertsConfig
from components.config.base import NAME_PREFIX_PATTERN, NAME_PREFIX_RULE, Model, RoleArn, TagKey
from components.config.ci_runner import CiRunnerConfig
from components.config.eks import EksConfig
from components.config.environments import Environment
from components.config.iam import IamConfig
from components.config.images import SERVING, TRAINING, ImagesConfig
from components.config.network import NetworkConfig
from components.config.physical_names import BUCKET_STEMS, bucket_name_problem, name_stem, state_bucket_name
from components.config.promotion import PromotionConfig
from components.config.serving import ServingConfig
from components.config.storage import StorageConfig
from components.config.tags import PLATFORM_TAG_KEYS, tag_issues
from components.config.training import TrainingConfig
from policies.awsfacts import PROJECT

# Validation context: the keys (relative to the platform object, e.g. ``costCenter``) whose values
# are stand-ins for secrets the offline preview cannot decrypt; rules on their text are skipped.
UNKNOWN_KEYS_CONTEXT = "unknownKeys"


class PlatformConfig(Model):
    environment: Environment = Field(description="The environment this stack deploys; selects the per-environment defaults (ENVIRONMENT_DEFAULTS) and the checks that differ by environment.")
    region: str = Field(description="From aws:region; must be a region botocore knows.")
    owner: str = Field(min_length=1, max_length=256, description="Owning team; the `owner` tag (AWS tag value rules apply).")
    cost_center: str = Field(min_length=1, max_length=256, description="The `cost-center` tag (AWS tag value rules apply).")
    project: str = Field(PROJECT, description="The `project` tag (AWS tag value rules apply), and the logical name of the root MlopsPlatform component.")
    name_prefix: str = Field("mlops", pattern=NAME_PREFIX_PATTERN, description=f"Short prefix of physical names ({NAME_PREFIX_RULE}); bootstrap's --name. Every bucket name it makes must pass S3's naming rules (no `xn--`, `sthree-` or `amzn-s3-demo-` start).")
    account_id: str = Field(
        pattern=r"^\d{12}$",
        description=(
            "The AWS account of this environment (one account per environment). The provider's allowedAccountIds: "
            "a deploy with credentials of any other account fails before it changes anything."
        ),
    )
    assume_role_arn: RoleArn | None = Field(None, description="Role the AWS provider assumes (per-environment accounts).")
    extra_tags: dict[TagKey, str] = Field(
        default_factory=dict,
        description=(
            "More tags on every taggable resource. Keys and values follow AWS's tag rules (botocore: letters, digits, spaces and `_ . : / = + - @`; "
            "no `aws:` prefix in any case). Keys the platform writes itself are refused, in any case: its default tags "
            "(`environment`, `owner`, `cost-center`, `managed-by`, `project`) and its per-resource tags (`Name`, `node-group`, `mlops:role`, `mlops:expected-notifications-per-month`, `mlops:expected-storage-gb`, `mlops:expected-dispatches-per-month`, `EventBridgeApiDestinations`, `kubernetes.io/*`, `k8s.io/*`)."
        ),
    )
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="VPC layout.")
    storage: StorageConfig = Field(default_factory=StorageConfig, description="Artifact store.")
    iam: IamConfig = Field(default_factory=IamConfig, description="IAM guardrails.")
    eks: EksConfig = Field(default_factory=EksConfig, description="EKS cluster and node groups.")
    serving: ServingConfig = Field(default_factory=ServingConfig, description="SageMaker serving.")
    ci_runner: CiRunnerConfig = Field(default_factory=CiRunnerConfig, description="The in-VPC CodeBuild GitHub Actions runner for layer 2 deploys.")
    alerts: AlertsConfig = Field(default_factory=AlertsConfig, description="The platform's alert topic and who is subscribed to it.")
    images: ImagesConfig = Field(default_factory=ImagesConfig, description="ECR repositories of training and serving images, and who pushes to them.")
    promotion: PromotionConfig = Field(default_factory=PromotionConfig, description="Promotion by approval: the approval dispatch to GitHub, and sharing approved packages with the next environment.")
    training: TrainingConfig = Field(
        default_factory=TrainingConfig,
        description="Continuous training's environment-wide settings and experiment tracking; the families are serving.endpoints[].training (docs/training.md).",
    )

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
        if self.environment != "dev" and not self.training.vpc:
            raise ValueError(f"@training.vpc: must be true in {self.environment} (training reads production data: private subnets, network isolation)")
        if self.environment == "prod":
            if self.storage.force_destroy:
                raise ValueError("@storage.forceDestroy: not allowed in prod")
        self.serving.check_environment(self.environment, self.name_prefix, self.region)
        self.images.check_stack(self.resource_name(), self.account_id, self.region, self.serving)
        self.training.check_stack(
            [(e.name, e.training) for e in self.serving.endpoints],
            {e.name for e in self.serving.monitored_endpoints()},
            [r.name for r in self.images.of_purpose(TRAINING)],
            [r.name for r in self.images.of_purpose(SERVING)],
        )
        self.promotion.check_stack(
            self.environment, self.account_id, self.ci_runner.github_repo, [e.name for e in self.serving.promotable_endpoints()]
        )
        promoted_from = self.promotion.promoted_from
        self.serving.check_package_accounts(self.account_id, self.region, (promoted_from.environment, promoted_from.account_id) if promoted_from else None)
        if self.storage.replication.enabled and self.storage.replication.region == self.region:
            raise ValueError(f"@storage.replication.region: must differ from aws:region ({self.region})")
        return self

    @model_validator(mode="after")
    def _aws_accepts_the_tags(self, info: ValidationInfo):
        origins = {"environment": "environment", "owner": "owner", "cost-center": "costCenter", "project": "project"}
        unknown = (info.context or {}).get(UNKNOWN_KEYS_CONTEXT, ())
        lines = tag_issues(self.default_tags, origins, self.extra_tags, unknown)
        if lines:
            raise ValueError("\n".join(lines))
        return self

    @model_validator(mode="after")
    def _s3_accepts_the_bucket_names(self):
        # Every bucket name namePrefix produces: the store's (auto-named: prefix + a unique suffix of
        # lowercase hex) and bootstrap's state bucket for this account and region.
        suffix = "0" * facts.PREFIXED_UNIQUE_SUFFIX_LENGTH
        names = [(f"{self.resource_name(stem)}-{suffix}", f"{self.resource_name(stem)}-<{len(suffix)}-character suffix>") for stem in BUCKET_STEMS]
        state = state_bucket_name(self.name_prefix, self.account_id, self.region)
        for name, shown in [*names, (state, f"{state} (bootstrap's state bucket)")]:
            problem = bucket_name_problem(name)
            if problem:
                raise ValueError(f"@namePrefix: {self.name_prefix!r} makes the bucket name {shown}, which S3 refuses: it {problem}")
        return self

    @model_validator(mode="after")
    def _nodes_fit_the_private_subnets(self):
        groups = {"systemNodeGroup": self.eks.system_node_group, **{g.name: g for g in self.eks.gpu_node_groups}}
        nodes = sum(g.max_size for g in groups.values())
        addresses = self.network.private_addresses()
        if nodes > addresses:
            sizes = ", ".join(f"{name} {g.max_size}" for name, g in groups.items())
            raise ValueError(
                f"@eks: the node groups can grow to {nodes} nodes (maxSize: {sizes}), more than the {addresses} addresses of the private subnets "
                f"({', '.join(self.network.subnet_layout()[1])}, after the {facts.vpc_netmask_rules()['reservedAddressesPerSubnet']} AWS reserves in each); "
                "every node needs one, and its pods more"
            )
        return self

    @property
    def default_tags(self) -> dict[str, str]:
        """Tags every taggable AWS resource carries, through the provider's default_tags."""
        own = (self.environment, self.owner, self.cost_center, "pulumi", self.project)
        return {**self.extra_tags, **dict(zip(PLATFORM_TAG_KEYS, own, strict=True))}

    def resource_name(self, *parts: str) -> str:
        """Physical-name stem such as ``mlops-dev-artifacts``."""
        return "-".join((name_stem(self.name_prefix, self.environment), *parts))
