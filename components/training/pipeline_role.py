"""What one model family's SageMaker pipeline execution role may do: the statements, no resources.

SageMaker Pipelines uses the pipeline's role for two things, and the platform gives every step
the same role, so the one role holds both:

- **orchestration**: the pipeline service creates the steps' processing and training jobs, watches
  and stops them, reads the evaluation report's property file, and registers the model package,
  all as this role (so it passes itself to SageMaker);
- **the jobs**: the containers run as the role, so it reads the family's data, writes the run's
  splits, the model and the checkpoints, pulls the images and writes logs.

Scoping. SageMaker names the jobs a pipeline starts ``pipelines-<execution id>-<step>-<suffix>``,
so no policy can name them by the platform's prefix: ``processing-job/pipelines-*`` and
``training-job/pipelines-*`` are the tightest ARNs. What keeps another job from being started as
this role (by the containers themselves, which hold its credentials) is what the request must
carry, checked with SageMaker's condition keys: the platform's key for volumes and outputs, the
configured instance types and, where the family runs in the VPC (staging, prod), network isolation,
inter-container encryption and exactly the VPC's subnets and security groups. Model packages go
into the family's group only, and only ``PendingManualApproval``: a run cannot approve its model.

Pure: :func:`pipeline_role_statements` returns :class:`Statement` objects for
``policy_document``; the trust policy is ``components.iam.roles.service_role``'s
(``sagemaker.amazonaws.com`` for this account only).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi

from components.config import CHECKPOINTS_PREFIX, DATASETS_PREFIX, MODELS_PREFIX, PIPELINES_PREFIX, prefix_problem
from components.iam.policy import Statement
from components.iam.sagemaker import sagemaker_runtime_statements, sagemaker_vpc_statements
from components.keys import KmsAction, PlatformKey
from components.scope import AwsScope
from components.serving.registry import group_versions_arn
from components.training.pipeline_definition import APPROVAL_STATUS

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
# The name SageMaker gives every job a pipeline step starts (pipelines-<execution id>-<step>-…).
PIPELINE_JOB_NAME_PREFIX = "pipelines-"

CREATE_JOB_ACTIONS = ("sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob")
# The pipeline service polls its jobs and stops them when an execution is stopped.
WATCH_JOB_ACTIONS = ("sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopProcessingJob", "sagemaker:StopTrainingJob")
REGISTER_ACTIONS = ("sagemaker:CreateModelPackage",)
# Tags the pipeline service puts on what it creates (sagemaker:pipeline-execution-arn, …),
# allowed only as part of those create calls (sagemaker:TaggingAction).
TAG_ON_CREATE_ACTIONS = ("sagemaker:AddTags",)
TAGGING_CREATE_OPERATIONS = ("CreateModelPackage", "CreateProcessingJob", "CreateTrainingJob")


class StoreGrants(Protocol):
    """What the role needs of the artifact store: ``ArtifactStore.grant_statements``."""

    def grant_statements(self, prefix: str, *, read: bool, write: bool) -> list[Statement]: ...


@dataclass(frozen=True)
class PipelineNetwork:
    """The VPC the family's jobs run in (staging and prod): the jobs must ask for network isolation,
    inter-container traffic encryption and no subnets or security groups but these."""

    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    security_group_ids: Sequence[pulumi.Input[str]]

    def __post_init__(self) -> None:
        if not self.subnet_ids or not self.security_group_ids:
            raise ValueError("pipeline role: a VPC network needs at least one subnet and one security group")


@dataclass(frozen=True)
class PipelineRoleArgs:
    """Everything one family's pipeline role statements are built from.

    scope: the stack's account, region and partition (job, log and ENI ARNs).
    role_arn: the pipeline role's own ARN (the only role it may pass).
    store: the artifact store (its ``grant_statements``).
    key: the platform key every step encrypts volumes and outputs with (the ``artifacts`` key, as
        ``PipelineDefinitionArgs.encryption`` is given it); the definition must name it by ARN,
        which is what ``sagemaker:VolumeKmsKeyArn`` and ``sagemaker:OutputKmsKeyArn`` compare.
    data_prefix: the family's data, read only (under ``datasets/``).
    run_prefix: each execution's splits and evaluation report (under ``pipelines/``).
    model_prefix: the trained model artefacts (under ``models/``).
    checkpoint_prefix: spot training's checkpoints (under ``checkpoints/``), None without them.
    model_package_group_arn: the family's group (``aws.sagemaker.ModelPackageGroup.arn``).
    image_repository_arns: repositories pulled through this policy (default none: the platform
        grants the training and serving repositories with ``ImageRepositories.grant_pull``, which
        also names the role in the repositories' policies).
    processing_instance_types / training_instance_types: the only instance types the jobs may ask for.
    training_volume_encrypted / processing_volume_encrypted: False for instance families with local
        NVMe storage, which take no volume key (``has_instance_storage``).
    network: the VPC (staging, prod) or None (dev).
    """

    scope: AwsScope
    role_arn: pulumi.Input[str]
    store: StoreGrants
    key: PlatformKey
    data_prefix: str
    run_prefix: str
    model_prefix: str
    model_package_group_arn: pulumi.Input[str]
    processing_instance_types: Sequence[str]
    training_instance_types: Sequence[str]
    image_repository_arns: Sequence[pulumi.Input[str]] = ()
    checkpoint_prefix: str | None = None
    training_volume_encrypted: bool = True
    processing_volume_encrypted: bool = True
    network: PipelineNetwork | None = None

    def __post_init__(self) -> None:
        under = {
            "data_prefix": (self.data_prefix, DATASETS_PREFIX),
            "run_prefix": (self.run_prefix, PIPELINES_PREFIX),
            "model_prefix": (self.model_prefix, MODELS_PREFIX),
        }
        if self.checkpoint_prefix is not None:
            under["checkpoint_prefix"] = (self.checkpoint_prefix, CHECKPOINTS_PREFIX)
        for name, (prefix, parent) in under.items():
            problem = prefix_problem(prefix, (parent,))
            if problem:
                raise ValueError(f"pipeline role: {name}: {problem}")
        if not self.processing_instance_types or not self.training_instance_types:
            raise ValueError("pipeline role: the processing and training instance types are needed")


def _camel(prefix: str) -> str:
    # The prefixes lie under different top-level prefixes, so their first segments keep them apart.
    words = (part for segment in prefix.strip("/").split("/") for part in segment.split("-"))
    return "".join("".join(c for c in word if c.isalnum()).capitalize() for word in words)


def _store_statements(args: PipelineRoleArgs) -> list[Statement]:
    """The store's grants, each renamed after its prefix: one policy's Sids must be unique.

    The family's data is read only. The run prefix, the models and the checkpoints are read as
    well as written: the training and evaluation jobs read the splits, the pipeline service reads
    the evaluation report (``Std:JsonGet``), evaluation reads the model, and a resumed spot job
    reads its checkpoints back.
    """
    grants = [(args.data_prefix, False), (args.run_prefix, True), (args.model_prefix, True)]
    if args.checkpoint_prefix is not None:
        grants.append((args.checkpoint_prefix, True))
    statements = []
    for prefix, write in grants:
        name = _camel(prefix)
        statements += [dataclasses.replace(s, sid=f"{name}{s.sid}") for s in args.store.grant_statements(prefix, read=True, write=write)]
    return statements


def _job_arns(scope: AwsScope) -> list[pulumi.Output[str]]:
    base = pulumi.Output.concat("arn:", scope.partition, ":sagemaker:", scope.region, ":", scope.account_id, ":")
    return [pulumi.Output.concat(base, kind, "/", PIPELINE_JOB_NAME_PREFIX, "*") for kind in ("processing-job", "training-job")]


def _values(values: pulumi.Input[Sequence[pulumi.Input[str]]]) -> pulumi.Input[list]:
    # The network's subnet ids are one Output of a list; a literal sequence is written as a list.
    return values if isinstance(values, pulumi.Output) else list(values)


def _job_shape_conditions(args: PipelineRoleArgs, instance_types: Sequence[str], *, volume_encrypted: bool) -> dict[str, dict]:
    """What every job request must carry: the platform key for outputs (and volumes), only the
    configured instance types and, in the VPC, isolation, encryption and the VPC's own network."""
    key_arns = {"sagemaker:OutputKmsKeyArn": args.key.arn}
    if volume_encrypted:
        key_arns["sagemaker:VolumeKmsKeyArn"] = args.key.arn
    conditions: dict[str, dict] = {
        "ArnEquals": key_arns,
        # ForAllValues holds for a request without the key, so Null makes it required.
        "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": list(instance_types)},
        "Null": {"sagemaker:InstanceTypes": "false"},
    }
    if args.network is not None:
        conditions["Bool"] = {"sagemaker:NetworkIsolation": "true", "sagemaker:InterContainerTrafficEncryption": "true"}
        conditions["ForAllValues:StringEquals"].update(
            {"sagemaker:VpcSubnets": _values(args.network.subnet_ids), "sagemaker:VpcSecurityGroupIds": list(args.network.security_group_ids)}
        )
        conditions["Null"].update({"sagemaker:VpcSubnets": "false", "sagemaker:VpcSecurityGroupIds": "false"})
    return conditions


def _sagemaker_statements(args: PipelineRoleArgs) -> list[Statement]:
    processing_arn, training_arn = _job_arns(args.scope)
    packages = group_versions_arn(args.model_package_group_arn)
    return [
        Statement(
            sid="CreatePipelineProcessingJobs",
            actions=["sagemaker:CreateProcessingJob"],
            resources=[processing_arn],
            conditions=_job_shape_conditions(args, args.processing_instance_types, volume_encrypted=args.processing_volume_encrypted),
        ),
        Statement(
            sid="CreatePipelineTrainingJobs",
            actions=["sagemaker:CreateTrainingJob"],
            resources=[training_arn],
            conditions=_job_shape_conditions(args, args.training_instance_types, volume_encrypted=args.training_volume_encrypted),
        ),
        Statement(sid="WatchPipelineJobs", actions=list(WATCH_JOB_ACTIONS), resources=[processing_arn, training_arn]),
        Statement(
            sid="RegisterPendingModelPackages",
            actions=list(REGISTER_ACTIONS),
            resources=[packages],
            conditions={"StringEquals": {"sagemaker:ModelApprovalStatus": APPROVAL_STATUS}},
        ),
        Statement(
            sid="TagOnCreate",
            actions=list(TAG_ON_CREATE_ACTIONS),
            resources=[processing_arn, training_arn, packages],
            conditions={"StringEquals": {"sagemaker:TaggingAction": list(TAGGING_CREATE_OPERATIONS)}},
        ),
        Statement(
            sid="PassItselfToSageMaker",
            actions=["iam:PassRole"],
            resources=[args.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
        ),
    ]


def _volume_key_statements(key: PlatformKey) -> list[Statement]:
    # The jobs' volumes are encrypted through a grant SageMaker creates on the key. Only grant
    # operations carry kms:GrantIsForAWSResource, so DescribeKey needs a statement of its own
    # (the drift monitor's role does the same, components/serving/monitoring.py).
    return [
        key.allow("DescribeVolumeKey", [KmsAction.DESCRIBE_KEY]),
        key.allow("GrantVolumeKeyToAwsResources", [KmsAction.CREATE_GRANT], for_aws_resources=True),
    ]


def pipeline_role_statements(args: PipelineRoleArgs) -> list[Statement]:
    """The identity-policy statements of one family's pipeline execution role (module docstring)."""
    statements = [
        *_sagemaker_statements(args),
        *_store_statements(args),
        *_volume_key_statements(args.key),
        # Registry login, pull on the given repositories, logs under /aws/sagemaker/ (where the
        # jobs' log groups, /aws/sagemaker/ProcessingJobs and /aws/sagemaker/TrainingJobs, are).
        *sagemaker_runtime_statements(args.scope, list(args.image_repository_arns)),
    ]
    if args.network is not None:
        statements += sagemaker_vpc_statements(args.scope, args.network.vpc_id, list(args.network.security_group_ids))
    return statements
