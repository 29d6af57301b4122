"""SageMaker pipeline policies: every job step of a training pipeline encrypts with KMS and runs in the VPC.

They read the definition a pipeline carries inline (``pipelineDefinition``, the JSON string
components/training/pipeline_definition.py builds), through the reader the cost model uses
(``awsfacts/pipeline_definition.py``). The settings must be literals: a pipeline expression
(``{"Get": "Parameters..."}``) is chosen per execution, so an execution could weaken it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from awsfacts import pipeline_definition as pd
from awsfacts.instances import has_instance_storage
from packlib import SAGEMAKER_PIPELINE, PolicyList, Severity, is_true, pipeline_definition_of

POLICIES = PolicyList()

JOB_STEPS = (pd.PROCESSING_STEP, pd.TRAINING_STEP)


def job_steps(args, report: Callable[[str], None]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(label, type, arguments) of every Processing and Training step of the pipeline's definition.

    A step of another type that starts a job (Tuning, Transform, ...) is reported: this pack
    cannot judge its settings, so it does not pass unseen. An absent definition yields nothing; an
    unknown one raises (the SDK then reports the policy as not run during preview).
    """
    definition, problem = pipeline_definition_of(args.props)
    if problem:
        report(f"{problem}, so its steps cannot be checked.")
    if definition is None:
        return
    for step in pd.steps(definition):
        kind, name = step.get("Type"), step.get("Name", "?")
        if kind in JOB_STEPS:
            yield f"step {name} ({kind})", kind, pd.step_arguments(step)
        elif kind not in pd.STEPS_WITHOUT_COMPUTE:
            report(f"step {name} is a {kind} step, whose settings the pack cannot check; the platform's pipelines use {' and '.join(JOB_STEPS)} steps only.")


def _literal(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _instance_types(kind: str, arguments: Mapping[str, Any]) -> list[Any]:
    resources = pd.dig(arguments, pd.JOB_STEP_RESOURCES[kind])
    if not isinstance(resources, Mapping):
        return []
    groups = resources.get("InstanceGroups")  # heterogeneous training clusters name a type per group
    if isinstance(groups, list) and groups:
        return [g.get("InstanceType") if isinstance(g, Mapping) else None for g in groups]
    return [resources.get("InstanceType")]


def _takes_no_volume_key(kind: str, arguments: Mapping[str, Any]) -> bool:
    """Only local NVMe storage, which SageMaker encrypts in hardware and refuses a volume key for."""
    types = _instance_types(kind, arguments)
    return bool(types) and all(isinstance(t, str) and has_instance_storage(t) for t in types)


OUTPUT_KEY = {pd.PROCESSING_STEP: ("ProcessingOutputConfig", "KmsKeyId"), pd.TRAINING_STEP: ("OutputDataConfig", "KmsKeyId")}
VOLUME_KEY = {pd.PROCESSING_STEP: ("ProcessingResources", "ClusterConfig", "VolumeKmsKeyId"), pd.TRAINING_STEP: ("ResourceConfig", "VolumeKmsKeyId")}


@POLICIES.resource(
    "sagemaker-pipeline-kms",
    "Every processing and training step of a SageMaker pipeline encrypts its outputs and ML storage volumes with a KMS key.",
    types=(SAGEMAKER_PIPELINE,), category="security", severity=Severity.HIGH,
    remediation="Build the definition with components/training/pipeline_definition.py and its Encryption (the artifacts key for volumes and outputs); "
                "instance families with local NVMe storage (sagemakerInstanceStorageFamilies) take no volume key.",
)
def _check_pipeline_kms(args, report, cfg) -> None:
    for label, kind, arguments in job_steps(args, report):
        output_path = OUTPUT_KEY[kind]
        has_outputs = kind == pd.TRAINING_STEP or bool(pd.dig(arguments, ("ProcessingOutputConfig", "Outputs")))
        if has_outputs and not _literal(pd.dig(arguments, output_path)):
            report(f"{label}: {'.'.join(output_path)} is not a key ARN: what the job writes to S3 is not encrypted with a customer-managed key.")
        volume_path = VOLUME_KEY[kind]
        if not _takes_no_volume_key(kind, arguments) and not _literal(pd.dig(arguments, volume_path)):
            report(f"{label}: {'.'.join(volume_path)} is not a key ARN: the job's ML storage volumes are not encrypted with a customer-managed key.")


NETWORK = {
    pd.PROCESSING_STEP: (("NetworkConfig", "VpcConfig"), ("NetworkConfig", "EnableNetworkIsolation")),
    pd.TRAINING_STEP: (("VpcConfig",), ("EnableNetworkIsolation",)),
}


def _names_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_literal(v) for v in value)


@POLICIES.resource(
    "sagemaker-pipeline-network",
    "Every processing and training step of a SageMaker pipeline runs in the VPC (subnets and security groups) with network isolation.",
    types=(SAGEMAKER_PIPELINE,), category="security", severity=Severity.HIGH,
    remediation="Give the definition builder NetworkSettings with the VPC's private subnets and the jobs' security group (enable_network_isolation stays true).",
)
def _check_pipeline_network(args, report, cfg) -> None:
    for label, kind, arguments in job_steps(args, report):
        vpc_path, isolation_path = NETWORK[kind]
        vpc = pd.dig(arguments, vpc_path)
        where = ".".join(vpc_path)
        if not isinstance(vpc, Mapping):
            report(f"{label}: no {where}: the job runs outside the VPC.")
        else:
            for key in ("Subnets", "SecurityGroupIds"):
                if not _names_list(vpc.get(key)):
                    report(f"{label}: {where}.{key} names none: the job's network is not the VPC's.")
        if not is_true(pd.dig(arguments, isolation_path)):
            report(f"{label}: {'.'.join(isolation_path)} is not true: the job's containers can reach the network.")
