"""A typed builder of one model family's SageMaker Model Building Pipeline definition.

The pipeline: ``PrepareData`` (processing) -> ``Train`` (training) -> ``Evaluate`` (processing,
writes ``evaluation.json`` and exposes it as the ``EvaluationReport`` property file) ->
``CheckMetric`` (condition: ``Std:JsonGet`` on the report against the ``MetricThreshold``
parameter) -> ``RegisterModel`` (a model package in the family's group, ``PendingManualApproval``,
model-quality statistics pointing at the report), from where promotion by approval takes over.

Pure Python: no Pulumi, no AWS call. Every input is a plain string or number, so the pipeline
component builds the definition inside an ``Output.apply`` once the ARNs are known, and
``json.dumps`` of :func:`build_pipeline_definition`'s result is the ``pipelineDefinition`` body.
The output is compared with golden definitions written by the official SageMaker Python SDK
(tools/pipeline-goldens/, tests/unit/test_pipeline_definition.py).

Limits and patterns come from botocore's SageMaker model (``components.facts``), not from copies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from components import facts

DEFINITION_VERSION = "2020-12-01"
# A serverless endpoint names no instance type: its packages declare the smallest general-purpose one.
DEFAULT_INFERENCE_INSTANCE_TYPES = ("ml.m5.large",)
APPROVAL_STATUS = "PendingManualApproval"  # never a pipeline parameter: an execution cannot approve its own model

PREPARE_STEP = "PrepareData"
TRAIN_STEP = "Train"
EVALUATE_STEP = "Evaluate"
CHECK_STEP = "CheckMetric"
REGISTER_STEP = "RegisterModel"

INPUT_DATA_PARAMETER = "InputDataUri"
THRESHOLD_PARAMETER = "MetricThreshold"

EVALUATION_OUTPUT = "evaluation"
EVALUATION_REPORT = "EvaluationReport"
EVALUATION_FILE = "evaluation.json"
PREPARED_SPLITS = ("train", "validation", "test")
TRAINING_CHANNELS = ("train", "validation")

# Container paths of the processing jobs' inputs and outputs: the contract with the images.
PROCESSING_ROOT = "/opt/ml/processing"

# Which comparison a gate makes, as the definition language names it.
COMPARISONS: dict[str, str] = {">=": "GreaterThanOrEqualTo", "<=": "LessThanOrEqualTo"}


class PipelineDefinitionError(ValueError):
    """An input the pipeline definition cannot be built from; the message names the field."""


def _fail(field_name: str, problem: str) -> None:
    raise PipelineDefinitionError(f"pipeline definition: {field_name} {problem}")


def _check_shape(field_name: str, shape: str, value: str) -> None:
    if not isinstance(value, str) or not facts.name_matches_shape("sagemaker", shape, value):
        limits = facts.shape_limits("sagemaker", shape)
        _fail(field_name, f"is {value!r}; allowed: botocore sagemaker {shape} ({limits})")


def _check_s3_uri(field_name: str, value: str) -> None:
    if not isinstance(value, str) or not value.startswith("s3://") or len(value) <= len("s3://"):
        _fail(field_name, f"is {value!r}; allowed: an s3://bucket/prefix URI")
    _check_shape(field_name, "S3Uri", value)


def _check_int(field_name: str, shape: str, value: int) -> None:
    limits = facts.shape_limits("sagemaker", shape)
    low, high = limits.get("min", 1), limits.get("max")
    if isinstance(value, bool) or not isinstance(value, int) or value < max(low, 1) or (high is not None and value > high):
        _fail(field_name, f"is {value!r}; allowed: an integer from {max(low, 1)}" + (f" to {high}" if high is not None else ""))


def _check_kms_key(field_name: str, value: str) -> None:
    if not value:
        _fail(field_name, "is empty; allowed: a KMS key ARN, alias ARN or key id (every step encrypts)")
    _check_shape(field_name, "KmsKeyId", value)


def _check_strings(field_name: str, values: tuple[str, ...], *, shape: str | None = None, unique: bool = True) -> None:
    if not isinstance(values, tuple | list) or not values or not all(isinstance(v, str) and v for v in values):
        _fail(field_name, f"is {values!r}; allowed: a non-empty tuple of non-empty strings")
    if unique and len(set(values)) != len(values):
        _fail(field_name, f"repeats a value in {values!r}")
    for value in values:
        if shape:
            _check_shape(field_name, shape, value)


@dataclass(frozen=True)
class Encryption:
    """The KMS keys every job step uses; both are required, so no step runs unencrypted.

    volume_kms_key_id: encrypts the ML storage volumes of the processing and training jobs
        (``VolumeKmsKeyId``). Pass the platform's ``artifacts`` key: the volumes hold the same
        datasets and model artefacts as the store, and KEY_PURPOSES already gives SageMaker's
        endpoint volumes to it (the ``ebs`` key's policy is made for EKS nodes' Auto Scaling role).
    output_kms_key_id: encrypts what the jobs write to S3 (processing outputs, training's model
        artefacts: ``KmsKeyId`` of the output configs). Pass the ``artifacts`` key: the outputs
        land in the artifact store, whose objects that key encrypts, so serving and promotion read
        them with the grants they already have.
    """

    volume_kms_key_id: str
    output_kms_key_id: str

    def __post_init__(self) -> None:
        _check_kms_key("encryption.volume_kms_key_id", self.volume_kms_key_id)
        _check_kms_key("encryption.output_kms_key_id", self.output_kms_key_id)


@dataclass(frozen=True)
class NetworkSettings:
    """Where the jobs run: the VPC's private subnets and security groups.

    enable_network_isolation: no outbound network from the containers. Set on every step type the
        definition schema allows it for: Processing (``NetworkConfig.EnableNetworkIsolation``) and
        Training (``EnableNetworkIsolation``). The Condition and RegisterModel steps start no
        container, so they have neither VPC nor isolation settings.
    encrypt_inter_container_traffic: TLS between the instances of a multi-instance job.
    """

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    enable_network_isolation: bool = True
    encrypt_inter_container_traffic: bool = True

    def __post_init__(self) -> None:
        _check_strings("network.subnet_ids", self.subnet_ids, shape="SubnetId")
        _check_strings("network.security_group_ids", self.security_group_ids, shape="SecurityGroupId")

    def vpc_config(self) -> dict[str, Any]:
        return {"SecurityGroupIds": list(self.security_group_ids), "Subnets": list(self.subnet_ids)}


@dataclass(frozen=True)
class SpotTraining:
    """Managed spot training: interrupted jobs resume from checkpoints under ``checkpoint_s3_uri``.

    max_wait_seconds: the longest the job may wait for spot capacity plus run; SageMaker requires
        it to be at least the training job's maximum runtime.
    """

    checkpoint_s3_uri: str
    max_wait_seconds: int

    def __post_init__(self) -> None:
        _check_s3_uri("spot.checkpoint_s3_uri", self.checkpoint_s3_uri)
        _check_int("spot.max_wait_seconds", "MaxWaitTimeInSeconds", self.max_wait_seconds)


@dataclass(frozen=True)
class ProcessingJob:
    """One processing step's container and compute.

    entrypoint: the command the image runs (``AppSpecification.ContainerEntrypoint``).
    instance_type: in botocore's ``ProcessingInstanceType`` enum.
    max_runtime_seconds: the step's ``StoppingCondition``.
    """

    image_uri: str
    entrypoint: tuple[str, ...]
    instance_type: str
    instance_count: int = 1
    volume_size_gb: int = 30
    max_runtime_seconds: int = 3600

    def check(self, name: str) -> None:
        if not self.image_uri or not isinstance(self.image_uri, str):
            _fail(f"{name}.image_uri", "is empty; allowed: an ECR image URI")
        _check_strings(f"{name}.entrypoint", self.entrypoint, unique=False)
        if self.instance_type not in facts.sagemaker_processing_instance_types():
            _fail(f"{name}.instance_type", f"is {self.instance_type!r}; allowed: botocore's sagemaker ProcessingInstanceType enum")
        _check_int(f"{name}.instance_count", "ProcessingInstanceCount", self.instance_count)
        _check_int(f"{name}.volume_size_gb", "ProcessingVolumeSizeInGB", self.volume_size_gb)
        _check_int(f"{name}.max_runtime_seconds", "ProcessingMaxRuntimeInSeconds", self.max_runtime_seconds)


@dataclass(frozen=True)
class TrainingJob:
    """The training step's container, compute and limits.

    instance_type: in botocore's ``TrainingInstanceType`` enum (CPU or GPU).
    output_s3_uri: where SageMaker writes the model artefacts (``OutputDataConfig.S3OutputPath``;
        it appends the job name, so runs never overwrite each other).
    max_runtime_seconds: ``StoppingCondition.MaxRuntimeInSeconds``.
    spot: managed spot training with checkpoints, or None for on-demand.
    content_type: the MIME type of the prepared ``train`` and ``validation`` channels.
    """

    image_uri: str
    instance_type: str
    output_s3_uri: str
    max_runtime_seconds: int
    instance_count: int = 1
    volume_size_gb: int = 50
    spot: SpotTraining | None = None
    content_type: str = "text/csv"

    def __post_init__(self) -> None:
        if not self.image_uri or not isinstance(self.image_uri, str):
            _fail("training.image_uri", "is empty; allowed: an ECR image URI")
        if self.instance_type not in facts.sagemaker_training_instance_types():
            _fail("training.instance_type", f"is {self.instance_type!r}; allowed: botocore's sagemaker TrainingInstanceType enum")
        _check_s3_uri("training.output_s3_uri", self.output_s3_uri)
        _check_int("training.max_runtime_seconds", "MaxRuntimeInSeconds", self.max_runtime_seconds)
        _check_int("training.instance_count", "TrainingInstanceCount", self.instance_count)
        _check_int("training.volume_size_gb", "VolumeSizeInGB", self.volume_size_gb)
        if self.spot is not None and self.spot.max_wait_seconds < self.max_runtime_seconds:
            _fail(
                "spot.max_wait_seconds",
                f"is {self.spot.max_wait_seconds}; allowed: at least training.max_runtime_seconds ({self.max_runtime_seconds})",
            )


@dataclass(frozen=True)
class MetricGate:
    """Which evaluation metric decides registration.

    json_path: where the metric sits in ``evaluation.json`` (e.g. ``metrics.auc.value``).
    comparison: ``>=`` (a score that must reach the threshold) or ``<=`` (a loss that must not
        exceed it).
    threshold: the default of the ``MetricThreshold`` pipeline parameter.
    """

    json_path: str
    comparison: Literal[">=", "<="]
    threshold: float

    def __post_init__(self) -> None:
        if not isinstance(self.json_path, str) or not self.json_path.strip() or any(c.isspace() for c in self.json_path):
            _fail("gate.json_path", f"is {self.json_path!r}; allowed: a JSONPath into evaluation.json such as metrics.auc.value")
        if self.comparison not in COMPARISONS:
            _fail("gate.comparison", f"is {self.comparison!r}; allowed: {', '.join(COMPARISONS)}")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float) or not math.isfinite(self.threshold):
            _fail("gate.threshold", f"is {self.threshold!r}; allowed: a finite number")


@dataclass(frozen=True)
class ModelRegistration:
    """The model package the pipeline registers when the gate passes.

    model_package_group_name: the endpoint's group (promotion watches it).
    serving_image_uri: the inference image of the package.
    """

    model_package_group_name: str
    serving_image_uri: str
    content_types: tuple[str, ...] = ("text/csv",)
    response_types: tuple[str, ...] = ("text/csv",)
    inference_instance_types: tuple[str, ...] = DEFAULT_INFERENCE_INSTANCE_TYPES
    transform_instance_types: tuple[str, ...] = ("ml.m5.large",)

    def __post_init__(self) -> None:
        _check_shape("registration.model_package_group_name", "ArnOrName", self.model_package_group_name)
        if not self.serving_image_uri or not isinstance(self.serving_image_uri, str):
            _fail("registration.serving_image_uri", "is empty; allowed: an ECR image URI")
        _check_strings("registration.content_types", self.content_types)
        _check_strings("registration.response_types", self.response_types)
        _check_strings("registration.inference_instance_types", self.inference_instance_types)
        _check_strings("registration.transform_instance_types", self.transform_instance_types)
        for instance_type in self.inference_instance_types:
            if instance_type not in facts.sagemaker_instance_types():
                _fail("registration.inference_instance_types", f"has {instance_type!r}; allowed: botocore's ProductionVariantInstanceType enum")
        for instance_type in self.transform_instance_types:
            if instance_type not in facts.sagemaker_transform_instance_types():
                _fail("registration.transform_instance_types", f"has {instance_type!r}; allowed: botocore's TransformInstanceType enum")


@dataclass(frozen=True)
class PipelineDefinitionArgs:
    """Everything one family's pipeline definition is built from.

    pipeline_name: the SageMaker pipeline's name (botocore ``PipelineName``).
    role_arn: the execution role every job step runs as (the pipeline role).
    input_data_s3_uri: default of the ``InputDataUri`` parameter (the family's ``datasets/`` data).
    run_s3_prefix: where each execution's prepared splits and evaluation report go, under
        ``<prefix>/<execution id>/`` (the family's ``pipelines/`` prefix).
    network: the VPC, or None to run outside one (dev).
    """

    pipeline_name: str
    role_arn: str
    input_data_s3_uri: str
    run_s3_prefix: str
    encryption: Encryption
    preparation: ProcessingJob
    training: TrainingJob
    evaluation: ProcessingJob
    gate: MetricGate
    registration: ModelRegistration
    network: NetworkSettings | None = None

    def __post_init__(self) -> None:
        _check_shape("pipeline_name", "PipelineName", self.pipeline_name)
        _check_shape("role_arn", "RoleArn", self.role_arn)
        _check_s3_uri("input_data_s3_uri", self.input_data_s3_uri)
        _check_s3_uri("run_s3_prefix", self.run_s3_prefix)
        typed = {
            "encryption": Encryption,
            "training": TrainingJob,
            "gate": MetricGate,
            "registration": ModelRegistration,
            "preparation": ProcessingJob,
            "evaluation": ProcessingJob,
        }
        for name, kind in typed.items():
            if not isinstance(getattr(self, name), kind):
                _fail(name, f"is a {type(getattr(self, name)).__name__}; allowed: {kind.__name__}")
        if self.network is not None and not isinstance(self.network, NetworkSettings):
            _fail("network", f"is a {type(self.network).__name__}; allowed: NetworkSettings or None")
        # Checked here, not in ProcessingJob itself, so the message names which of the two steps.
        self.preparation.check("preparation")
        self.evaluation.check("evaluation")


# Definition-language expressions ----------------------------------------------------------------


def get(path: str) -> dict[str, str]:
    return {"Get": path}


def join(*values: Any, on: str = "/") -> dict[str, Any]:
    return {"Std:Join": {"On": on, "Values": list(values)}}


def processing_output_uri(step: str, output: str) -> dict[str, str]:
    return get(f"Steps.{step}.ProcessingOutputConfig.Outputs['{output}'].S3Output.S3Uri")


def _run_uri(args: PipelineDefinitionArgs, leaf: str) -> dict[str, Any]:
    return join(args.run_s3_prefix.rstrip("/"), get("Execution.PipelineExecutionId"), leaf)


# Steps ------------------------------------------------------------------------------------------


def _s3_input(name: str, source: Any, local_path: str) -> dict[str, Any]:
    return {
        "AppManaged": False,
        "InputName": name,
        "S3Input": {
            "LocalPath": local_path,
            "S3CompressionType": "None",
            "S3DataDistributionType": "FullyReplicated",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3Uri": source,
        },
    }


def _s3_output(name: str, destination: Any) -> dict[str, Any]:
    return {
        "AppManaged": False,
        "OutputName": name,
        "S3Output": {"LocalPath": f"{PROCESSING_ROOT}/{name}", "S3UploadMode": "EndOfJob", "S3Uri": destination},
    }


def _cluster(args: PipelineDefinitionArgs, instance_type: str, count: int, volume_size_gb: int) -> dict[str, Any]:
    """A job's compute. Families with local NVMe storage get no volume key: SageMaker refuses one
    for them (botocore's ResourceConfig / ProcessingClusterConfig ``VolumeKmsKeyId``); their
    instance's hardware module encrypts that storage."""
    cluster: dict[str, Any] = {"InstanceCount": count, "InstanceType": instance_type, "VolumeSizeInGB": volume_size_gb}
    if not facts.has_instance_storage(instance_type):
        cluster["VolumeKmsKeyId"] = args.encryption.volume_kms_key_id
    return dict(sorted(cluster.items()))


def _processing_arguments(args: PipelineDefinitionArgs, job: ProcessingJob, inputs: list[dict], outputs: list[dict]) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "AppSpecification": {"ContainerEntrypoint": list(job.entrypoint), "ImageUri": job.image_uri},
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {"KmsKeyId": args.encryption.output_kms_key_id, "Outputs": outputs},
        "ProcessingResources": {"ClusterConfig": _cluster(args, job.instance_type, job.instance_count, job.volume_size_gb)},
        "RoleArn": args.role_arn,
        "StoppingCondition": {"MaxRuntimeInSeconds": job.max_runtime_seconds},
    }
    if args.network is not None:
        arguments["NetworkConfig"] = {
            "EnableInterContainerTrafficEncryption": args.network.encrypt_inter_container_traffic,
            "EnableNetworkIsolation": args.network.enable_network_isolation,
            "VpcConfig": args.network.vpc_config(),
        }
    return arguments


def prepare_step(args: PipelineDefinitionArgs) -> dict[str, Any]:
    inputs = [_s3_input("raw", get(f"Parameters.{INPUT_DATA_PARAMETER}"), f"{PROCESSING_ROOT}/input")]
    outputs = [_s3_output(split, _run_uri(args, split)) for split in PREPARED_SPLITS]
    return {"Arguments": _processing_arguments(args, args.preparation, inputs, outputs), "Name": PREPARE_STEP, "Type": "Processing"}


def train_step(args: PipelineDefinitionArgs) -> dict[str, Any]:
    job = args.training
    channels = [
        {
            "ChannelName": channel,
            "ContentType": job.content_type,
            "DataSource": {
                "S3DataSource": {
                    "S3DataDistributionType": "FullyReplicated",
                    "S3DataType": "S3Prefix",
                    "S3Uri": processing_output_uri(PREPARE_STEP, channel),
                }
            },
        }
        for channel in TRAINING_CHANNELS
    ]
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": job.max_runtime_seconds}
    arguments: dict[str, Any] = {
        "AlgorithmSpecification": {"TrainingImage": job.image_uri, "TrainingInputMode": "File"},
        "InputDataConfig": channels,
        "OutputDataConfig": {"KmsKeyId": args.encryption.output_kms_key_id, "S3OutputPath": job.output_s3_uri},
        # Explicitly off: without it the service may start Debugger's system monitoring, which
        # writes to a location this definition does not choose.
        "ProfilerConfig": {"DisableProfiler": True},
        "ResourceConfig": _cluster(args, job.instance_type, job.instance_count, job.volume_size_gb),
        "RoleArn": args.role_arn,
        "StoppingCondition": stopping,
    }
    if job.spot is not None:
        arguments["EnableManagedSpotTraining"] = True
        arguments["CheckpointConfig"] = {"S3Uri": job.spot.checkpoint_s3_uri}
        stopping["MaxWaitTimeInSeconds"] = job.spot.max_wait_seconds
    if args.network is not None:
        arguments["EnableInterContainerTrafficEncryption"] = args.network.encrypt_inter_container_traffic
        arguments["EnableNetworkIsolation"] = args.network.enable_network_isolation
        arguments["VpcConfig"] = args.network.vpc_config()
    return {"Arguments": arguments, "Name": TRAIN_STEP, "Type": "Training"}


def model_artifacts() -> dict[str, str]:
    return get(f"Steps.{TRAIN_STEP}.ModelArtifacts.S3ModelArtifacts")


def evaluate_step(args: PipelineDefinitionArgs) -> dict[str, Any]:
    inputs = [
        _s3_input("model", model_artifacts(), f"{PROCESSING_ROOT}/model"),
        _s3_input("test", processing_output_uri(PREPARE_STEP, "test"), f"{PROCESSING_ROOT}/test"),
    ]
    outputs = [_s3_output(EVALUATION_OUTPUT, _run_uri(args, EVALUATION_OUTPUT))]
    return {
        "Arguments": _processing_arguments(args, args.evaluation, inputs, outputs),
        "Name": EVALUATE_STEP,
        "PropertyFiles": [{"FilePath": EVALUATION_FILE, "OutputName": EVALUATION_OUTPUT, "PropertyFileName": EVALUATION_REPORT}],
        "Type": "Processing",
    }


def register_step(args: PipelineDefinitionArgs) -> dict[str, Any]:
    registration = args.registration
    return {
        "Arguments": {
            "InferenceSpecification": {
                "Containers": [{"Image": registration.serving_image_uri, "ModelDataUrl": model_artifacts()}],
                "SupportedContentTypes": list(registration.content_types),
                "SupportedRealtimeInferenceInstanceTypes": list(registration.inference_instance_types),
                "SupportedResponseMIMETypes": list(registration.response_types),
                "SupportedTransformInstanceTypes": list(registration.transform_instance_types),
            },
            "ModelApprovalStatus": APPROVAL_STATUS,
            "ModelMetrics": {
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": join(processing_output_uri(EVALUATE_STEP, EVALUATION_OUTPUT), EVALUATION_FILE),
                    }
                }
            },
            "ModelPackageGroupName": registration.model_package_group_name,
            # The service's default, written out: the package is validated as usual.
            "SkipModelValidation": "None",
        },
        "Name": REGISTER_STEP,
        "Type": "RegisterModel",
    }


def check_step(args: PipelineDefinitionArgs) -> dict[str, Any]:
    metric = {"Std:JsonGet": {"Path": args.gate.json_path, "PropertyFile": get(f"Steps.{EVALUATE_STEP}.PropertyFiles.{EVALUATION_REPORT}")}}
    condition = {"LeftValue": metric, "RightValue": get(f"Parameters.{THRESHOLD_PARAMETER}"), "Type": COMPARISONS[args.gate.comparison]}
    return {
        "Arguments": {"Conditions": [condition], "ElseSteps": [], "IfSteps": [register_step(args)]},
        "Name": CHECK_STEP,
        "Type": "Condition",
    }


def parameters(args: PipelineDefinitionArgs) -> list[dict[str, Any]]:
    """Execution-time overrides: another dataset (a backfill, a drift window) and another bar.
    Instance types, keys and network stay fixed by config, so an execution cannot weaken them."""
    return [
        {"DefaultValue": args.input_data_s3_uri, "Name": INPUT_DATA_PARAMETER, "Type": "String"},
        {"DefaultValue": float(args.gate.threshold), "Name": THRESHOLD_PARAMETER, "Type": "Float"},
    ]


def build_pipeline_definition(args: PipelineDefinitionArgs) -> dict[str, Any]:
    """The definition as a dict; ``json.dumps`` it for ``aws.sagemaker.Pipeline``'s body."""
    if not isinstance(args, PipelineDefinitionArgs):
        _fail("args", f"is a {type(args).__name__}; allowed: PipelineDefinitionArgs")
    return {
        "Parameters": parameters(args),
        "Steps": [prepare_step(args), train_step(args), evaluate_step(args), check_step(args)],
        "Version": DEFINITION_VERSION,
    }
