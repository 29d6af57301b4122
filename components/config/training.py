"""Continuous training: ``serving.endpoints[].training`` (one retraining pipeline per model family,
next to the endpoint it feeds) and the ``training`` section (what every family of the environment
shares, and experiment tracking). components/training builds them (docs/training.md).

Limits come from botocore's sagemaker model (components/facts.py): training instance types,
MLflow tracking server sizes and versions, metric names, volume and runtime bounds; GPU families
from policies/awsfacts/aws_facts.json.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, PrivateAttr, model_validator

from components import facts
from components.config.base import Model, ProcessingInstanceType
from components.config.storage import CHECKPOINTS_PREFIX, DATASETS_PREFIX, prefix_problem

# botocore's sagemaker StoppingCondition.MaxRuntimeInSeconds carries only a minimum; its
# documentation states the maximum: "The maximum value is 28 days." (tests/unit/test_training_config.py
# reads that sentence from the installed botocore, so a change there fails a test).
MAX_TRAINING_RUNTIME_SECONDS = 28 * 24 * 3600

# A metric of the evaluation step's report, as a dotted path into its JSON
# (e.g. ``binary_classification_metrics.auc.value`` or just ``auc``).
_METRIC_PATH = r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$"


def _training_instance_type(value: str) -> str:
    if value not in facts.sagemaker_training_instance_types():
        raise ValueError(f"unknown training instance type {value!r} (not in botocore's sagemaker TrainingInstanceType enum)")
    return value


def _tracking_server_size(value: str) -> str:
    allowed = facts.mlflow_tracking_server_sizes()
    if value not in allowed:
        raise ValueError(f"{value!r} is not a tracking server size; allowed: {', '.join(allowed)} (botocore sagemaker TrackingServerSize)")
    return value


def _mlflow_version(value: str) -> str:
    # botocore's MlflowVersion pattern leaves its dots unescaped; versions are digits and dots.
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", value) or not facts.name_matches_shape("sagemaker", "MlflowVersion", value):
        raise ValueError(f"{value!r} is not an MLflow version (e.g. 3.0 or 2.16.2; botocore sagemaker MlflowVersion)")
    return value


# EventBridge schedule expressions (EventBridge User Guide, "Schedule expressions for rules"):
# rate(<n> <unit>), the unit singular for 1 and plural otherwise, or cron() with six fields.
_RATE = re.compile(r"^rate\((?P<value>[1-9]\d*) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
_RATE_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"
# (name, lowest, highest, names allowed, extra forms beyond */n/n-m/steps)
_CRON_FIELDS = (
    ("minutes", 0, 59, None, None),
    ("hours", 0, 23, None, None),
    ("day-of-month", 1, 31, None, r"\?|L|LW|\d{1,2}W"),
    ("month", 1, 12, _MONTHS, None),
    ("day-of-week", 1, 7, _DAYS, r"\?|L|\dL|\d#[1-5]"),
    ("year", 1970, 2199, None, None),
)


def _cron_value_ok(text: str, low: int, high: int, names: str | None) -> bool:
    if names and re.fullmatch(names, text, re.IGNORECASE):
        return True
    return text.isdigit() and low <= int(text) <= high


def _cron_field_problem(text: str, name: str, low: int, high: int, names: str | None, extra: str | None) -> str | None:
    for item in text.split(","):
        if extra and re.fullmatch(extra, item):
            number = re.match(r"\d+", item)
            if number and not low <= int(number.group()) <= high:
                return f"{name} {item!r} is outside {low}-{high}"
            continue
        base, _, step = item.partition("/")
        if step and not (step.isdigit() and int(step) >= 1):
            return f"{name} step {step!r} is not a positive number"
        if base == "*":
            continue
        start, _, end = base.partition("-")
        if not _cron_value_ok(start, low, high, names) or (end and not _cron_value_ok(end, low, high, names)):
            allowed = f"{low}-{high}" + (f" or {names.replace('|', ', ')}" if names else "")
            return f"{name} {item!r} is not {allowed}, * or a range or list of them"
    return None


def _cron_problem(body: str) -> str | None:
    fields = body.split(" ")
    if len(fields) != len(_CRON_FIELDS):
        return f"cron() takes six fields (minutes hours day-of-month month day-of-week year), got {len(fields)}"
    for text, spec in zip(fields, _CRON_FIELDS, strict=True):
        if "?" in text and spec[0] not in ("day-of-month", "day-of-week"):
            return f"{spec[0]} cannot be '?' (only day-of-month or day-of-week)"
        problem = _cron_field_problem(text, *spec)
        if problem:
            return problem
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    return None


def _schedule_expression(value: str) -> str:
    rate = _RATE.match(value)
    if rate:
        singular = rate.group("value") == "1"
        if singular != (not rate.group("unit").endswith("s")):
            raise ValueError(f"{value!r}: EventBridge wants a singular unit for 1 (rate(1 day)) and a plural one otherwise (rate(2 days))")
        return value
    cron = re.fullmatch(r"cron\((.+)\)", value)
    problem = _cron_problem(cron.group(1)) if cron else "not rate(<n> <unit>) or cron(<six fields>)"
    if problem:
        raise ValueError(f"{value!r} is not an EventBridge schedule expression: {problem}")
    return value


def rate_minutes(expression: str) -> int | None:
    """The period of a ``rate()`` expression in minutes; None for ``cron()``."""
    rate = _RATE.match(expression)
    if rate is None:
        return None
    return int(rate.group("value")) * _RATE_MINUTES[rate.group("unit").removesuffix("s")]


MINUTES_PER_MONTH = 30 * 24 * 60


def max_guarded_runs_per_month(min_interval_minutes: int) -> int:
    """The most runs the retrain guard starts in a 30-day month: one per minimum interval."""
    return math.ceil(MINUTES_PER_MONTH / min_interval_minutes)


def _dataset_prefix(value: str) -> str:
    if value.startswith("s3://"):
        raise ValueError(
            f"{value!r}: give the key prefix under the artifact store's {DATASETS_PREFIX} (e.g. {DATASETS_PREFIX}churn/); "
            "the store's bucket is auto-named, so an s3:// URI cannot name it"
        )
    problem = prefix_problem(value, (DATASETS_PREFIX,))
    if problem or value == DATASETS_PREFIX:
        raise ValueError(problem or f"{value!r}: name the family's own prefix under {DATASETS_PREFIX} (e.g. {DATASETS_PREFIX}churn/), not all of it")
    return value


TrainingInstanceType = Annotated[str, AfterValidator(_training_instance_type)]
ScheduleExpression = Annotated[str, AfterValidator(_schedule_expression)]


class TrainingImageConfig(Model):
    repository: str = Field(min_length=1, description="Name of one of this stack's `images.repositories` with purpose `training`.")
    tag: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", description="Image tag (ECR's tag rule): a pinned version, so a rerun trains with the same code.")


class ServingImageConfig(Model):
    repository: str = Field(min_length=1, description="Name of one of this stack's `images.repositories` with purpose `serving`.")
    tag: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", description="Image tag (ECR's tag rule) the registered model package serves with.")


# The preparation and evaluation scripts ship in the training image: one image, one version of
# the family's code for all three jobs.
DEFAULT_PREPARE_COMMAND = ("python3", "/opt/program/prepare.py")
DEFAULT_EVALUATE_COMMAND = ("python3", "/opt/program/evaluate.py")


class ProcessingStepsConfig(Model):
    instance_type: ProcessingInstanceType = Field(
        "ml.m5.large", description="Processing instance of the data preparation and evaluation jobs (botocore's sagemaker ProcessingInstanceType enum)."
    )
    volume_size_gb: int = Field(
        30, ge=int(facts.shape_limits("sagemaker", "ProcessingVolumeSizeInGB")["min"]),
        le=int(facts.shape_limits("sagemaker", "ProcessingVolumeSizeInGB")["max"]),
        description="EBS volume per processing instance.",
    )
    max_runtime_seconds: int = Field(
        3600, ge=int(facts.shape_limits("sagemaker", "ProcessingMaxRuntimeInSeconds")["min"]),
        le=int(facts.shape_limits("sagemaker", "ProcessingMaxRuntimeInSeconds")["max"]),
        description="Time limit of each processing job.",
    )
    prepare_command: list[str] = Field(default_factory=lambda: list(DEFAULT_PREPARE_COMMAND), min_length=1, description="Entrypoint of the data preparation job, in the training image.")
    evaluate_command: list[str] = Field(default_factory=lambda: list(DEFAULT_EVALUATE_COMMAND), min_length=1, description="Entrypoint of the evaluation job, in the training image; it writes evaluation.json.")


class EvaluationConfig(Model):
    metric: str = Field(
        pattern=_METRIC_PATH,
        max_length=int(facts.shape_limits("sagemaker", "MetricName")["max"]),
        description="Metric in the evaluation step's JSON report, as a dotted path (e.g. `binary_classification_metrics.auc.value`); also the model package's metric.",
    )
    threshold: float = Field(description="The condition step registers the model only if the metric meets this value.")
    comparison: Literal["greaterThanOrEqualTo", "lessThanOrEqualTo"] = Field(
        "greaterThanOrEqualTo", description="How the metric must compare with threshold: `greaterThanOrEqualTo` (≥, e.g. AUC) or `lessThanOrEqualTo` (≤, e.g. RMSE)."
    )

    @property
    def operator(self) -> Literal[">=", "<="]:
        """The comparison as components.training's MetricGate spells it."""
        return ">=" if self.comparison == "greaterThanOrEqualTo" else "<="

    @model_validator(mode="after")
    def _finite(self):
        if not math.isfinite(self.threshold):
            raise ValueError(f"@threshold: must be a finite number, got {self.threshold}")
        return self


class TrainingScheduleConfig(Model):
    expression: ScheduleExpression = Field(description="EventBridge schedule expression: `rate(<n> <unit>)` or `cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)` (UTC).")
    enabled: bool | None = Field(None, description="Whether the schedule starts runs; unset follows training.schedulesByDefault (the schedule exists either way).")


class EndpointTrainingConfig(Model):
    """The retraining pipeline of one model family: data -> training -> evaluation -> condition ->
    a model package in the endpoint's modelPackageGroup, pending manual approval."""

    data_prefix: Annotated[str, AfterValidator(_dataset_prefix)] = Field(
        description="Training data: a key prefix under the artifact store's datasets/ (e.g. `datasets/churn/`); the store's bucket is auto-named, so no s3:// URI."
    )
    image: TrainingImageConfig = Field(description="Training image from this stack's ECR repositories.")
    instance_type: TrainingInstanceType = Field(description="ML training instance type (CPU or GPU; GPU families per policies/awsfacts/aws_facts.json).")
    instance_count: int = Field(1, ge=1, description="Training instances per run (more than 1: distributed training).")
    volume_size_gb: int = Field(
        30,
        ge=int(facts.shape_limits("sagemaker", "VolumeSizeInGB")["min"]),
        description="EBS volume per training instance; families with local NVMe storage use that instead (SageMaker ignores the size).",
    )
    spot: bool | None = Field(None, description="Managed spot training; unset follows training.spotByDefault.")
    max_runtime_seconds: int = Field(
        3600,
        ge=int(facts.shape_limits("sagemaker", "MaxRuntimeInSeconds")["min"]),
        le=MAX_TRAINING_RUNTIME_SECONDS,
        description="Training job time limit (botocore sagemaker StoppingCondition: at most 28 days).",
    )
    max_wait_seconds: int | None = Field(
        None,
        ge=int(facts.shape_limits("sagemaker", "MaxWaitTimeInSeconds")["min"]),
        description="Spot only, and required there: waiting for spot capacity plus running, at least maxRuntimeSeconds.",
    )
    checkpoints: bool | None = Field(
        None, description="Sync checkpoints to checkpoints/<endpoint>/ in the artifact store; unset: on with spot. Spot training requires them."
    )
    evaluation: EvaluationConfig = Field(description="The metric that decides whether a trained model is registered.")
    processing: ProcessingStepsConfig = Field(default_factory=ProcessingStepsConfig, description="The data preparation and evaluation jobs (the training image runs both).")
    serving_image: ServingImageConfig = Field(description="The inference image of the model packages the pipeline registers (a serving repository of this stack).")
    expected_runs_per_month: int | None = Field(
        None, ge=1, description="Runs a month the cost ceiling counts; unset: the most the retrain guard lets through (30 days / minIntervalMinutes)."
    )
    schedule: TrainingScheduleConfig | None = Field(None, description="Scheduled retraining; unset: no schedule.")
    retrain_on_drift: bool | None = Field(
        None, description="A drift-monitoring run with violations starts a retraining; unset: on when serving.driftMonitoring watches this endpoint."
    )
    min_interval_minutes: int = Field(
        360, ge=1, description="Retrain-storm guard: a run starts only when none is running and the last started at least this long ago."
    )
    _endpoint: str = PrivateAttr("")
    _spot_default: bool = PrivateAttr(False)
    _schedule_default: bool = PrivateAttr(False)
    _drift_default: bool = PrivateAttr(False)

    @model_validator(mode="after")
    def _consistent(self):
        if self.max_wait_seconds is not None and self.max_wait_seconds < self.max_runtime_seconds:
            raise ValueError(f"@maxWaitSeconds: must be at least maxRuntimeSeconds ({self.max_runtime_seconds}), got {self.max_wait_seconds}")
        if self.schedule is not None:
            period = rate_minutes(self.schedule.expression)
            if period is not None and self.min_interval_minutes >= period:
                raise ValueError(
                    f"@minIntervalMinutes: {self.min_interval_minutes} minutes is not shorter than the schedule's {self.schedule.expression} "
                    "(the guard would skip scheduled runs); make it shorter or the schedule longer"
                )
        return self

    @property
    def uses_spot(self) -> bool:
        """spot as stated, else the environment's training.spotByDefault."""
        return self._spot_default if self.spot is None else self.spot

    @property
    def uses_checkpoints(self) -> bool:
        return self.uses_spot if self.checkpoints is None else self.checkpoints

    @property
    def checkpoint_prefix(self) -> str:
        """Where checkpoints go: ``checkpoints/<endpoint>/`` (known once PlatformConfig has placed the family)."""
        if not self._endpoint:
            raise ValueError("checkpoint_prefix: this training config is not part of a validated PlatformConfig, so its endpoint is unknown")
        return f"{CHECKPOINTS_PREFIX}{self._endpoint}/"

    @property
    def schedule_enabled(self) -> bool:
        if self.schedule is None:
            return False
        return self._schedule_default if self.schedule.enabled is None else self.schedule.enabled

    @property
    def retrains_on_drift(self) -> bool:
        return self._drift_default if self.retrain_on_drift is None else self.retrain_on_drift

    @property
    def min_interval_seconds(self) -> int:
        """minIntervalMinutes as components.training's RetrainGuardArgs takes it."""
        return self.min_interval_minutes * 60

    @property
    def runs_per_month(self) -> int:
        """expectedRunsPerMonth, else the guard's ceiling: one start per minimum interval, 30 days a month."""
        return self.expected_runs_per_month or max_guarded_runs_per_month(self.min_interval_minutes)

    @property
    def uses_gpu(self) -> bool:
        return facts.is_gpu_sagemaker_type(self.instance_type)

    @property
    def has_instance_storage(self) -> bool:
        """Local NVMe storage, encrypted by the instance (SageMaker refuses a volume KMS key for it)."""
        return facts.has_instance_storage(self.instance_type)


class ExperimentsConfig(Model):
    enabled: bool = Field(False, description="SageMaker managed MLflow for this environment, its artifacts under experiments/ in the artifact store.")
    kind: Literal["serverless", "trackingServer"] = Field(
        "serverless",
        description=(
            "`serverless`: an MLflow app (aws.sagemaker.MlflowApp), no instance billed by the hour; "
            "`trackingServer`: an MLflow tracking server (aws.sagemaker.MlflowTrackingServer) of trackingServerSize, billed per hour while it runs."
        ),
    )
    tracking_server_size: Annotated[str, AfterValidator(_tracking_server_size)] | None = Field(
        None, description="Size of the tracking server (kind trackingServer only); unset: Small, SageMaker's default."
    )
    mlflow_version: Annotated[str, AfterValidator(_mlflow_version)] | None = Field(
        None, description="MLflow version of the tracking server (kind trackingServer only; an MLflow app has none to choose); unset: SageMaker's default."
    )
    automatic_model_registration: bool = Field(
        False, description="MLflow registers logged models in the SageMaker Model Registry by itself; off: only the pipelines register, in the endpoints' groups."
    )

    @model_validator(mode="after")
    def _kind_settings(self):
        if self.kind == "serverless":
            for value, key in ((self.tracking_server_size, "trackingServerSize"), (self.mlflow_version, "mlflowVersion")):
                if value is not None:
                    raise ValueError(f"@{key}: only with kind: trackingServer (aws.sagemaker.MlflowApp takes no {key})")
        return self

    @property
    def server_size(self) -> str | None:
        """The tracking server's size (None for an MLflow app)."""
        return (self.tracking_server_size or "Small") if self.kind == "trackingServer" else None


class TrainingConfig(Model):
    """What every model family's retraining shares in this environment, and experiment tracking (docs/training.md)."""

    spot_by_default: bool = Field(False, description="Default of serving.endpoints[].training.spot.")
    schedules_by_default: bool = Field(True, description="Default of serving.endpoints[].training.schedule.enabled.")
    vpc: bool = Field(
        True,
        description="The jobs run in the platform's private subnets with network isolation and inter-container encryption; off only where data and code are not sensitive (dev's default).",
    )
    experiments: ExperimentsConfig = Field(default_factory=ExperimentsConfig, description="Experiment tracking (SageMaker managed MLflow).")

    def check_stack(
        self,
        families: Sequence[tuple[str, EndpointTrainingConfig | None]],
        monitored: Collection[str],
        training_repositories: Sequence[str],
        serving_repositories: Sequence[str] = (),
    ) -> None:
        """Apply this section's defaults to each family and check it against the stack (called by
        PlatformConfig). ``families``: (endpoint name, its training) of serving.endpoints, in order;
        ``monitored``: the endpoints drift monitoring watches. A family's image is one of
        ``training_repositories``, spot comes with a maximum wait and checkpoints, and retraining on
        drift needs drift monitoring of the endpoint."""
        for index, (name, training) in enumerate(families):
            if training is None:
                continue
            # Private attributes may be set on frozen models; the stated values stay as written.
            training._endpoint = name
            training._spot_default = self.spot_by_default
            training._schedule_default = self.schedules_by_default
            training._drift_default = name in monitored
            where = f"@serving.endpoints.{index}.training"
            if training.image.repository not in training_repositories:
                raise ValueError(
                    f"{where}.image.repository: {training.image.repository!r} is not one of this stack's training repositories "
                    f"({', '.join(training_repositories) or 'none declared'}); declare it in images.repositories with purpose: training"
                )
            if training.serving_image.repository not in serving_repositories:
                raise ValueError(
                    f"{where}.servingImage.repository: {training.serving_image.repository!r} is not one of this stack's serving repositories "
                    f"({', '.join(serving_repositories) or 'none declared'}); declare it in images.repositories with purpose: serving"
                )
            spot = "spot" if training.spot is not None else "spot (training.spotByDefault)"
            if training.uses_spot and training.max_wait_seconds is None:
                raise ValueError(f"{where}.maxWaitSeconds: required with {spot}: the time to wait for capacity plus the runtime, at least maxRuntimeSeconds")
            if not training.uses_spot and training.max_wait_seconds is not None:
                raise ValueError(f"{where}.maxWaitSeconds: only with spot training (SageMaker's MaxWaitTimeInSeconds is for managed spot); remove it or set spot: true")
            if training.uses_spot and training.checkpoints is False:
                raise ValueError(f"{where}.checkpoints: {spot} requires checkpoints: a reclaimed instance resumes from them")
            if training.retrain_on_drift and name not in monitored:
                raise ValueError(
                    f"{where}.retrainOnDrift: drift monitoring does not watch endpoint {name!r} "
                    "(serving.driftMonitoring.enabled and a baseline in serving.driftMonitoring.baselines); enable it or remove retrainOnDrift"
                )
