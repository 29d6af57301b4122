"""RetrainingPipeline: one model family's continuous training, from data to a model package that
waits for approval in the endpoint's group (promotion takes over from there, docs/promotion.md).

What it creates, all AWS-managed (no function code):

- the pipeline execution role (:func:`pipeline_role_statements`; the training images through the
  image repositories' ``grant_pull``, so the repository policies name the role);
- in the VPC (``training.vpc``), a security group for the jobs: no inbound from outside the group,
  the group's own instances to each other (distributed training), HTTPS out;
- the ``aws.sagemaker.Pipeline``, its definition from the typed builder
  (``build_pipeline_definition``): prepare -> train -> evaluate -> a condition on the metric ->
  register ``PendingManualApproval``;
- the retrain guard (a Step Functions state machine, ``retrain_guard_definition``) and its role:
  the schedule and drift rules start the guard, never the pipeline, so no trigger can start a run
  while one is active or before the minimum interval has passed;
- the schedule rule (built disabled where ``schedule_enabled`` is false, so switching it on is
  one key) and, where ``retrains_on_drift``, the drift rule, which also tells the alert topic that
  drift asked for a retraining; the rules' role may start only this guard.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from components import facts
from components.alerts.events import (
    PROCESSING_JOB_STATE_CHANGE,
    SAGEMAKER_SOURCE,
    VIOLATIONS_EXIT_MESSAGE_PREFIX,
    monitoring_schedules_prefix,
)
from components.config import (
    MODELS_PREFIX,
    PIPELINES_PREFIX,
    EndpointConfig,
    EndpointTrainingConfig,
    retrain_guard_name,
    retrain_rule_name,
    training_pipeline_name,
)
from components.config.images import SERVING, TRAINING
from components.iam.policy import Statement
from components.iam.roles import inline_policy, service_role
from components.keys import PlatformKey
from components.network.rules import https_to_aws_apis
from components.scope import AwsScope
from components.training.pipeline_definition import (
    DEFAULT_INFERENCE_INSTANCE_TYPES,
    Encryption,
    MetricGate,
    ModelRegistration,
    NetworkSettings,
    PipelineDefinitionArgs,
    ProcessingJob,
    SpotTraining,
    TrainingJob,
    build_pipeline_definition,
)
from components.training.pipeline_role import PipelineNetwork, PipelineRoleArgs, pipeline_role_statements
from components.training.retrain_guard import (
    DRIFT_TRIGGER,
    SCHEDULE_TRIGGER,
    RetrainGuardArgs,
    retrain_guard_definition,
    retrain_guard_statements,
)
from policies.awsfacts import EXPECTED_TRAINING_RUNS_TAG, PIPELINE_ROLE_TAG_VALUE, ROLE_TAG

GUARD_TARGET_ID = "retrain-guard"
ALERT_TARGET_ID = "alert-topic"
# Steps of one run that may run at once: the pipeline is a chain, so one is all it ever needs.
MAX_PARALLEL_STEPS = 1
STATES_SERVICE = "states.amazonaws.com"
EVENTS_SERVICE = "events.amazonaws.com"


class TrainingStore(Protocol):
    """What the family needs of the artifact store (``ArtifactStore``)."""

    def grant_statements(self, prefix: str, *, read: bool, write: bool) -> list[Statement]: ...
    def prefix_uri(self, prefix: str) -> pulumi.Output[str]: ...


class TrainingImages(Protocol):
    """What the family needs of the image repositories (``ImageRepositories``)."""

    repositories: dict[str, aws.ecr.Repository]

    def grant_pull(self, role: aws.iam.Role, *, purpose: str | None = None) -> aws.iam.RolePolicy: ...


class ExperimentLogging(Protocol):
    """What the family needs of experiment tracking (``ExperimentTracking``)."""

    def grant_logging(self, role: aws.iam.Role, *, name: str, opts: pulumi.ResourceOptions) -> aws.iam.RolePolicy: ...


@dataclass(frozen=True)
class TrainingNetwork:
    """Where the jobs run in the VPC: ``vpc_id`` and its private ``subnet_ids`` (the network's one Output of a list)."""

    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]


@dataclass(frozen=True)
class RetrainingPipelineArgs:
    """Inputs of :class:`RetrainingPipeline`.

    endpoint: the endpoint whose family this retrains, with its validated ``training`` section
        (required): data, images, compute, spot, evaluation, schedule, drift and guard settings;
        its ``modelPackageGroup`` is where the packages go; its instance types are the packages'
        supported inference types.
    scope: the stack's account, region, partition, boundary and name stem (required).
    store: the artifact store (required): prefix grants and URIs.
    key: the ``artifacts`` key (required): every job's volumes and outputs.
    images: the image repositories (required): the training image, the packages' serving image,
        and ``grant_pull`` of the training repositories to the pipeline role.
    model_package_group_name / model_package_group_arn: the family's group (required).
    alarm_topic_arn: the alert topic the drift rule notifies (required).
    network: the VPC (``training.vpc``), or None to run outside one (dev's default).
    experiments: experiment tracking the pipeline role may log to, or None without it.
    """

    endpoint: EndpointConfig
    scope: AwsScope
    store: TrainingStore
    key: PlatformKey
    images: TrainingImages
    model_package_group_name: pulumi.Input[str]
    model_package_group_arn: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    network: TrainingNetwork | None = None
    experiments: ExperimentLogging | None = None

    @property
    def training(self) -> EndpointTrainingConfig:
        if self.endpoint.training is None:
            raise ValueError(f"endpoint {self.endpoint.name}: no training section, so no retraining pipeline")
        return self.endpoint.training


def inference_instance_types(endpoint: EndpointConfig) -> tuple[str, ...]:
    """The instance types the registered packages declare: the endpoint's own variants, so a
    package is deployable where it will serve; a serverless endpoint keeps the builder's default."""
    if endpoint.instance is None:
        return DEFAULT_INFERENCE_INSTANCE_TYPES
    types = [endpoint.instance.instance_type]
    if endpoint.instance.challenger is not None:
        types.append(endpoint.instance.challenger.instance_type)
    return tuple(dict.fromkeys(types))


def drift_pattern(scope: AwsScope, endpoint: str) -> pulumi.Output[str]:
    """A drift-monitoring run of ``endpoint`` that completed with violations. Its schedule is
    auto-named from ``<stem>-<endpoint>-drift`` (components/serving/monitoring.py); a failed run is
    an alert (the drift-monitoring alert rule), not a reason to retrain."""
    schedule = monitoring_schedules_prefix(scope, scope.name(endpoint, "drift"))
    return schedule.apply(
        lambda prefix: json.dumps(
            {
                "source": [SAGEMAKER_SOURCE],
                "detail-type": [PROCESSING_JOB_STATE_CHANGE],
                "detail": {
                    "MonitoringScheduleArn": [{"prefix": prefix}],
                    "ProcessingJobStatus": ["Completed"],
                    "ExitMessage": [{"prefix": VIOLATIONS_EXIT_MESSAGE_PREFIX}],
                },
            },
            sort_keys=True,
        )
    )


def drift_alert_template(endpoint: str, pipeline: str) -> str:
    return json.dumps(
        {
            "alert": "Drift found violations: retraining requested (the retrain guard starts a run unless one is active or too recent)",
            "endpoint": endpoint,
            "pipeline": pipeline,
            "job": "<job>",
            "result": "<result>",
            "at": "<at>",
        }
    )


DRIFT_ALERT_PATHS = {"job": "$.detail.ProcessingJobName", "result": "$.detail.ExitMessage", "at": "$.time"}


class RetrainingPipeline(pulumi.ComponentResource):
    """One family's pipeline, execution role, guard and triggers (module docstring).

    Attributes: ``role``, ``role_policy``, ``image_pull``, ``security_group`` (None outside the
    VPC), ``pipeline``, ``guard`` and ``guard_role`` (None without a trigger), ``events_role``,
    ``rules`` and ``targets`` (trigger name -> resources) and ``outputs`` (this family's entry of
    the ``training`` stack output).
    """

    def __init__(self, name: str, args: RetrainingPipelineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:training:RetrainingPipeline", name, None, opts)
        self._args = args
        scope, training, endpoint = args.scope, args.training, args.endpoint
        child = pulumi.ResourceOptions(parent=self)
        self.pipeline_name = training_pipeline_name(scope.name_stem, endpoint.name)
        self.prefixes = {
            "data": training.data_prefix,
            "run": f"{PIPELINES_PREFIX}{self.pipeline_name}/",
            "model": f"{MODELS_PREFIX}{endpoint.name}/",
            "checkpoints": training.checkpoint_prefix if training.uses_checkpoints else None,
        }
        self.role = service_role(
            f"{name}-role",
            scope,
            service="sagemaker.amazonaws.com",
            description=f"SageMaker pipeline {self.pipeline_name} and the jobs it runs",
            # The pack finds pipeline roles by this tag (no wildcard SageMaker or PassRole on them).
            role_tags={ROLE_TAG: PIPELINE_ROLE_TAG_VALUE},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.security_group = self._security_group(name) if args.network else None
        network = None
        if args.network is not None:
            network = PipelineNetwork(vpc_id=args.network.vpc_id, subnet_ids=args.network.subnet_ids, security_group_ids=[self.security_group.id])
        self.role_policy = inline_policy(
            f"{name}-role-policy",
            self.role,
            pipeline_role_statements(
                PipelineRoleArgs(
                    scope=scope,
                    role_arn=self.role.arn,
                    store=args.store,
                    key=args.key,
                    data_prefix=self.prefixes["data"],
                    run_prefix=self.prefixes["run"],
                    model_prefix=self.prefixes["model"],
                    checkpoint_prefix=self.prefixes["checkpoints"],
                    model_package_group_arn=args.model_package_group_arn,
                    processing_instance_types=[training.processing.instance_type],
                    training_instance_types=[training.instance_type],
                    training_volume_encrypted=not training.has_instance_storage,
                    processing_volume_encrypted=not facts.has_instance_storage(training.processing.instance_type),
                    network=network,
                )
            ),
            child,
        )
        # The jobs run the training image; registering a package names the serving image, which
        # SageMaker checks the caller can pull.
        self.image_pull = [args.images.grant_pull(self.role, purpose=purpose) for purpose in (TRAINING, SERVING)]
        self.experiment_logging = args.experiments.grant_logging(self.role, name=f"{name}-experiments", opts=child) if args.experiments else None
        ready: list[pulumi.Resource] = [self.role_policy, *self.image_pull] + ([self.experiment_logging] if self.experiment_logging else [])
        self.pipeline = aws.sagemaker.Pipeline(
            f"{name}-pipeline",
            pipeline_name=self.pipeline_name,
            pipeline_display_name=self.pipeline_name,
            pipeline_description=f"Retrains {endpoint.model_package_group} for endpoint {endpoint.name}: prepare, train, evaluate, register pending approval",
            role_arn=self.role.arn,
            pipeline_definition=self._definition(),
            parallelism_configuration=aws.sagemaker.PipelineParallelismConfigurationArgs(max_parallel_execution_steps=MAX_PARALLEL_STEPS),
            # The cost model prices the runs a month from this tag (policies/pricing/training.py).
            tags={EXPECTED_TRAINING_RUNS_TAG: str(training.runs_per_month)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=ready),
        )
        self.guard = self.guard_role = self.events_role = None
        self.rules: dict[str, aws.cloudwatch.EventRule] = {}
        self.targets: dict[str, list[aws.cloudwatch.EventTarget]] = {}
        triggers = tuple(t for t, on in ((SCHEDULE_TRIGGER, training.schedule is not None), (DRIFT_TRIGGER, training.retrains_on_drift)) if on)
        if triggers:
            self._guard(name, triggers)
            if training.schedule is not None:
                self._trigger(name, SCHEDULE_TRIGGER.name, schedule_expression=training.schedule.expression,
                              state="ENABLED" if training.schedule_enabled else "DISABLED",
                              description=f"Scheduled retraining of {endpoint.name} ({training.schedule.expression}) through its retrain guard")
            if training.retrains_on_drift:
                self._trigger(name, DRIFT_TRIGGER.name, event_pattern=drift_pattern(scope, endpoint.name), state="ENABLED",
                              description=f"Drift violations on {endpoint.name} start its retraining through the retrain guard and notify the alert topic")
        self.outputs: dict[str, Any] = {
            "name": self.pipeline.pipeline_name,
            "arn": self.pipeline.arn,
            "roleArn": self.role.arn,
            "guardStateMachineArn": self.guard.arn if self.guard else None,
            "scheduleRuleName": self.rules[SCHEDULE_TRIGGER.name].name if SCHEDULE_TRIGGER.name in self.rules else None,
            "scheduleEnabled": training.schedule_enabled,
            "driftRuleName": self.rules[DRIFT_TRIGGER.name].name if DRIFT_TRIGGER.name in self.rules else None,
        }
        self.register_outputs(self.outputs)

    # -- the pipeline ----------------------------------------------------------------------------

    def _image_uri(self, repository: str, tag: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(self._args.images.repositories[repository].repository_url, ":", tag)

    def _definition(self) -> pulumi.Output[str]:
        args, training = self._args, self._args.training
        store = args.store
        values = {
            "role": self.role.arn,
            "key": args.key.arn,
            "data": store.prefix_uri(self.prefixes["data"]),
            "run": store.prefix_uri(self.prefixes["run"]),
            "model": store.prefix_uri(self.prefixes["model"]),
            "checkpoints": store.prefix_uri(self.prefixes["checkpoints"]) if self.prefixes["checkpoints"] else None,
            "training_image": self._image_uri(training.image.repository, training.image.tag),
            "serving_image": self._image_uri(training.serving_image.repository, training.serving_image.tag),
            "group": args.model_package_group_name,
            "subnets": args.network.subnet_ids if args.network else None,
            "security_group": self.security_group.id if self.security_group else None,
        }
        return pulumi.Output.all(**values).apply(lambda v: json.dumps(build_pipeline_definition(self._definition_args(v)), sort_keys=True))

    def _definition_args(self, v: dict[str, Any]) -> PipelineDefinitionArgs:
        training, endpoint = self._args.training, self._args.endpoint
        processing = training.processing

        def processing_job(command: Sequence[str]) -> ProcessingJob:
            return ProcessingJob(
                image_uri=v["training_image"], entrypoint=tuple(command), instance_type=processing.instance_type,
                volume_size_gb=processing.volume_size_gb, max_runtime_seconds=processing.max_runtime_seconds,
            )

        spot = SpotTraining(checkpoint_s3_uri=v["checkpoints"].rstrip("/"), max_wait_seconds=training.max_wait_seconds) if training.uses_spot else None
        network = NetworkSettings(subnet_ids=tuple(v["subnets"]), security_group_ids=(v["security_group"],)) if v["subnets"] is not None else None
        return PipelineDefinitionArgs(
            pipeline_name=self.pipeline_name,
            role_arn=v["role"],
            input_data_s3_uri=v["data"],
            run_s3_prefix=v["run"].rstrip("/"),
            encryption=Encryption(volume_kms_key_id=v["key"], output_kms_key_id=v["key"]),
            preparation=processing_job(processing.prepare_command),
            training=TrainingJob(
                image_uri=v["training_image"],
                instance_type=training.instance_type,
                output_s3_uri=v["model"].rstrip("/"),
                max_runtime_seconds=training.max_runtime_seconds,
                instance_count=training.instance_count,
                volume_size_gb=training.volume_size_gb,
                spot=spot,
            ),
            evaluation=processing_job(processing.evaluate_command),
            gate=MetricGate(json_path=training.evaluation.metric, comparison=training.evaluation.operator, threshold=training.evaluation.threshold),
            registration=ModelRegistration(
                model_package_group_name=v["group"], serving_image_uri=v["serving_image"], inference_instance_types=inference_instance_types(endpoint)
            ),
            network=network,
        )

    def _security_group(self, name: str) -> aws.ec2.SecurityGroup:
        network = self._args.network
        group = aws.ec2.SecurityGroup(
            f"{name}-jobs",
            vpc_id=network.vpc_id,
            description=f"Jobs of SageMaker pipeline {self.pipeline_name}: each other (distributed training) and HTTPS out",
            revoke_rules_on_delete=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Instances of one multi-instance job talk to each other (inter-container traffic, TLS);
        # nothing else connects in. Data, images and logs come over HTTPS (gateway/interface
        # endpoints or NAT); the containers themselves run network-isolated.
        for direction, rule in (("ingress", aws.vpc.SecurityGroupIngressRule), ("egress", aws.vpc.SecurityGroupEgressRule)):
            rule(
                f"{name}-jobs-self-{direction}",
                security_group_id=group.id,
                description="Between the instances of one job",
                ip_protocol="-1",
                referenced_security_group_id=group.id,
                opts=pulumi.ResourceOptions(parent=self),
            )
        https_to_aws_apis(f"{name}-jobs-https", group.id, parent=self)
        return group

    # -- the guard and its triggers --------------------------------------------------------------

    def _guard(self, name: str, triggers: tuple) -> None:
        args, scope, training = self._args, self._args.scope, self._args.training
        child = pulumi.ResourceOptions(parent=self)
        guard_name = retrain_guard_name(scope.name_stem, args.endpoint.name)
        self.guard_role = service_role(
            f"{name}-guard-role",
            scope,
            service=STATES_SERVICE,
            description=f"Retrain guard {guard_name}: lists and starts executions of {self.pipeline_name} only",
            extra_conditions={"ArnLike": {"aws:SourceArn": pulumi.Output.concat(
                "arn:", scope.partition, ":states:", scope.region, ":", scope.account_id, ":stateMachine:", guard_name)}},
            opts=child,
        )
        guard_policy = inline_policy(f"{name}-guard-policy", self.guard_role, retrain_guard_statements(self.pipeline.arn), child)
        definition = retrain_guard_definition(
            RetrainGuardArgs(pipeline_name=self.pipeline_name, minimum_interval_seconds=training.min_interval_seconds, triggers=triggers)
        )
        self.guard = aws.sfn.StateMachine(
            f"{name}-guard",
            name=guard_name,
            type="STANDARD",
            role_arn=self.guard_role.arn,
            definition=json.dumps(definition, sort_keys=True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[guard_policy]),
        )
        rules_arn = pulumi.Output.concat(
            "arn:", scope.partition, ":events:", scope.region, ":", scope.account_id, ":rule/", retrain_rule_name(scope.name_stem, args.endpoint.name, "*")
        )
        self.events_role = service_role(
            f"{name}-trigger-role",
            scope,
            service=EVENTS_SERVICE,
            description=f"EventBridge starts retrain guard {guard_name} for {args.endpoint.name}'s retrain rules",
            extra_conditions={"ArnLike": {"aws:SourceArn": rules_arn}},
            opts=child,
        )
        self._events_policy = inline_policy(
            f"{name}-trigger-policy",
            self.events_role,
            [Statement(sid="StartTheRetrainGuard", actions=["states:StartExecution"], resources=[self.guard.arn])],
            child,
        )

    def _trigger(self, name: str, trigger: str, *, description: str, state: str, **rule_args: Any) -> None:
        args = self._args
        rule = aws.cloudwatch.EventRule(
            f"{name}-{trigger}",
            name=retrain_rule_name(args.scope.name_stem, args.endpoint.name, trigger),
            description=description,
            state=state,
            opts=pulumi.ResourceOptions(parent=self),
            **rule_args,
        )
        self.rules[trigger] = rule
        targets = [
            aws.cloudwatch.EventTarget(
                f"{name}-{trigger}-guard",
                rule=rule.name,
                target_id=GUARD_TARGET_ID,
                arn=self.guard.arn,
                role_arn=self.events_role.arn,
                # The guard reads the event itself (its id is the run's idempotency token).
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self._events_policy]),
            )
        ]
        if trigger == DRIFT_TRIGGER.name:
            targets.append(
                aws.cloudwatch.EventTarget(
                    f"{name}-{trigger}-alert",
                    rule=rule.name,
                    target_id=ALERT_TARGET_ID,
                    arn=args.alarm_topic_arn,
                    input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                        input_paths=DRIFT_ALERT_PATHS, input_template=drift_alert_template(args.endpoint.name, self.pipeline_name)
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        self.targets[trigger] = targets
