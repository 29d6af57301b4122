"""The ``serving`` section: SageMaker endpoints, their variants and rollouts, and drift monitoring.

Limits come from botocore's sagemaker model (components/facts.py); facts botocore lacks
(serverless memory steps, local-storage families, Model Monitor image accounts) from
policies/awsfacts/aws_facts.json.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, NamedTuple

from pydantic import AfterValidator, Field, PrivateAttr, model_validator

from components import facts
from components.config.base import Model, ProcessingInstanceType, repeated
from components.config.storage import MODELS_PREFIX
from components.config.training import EndpointTrainingConfig


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
_MODEL_PACKAGE_VERSION = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):model-package/(?P<group>[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})/(?P<version>\d+)$"
)
_S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(\S+[^/])$")


class ModelPackageArnParts(NamedTuple):
    region: str
    account: str
    group: str
    version: str


def model_package_arn_parts(arn: str | None) -> ModelPackageArnParts | None:
    """Region, account, group and version of a versioned model package ARN; None for anything else."""
    match = _MODEL_PACKAGE_VERSION.match(arn or "")
    return ModelPackageArnParts(*match.group("region", "account", "group", "version")) if match else None


def ecr_image_parts(uri: str) -> tuple[str, str, str]:
    """(account, region, repository) of a validated ECR image URI."""
    match = _ECR_IMAGE.match(uri)
    if match is None:
        raise ValueError(f"{uri!r} is not an ECR image URI")
    return match.group(1), match.group(2), match.group(4)


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
        None, pattern=rf"^{MODELS_PREFIX}\S+$", description="Model data (model.tar.gz) key under the artifact store's models/ prefix; required with prebuiltImage."
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
        parts = model_package_arn_parts(self.model_package_arn)
        return parts.group if parts else None


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


class DataCaptureConfig(Model):
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


class DeploymentConfig(Model):
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


class AlarmConfig(Model):
    server_errors_threshold: int = Field(5, ge=1, description="Invocation5XXErrors per minute (Sum) that trips the alarm and rolls a deployment back.")
    model_latency_threshold_ms: int = Field(1000, ge=1, description="ModelLatency (milliseconds) that trips the alarm.")
    latency_statistic: Literal["Average", "p90", "p95", "p99"] = Field("p99", description="Statistic of the latency alarm.")
    evaluation_periods: int = Field(3, ge=1, le=60, description="Consecutive one-minute periods over threshold before the alarm fires.")


class EndpointConfig(Model):
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
    data_capture: DataCaptureConfig = Field(default_factory=DataCaptureConfig, description="Request/response capture.")
    deployment: DeploymentConfig = Field(default_factory=DeploymentConfig, description="Blue/green rollout of new endpoint configs.")
    alarms: AlarmConfig = Field(default_factory=AlarmConfig, description="Rollback alarm thresholds.")
    training: EndpointTrainingConfig | None = Field(
        None, description="Continuous training of this endpoint's model family into its modelPackageGroup (docs/training.md)."
    )
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
    def model_sources(self) -> dict[str, ModelSourceConfig]:
        """Each variant's model by its key under the endpoint: ``model`` and, with a challenger, ``instance.challenger.model``."""
        sources = {"model": self.model}
        if self.instance and self.instance.challenger:
            sources["instance.challenger.model"] = self.instance.challenger.model
        return sources

    @property
    def variant_names(self) -> list[str]:
        """Stable across endpoint configs: blue/green deployments require the same variant names."""
        return ["primary", "challenger"] if self.instance and self.instance.challenger else ["primary"]


class DriftBaselineConfig(Model):
    statistics_uri: S3ObjectUri = Field(description="statistics.json from a Model Monitor baselining job.")
    constraints_uri: S3ObjectUri = Field(description="constraints.json from the same baselining job.")


class DriftMonitoringConfig(Model):
    enabled: bool = Field(False, description="Data-quality monitoring of every endpoint with data capture.")
    schedule_expression: str = Field("cron(0 * ? * * *)", min_length=1, max_length=256, description="Monitoring schedule (hourly by default).")
    instance_type: ProcessingInstanceType = Field("ml.m5.large", description="Processing instance of the monitoring job.")
    max_runtime_seconds: int = Field(1800, ge=60, le=3600, description="Monitoring job time limit (hourly schedules allow at most 3600).")
    baselines: dict[str, DriftBaselineConfig] = Field(default_factory=dict, description="Baseline per endpoint name (s3:// URIs).")


class ServingConfig(Model):
    """SageMaker serving: endpoints, their registry groups and drift monitoring (components/serving)."""

    data_capture_by_default: bool = Field(False, description="Default of endpoints[].dataCapture.enabled for instance endpoints.")
    endpoints: list[EndpointConfig] = Field(default_factory=list, description="SageMaker endpoints.")
    drift_monitoring: DriftMonitoringConfig = Field(default_factory=DriftMonitoringConfig, description="Data-quality drift monitoring.")

    @model_validator(mode="after")
    def _endpoints(self):
        for endpoint in self.endpoints:
            # Private attributes may be set on frozen models; the stated value stays as written.
            endpoint._capture_default = self.data_capture_by_default
        duplicates = repeated([e.name for e in self.endpoints])
        if duplicates:
            raise ValueError(f"@endpoints: endpoint names must be unique; repeated: {duplicates}")
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

    def promotable_endpoints(self) -> list[EndpointConfig]:
        """Endpoints whose champion is a registry model package: what promotion can rewrite (an
        image-served endpoint has no package to promote)."""
        return [e for e in self.endpoints if e.model.model_package_arn]

    def monitored_endpoints(self) -> list[EndpointConfig]:
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

    def check_package_accounts(self, account: str, region: str, promoted_from: tuple[str, str] | None) -> None:
        """Every model package is in this stack's region, in its own registry or in the registry of
        ``promoted_from`` (environment, account: ``promotion.promotedFrom``), which shares its
        packages with this account; any other account's package is refused (called by PlatformConfig)."""
        for index, endpoint in enumerate(self.endpoints):
            for key, source in endpoint.model_sources.items():
                parts = model_package_arn_parts(source.model_package_arn)
                if parts is None:
                    continue
                where = f"@serving.endpoints.{index}.{key}.modelPackageArn"
                if parts.region != region:
                    raise ValueError(f"{where}: is in region {parts.region}; SageMaker deploys a model package in its own region, this stack's is {region}")
                if parts.account == account or (promoted_from and parts.account == promoted_from[1]):
                    continue
                allowed = (f"or of promotion.promotedFrom's ({promoted_from[0]}, {promoted_from[1]}), which shares its packages with this account"
                           if promoted_from else "only (promotion.promotedFrom names the one other registry a stack may deploy from)")
                raise ValueError(f"{where}: is in account {parts.account}; this stack deploys the packages of its own registry (accountId {account}) {allowed}")
