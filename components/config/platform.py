"""The root model of ``mlops-platform:platform``: identity, tags, and the checks across sections."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from components import facts
from components.config.base import NAME_PREFIX_PATTERN, NAME_PREFIX_RULE, Model, RoleArn, TagKey
from components.config.ci_runner import CiRunnerConfig
from components.config.eks import EksConfig
from components.config.environments import Environment
from components.config.iam import IamConfig
from components.config.network import NetworkConfig
from components.config.serving import ServingConfig
from components.config.storage import StorageConfig
from policies.awsfacts import PROJECT


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
