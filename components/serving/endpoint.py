"""SageMakerEndpoint: model(s), an auto-named endpoint config, a deterministic endpoint with a
blue/green deployment config, rollback alarms and autoscaling.

Why the names are what they are:
- The endpoint config is replaced on every model change, so it is auto-named from a prefix and
  replaced before the old one is deleted: the endpoint is repointed first. An endpoint whose old
  config is deleted first fails its update
  (https://github.com/hashicorp/terraform-provider-aws/issues/40048).
- The endpoint has a deterministic name: its alarms need the name, and its rollback
  configuration needs the alarms, so an auto-named endpoint would be a dependency cycle.
- Variant names are fixed (``primary``, ``challenger``): blue/green updates require the new
  config to keep the old variant names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import facts
from components.config import (
    DATA_CAPTURE_PREFIX,
    MODELS_PREFIX,
    SERVING,
    EndpointConfig,
    InstanceVariantConfig,
    ModelSourceConfig,
    ecr_image_parts,
)
from components.iam.peers import PeerStack
from components.iam.policy import Statement
from components.iam.sagemaker import sagemaker_vpc_statements
from components.network.rules import https_to_aws_apis
from components.scope import AwsScope
from components.serving.execution_role import ArtifactAccess, ExecutionRole, ExecutionRoleArgs, ImagePull, data_capture_prefix
from policies.awsfacts import SAGEMAKER_VARIANT_SCALABLE_DIMENSION as SCALABLE_DIMENSION

INVOCATIONS_PER_INSTANCE = "SageMakerVariantInvocationsPerInstance"
SAGEMAKER_NAMESPACE = "AWS/SageMaker"


def invoke_url(region: str, endpoint_name: str) -> str:
    return f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{endpoint_name}/invocations"


@dataclass(frozen=True)
class SageMakerEndpointArgs:
    """Inputs of :class:`SageMakerEndpoint`.

    settings: the endpoint's validated config (required).
    scope: the stack's region (invoke URL, log and ECR ARNs), account (the trust policy's
        aws:SourceAccount, ARNs), partition and the boundary of the execution role (required).
    endpoint_name: deterministic physical endpoint name, e.g. ``mlops-prod-churn`` (required;
        PlatformConfig checked it leaves room for the endpoint config's suffix).
    store: the artifact store; the execution role gets ``models/`` read and
        ``data-capture/<endpoint>/`` write only through its grants (required).
    kms_key_arn: platform KMS key for the endpoint config's volumes and captured data (required).
    model_package_group_name: the registry group of this endpoint's model family (required).
    images: the platform's image repositories (required): a model package's image, and an
        ``image:`` URI of one of them, are pulled through ``images.grant_pull`` (the serving
        repositories, exactly), never from a wider scope.
    alarm_topic_arn: the stack's alert topic; every alarm notifies it on ALARM and on OK (required).
    subnet_ids: private subnets for ``vpc: true`` endpoints (default None; required then).
    vpc_id: VPC of the model's dedicated security group (default None; required with vpc).
    promoted_from: the stack whose registry shares its packages with this one
        (``promotion.promotedFrom``; default None). A variant running one of its packages reads that
        stack's models, key and serving repositories instead of this stack's repositories.
    """

    settings: EndpointConfig
    scope: AwsScope
    endpoint_name: str
    store: ArtifactAccess
    kms_key_arn: pulumi.Input[str]
    model_package_group_name: pulumi.Input[str]
    images: ImagePull
    alarm_topic_arn: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    vpc_id: pulumi.Input[str] | None = None
    promoted_from: PeerStack | None = None


class SageMakerEndpoint(pulumi.ComponentResource):
    """One SageMaker real-time (instance) or serverless endpoint with safe rollout."""

    def __init__(self, name: str, args: SageMakerEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:serving:SageMakerEndpoint", name, None, opts)
        settings = args.settings
        if settings.vpc and (args.subnet_ids is None or args.vpc_id is None):
            raise ValueError(f"endpoint {settings.name}: vpc is set but no subnet_ids/vpc_id were passed")
        self._args = args
        scope = args.scope
        child = pulumi.ResourceOptions(parent=self)
        self.endpoint_name = args.endpoint_name
        self.variant_names = settings.variant_names

        sources = {"primary": settings.model}
        if settings.instance and settings.instance.challenger:
            sources["challenger"] = settings.instance.challenger.model
        images = {variant: self._image(variant, source) for variant, source in sources.items()}
        # Repository -> ARN of the images from elsewhere (SageMaker's prebuilt, another registry's):
        # variants pulling from one repository share its entry (the ARNs are Outputs of the
        # partition, so they cannot be compared themselves).
        repositories = {image["repository"]: image["repositoryArn"] for image in images.values() if image is not None and not image["platform"]}
        # A model package names its image, and no data source can read it at program time: it is
        # pulled from the platform's serving repositories, exactly, like a URI naming one of them;
        # a package of the previous environment's registry, from that environment's.
        promoted_from = args.promoted_from
        shared = {v for v, source in sources.items() if promoted_from is not None and promoted_from.owns_package(source.model_package_arn)}
        platform_images = any(image["platform"] if image is not None else variant not in shared for variant, image in images.items())
        self.security_group = self._security_group() if settings.vpc else None
        self.execution = ExecutionRole(
            f"{name}-execution",
            ExecutionRoleArgs(
                store=args.store,
                scope=scope,
                image_repository_arns=list(repositories.values()),
                data_capture_prefix=data_capture_prefix(settings),
                extra_statements=self._vpc_statements() if settings.vpc else (),
                promoted_from=promoted_from if shared else None,
                promoted_from_repositories=args.images.names(SERVING) if shared else (),
            ),
            opts=child,
        )
        self.execution_role = self.execution.role
        # Models and the endpoint wait for the role's own policies and for the store, whose
        # children include the grants given to the role.
        self._role_ready: list[pulumi.Resource] = [self.execution]
        if isinstance(args.store, pulumi.Resource):
            self._role_ready.append(args.store)
        self.image_pull = args.images.grant_pull(self.execution_role, purpose=SERVING) if platform_images else None
        if self.image_pull is not None:
            self._role_ready.append(self.image_pull)

        self.models = {variant: self._model(variant, source, images[variant]) for variant, source in sources.items()}
        self.endpoint_config = self._endpoint_config()
        self.alarms = self._alarms()
        self.endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=args.endpoint_name,
            endpoint_config_name=self.endpoint_config.name,
            deployment_config=self._deployment_config(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._role_ready),
        )
        self.scaling_targets, self.scaling_policies = self._autoscaling()
        self.outputs = {
            "name": self.endpoint.name,
            "arn": self.endpoint.arn,
            "invokeUrl": self.endpoint.name.apply(lambda n: invoke_url(scope.region, n)),
            "variantNames": list(self.variant_names),
            "modelPackageGroup": args.model_package_group_name,
        }
        self.register_outputs(self.outputs)

    # -- model ----------------------------------------------------------------------------

    def _image(self, variant: str, source: ModelSourceConfig) -> dict[str, Any] | None:
        """Image URI, its ECR repository (``<region>:<account or registry>/<name>``), the
        repository's ARN and whether it is one of the platform's (``platform``); None for model
        packages (images come from the package)."""
        scope = self._args.scope
        if source.image:
            account, region, repository = ecr_image_parts(source.image)
            return {
                "uri": source.image,
                "repository": f"{region}:{account}/{repository}",
                "repositoryArn": pulumi.Output.concat("arn:", scope.partition, f":ecr:{region}:{account}:repository/{repository}"),
                "platform": self._args.images.holds(source.image),
            }
        if source.prebuilt_image:
            image = aws.sagemaker.get_prebuilt_ecr_image_output(
                repository_name=source.prebuilt_image.repository,
                image_tag=source.prebuilt_image.tag,
                region=scope.region,
                opts=pulumi.InvokeOutputOptions(parent=self),
            )
            repository = source.prebuilt_image.repository
            return {
                "uri": image.registry_path,
                # SageMaker's registry account is fixed per region.
                "repository": f"{scope.region}:sagemaker/{repository}",
                "repositoryArn": pulumi.Output.concat("arn:", scope.partition, f":ecr:{scope.region}:", image.registry_id, f":repository/{repository}"),
                "platform": False,
            }
        return None

    def _vpc_statements(self) -> list[Statement]:
        """What SageMaker needs to attach the model's ENIs in the platform VPC, and no more."""
        return sagemaker_vpc_statements(self._args.scope, self._args.vpc_id, [self.security_group.id])

    def _security_group(self) -> aws.ec2.SecurityGroup:
        args = self._args
        group = aws.ec2.SecurityGroup(
            f"{self.pulumi_resource_name}-model",
            vpc_id=args.vpc_id,
            description=f"SageMaker endpoint {args.endpoint_name}: no inbound; HTTPS out to AWS APIs",
            revoke_rules_on_delete=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Model data, images and logs are fetched over HTTPS (S3 gateway endpoint, NAT or
        # interface endpoints); nothing connects in, SageMaker fronts the endpoint.
        https_to_aws_apis(f"{self.pulumi_resource_name}-model-https", group.id, parent=self)
        return group

    def _model(self, variant: str, source: ModelSourceConfig, image: dict | None) -> aws.sagemaker.Model:
        args, settings = self._args, self._args.settings
        if source.model_package_arn:
            container = aws.sagemaker.ModelPrimaryContainerArgs(model_package_name=source.model_package_arn, environment=source.environment or None)
        else:
            model_data = None
            if source.model_data_key:
                relative = source.model_data_key[len(MODELS_PREFIX) :]
                model_data = args.store.prefix_uri(MODELS_PREFIX).apply(lambda uri: uri.rstrip("/") + "/" + relative)
            container = aws.sagemaker.ModelPrimaryContainerArgs(image=image["uri"], model_data_url=model_data, environment=source.environment or None)
        vpc_config = None
        if settings.vpc:
            vpc_config = aws.sagemaker.ModelVpcConfigArgs(subnets=args.subnet_ids, security_group_ids=[self.security_group.id])
        return aws.sagemaker.Model(
            f"{self.pulumi_resource_name}-{variant}",
            execution_role_arn=self.execution_role.arn,
            primary_container=container,
            enable_network_isolation=settings.network_isolation,
            vpc_config=vpc_config,
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._role_ready),
        )

    # -- endpoint config ------------------------------------------------------------------

    def _instance_variant(self, variant: str, spec: InstanceVariantConfig, weight: float) -> aws.sagemaker.EndpointConfigurationProductionVariantArgs:
        return aws.sagemaker.EndpointConfigurationProductionVariantArgs(
            variant_name=variant,
            model_name=self.models[variant].name,
            instance_type=spec.instance_type,
            initial_instance_count=spec.initial_count,
            initial_variant_weight=weight,
        )

    def _endpoint_config(self) -> aws.sagemaker.EndpointConfiguration:
        args, settings = self._args, self._args.settings
        if settings.serverless:
            variants = [
                aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                    variant_name="primary",
                    model_name=self.models["primary"].name,
                    serverless_config=aws.sagemaker.EndpointConfigurationProductionVariantServerlessConfigArgs(
                        memory_size_in_mb=settings.serverless.memory_size_mb, max_concurrency=settings.serverless.max_concurrency
                    ),
                )
            ]
            instance_types: list[str] = []
        else:
            instance = settings.instance
            challenger = instance.challenger
            share = challenger.traffic_percent if challenger else 0
            variants = [self._instance_variant("primary", instance, float(100 - share))]
            instance_types = [instance.instance_type]
            if challenger:
                variants.append(self._instance_variant("challenger", challenger, float(share)))
                instance_types.append(challenger.instance_type)
        # CreateEndpointConfig rejects KmsKeyId when a variant runs on local NVMe storage, which
        # the instance's hardware encrypts instead. Serverless configs accept it (AWS docs,
        # "Create an endpoint configuration" for serverless: the key encrypts the ECR image).
        local_storage = any(facts.has_instance_storage(t) for t in instance_types)
        capture = None
        if settings.captures_data:
            destination = args.store.prefix_uri(DATA_CAPTURE_PREFIX).apply(lambda uri: uri.rstrip("/") + "/" + settings.name)
            capture = aws.sagemaker.EndpointConfigurationDataCaptureConfigArgs(
                enable_capture=True,
                initial_sampling_percentage=settings.data_capture.sampling_percentage,
                destination_s3_uri=destination,
                kms_key_id=args.kms_key_arn,
                capture_options=[aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(capture_mode=m) for m in settings.data_capture.capture_modes],
            )
        return aws.sagemaker.EndpointConfiguration(
            f"{self.pulumi_resource_name}-config",
            name_prefix=f"{args.endpoint_name}-",
            production_variants=variants,
            kms_key_arn=None if local_storage else args.kms_key_arn,
            data_capture_config=capture,
            # Replace before delete (explicit, also the default): the endpoint moves to the new
            # config before the old one disappears.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )

    # -- alarms, deployment, autoscaling --------------------------------------------------

    def _alarms(self) -> list[aws.cloudwatch.MetricAlarm]:
        thresholds = self._args.settings.alarms
        latency_statistic = {"statistic": "Average"} if thresholds.latency_statistic == "Average" else {"extended_statistic": thresholds.latency_statistic}
        alarms = []
        for variant in self.variant_names:
            alarms.append(
                self._variant_alarm(
                    variant,
                    "server-errors",
                    f"5XX errors of {self._args.endpoint_name}/{variant}",
                    metric_name="Invocation5XXErrors",
                    statistic="Sum",
                    threshold=thresholds.server_errors_threshold,
                    comparison_operator="GreaterThanOrEqualToThreshold",
                )
            )
            alarms.append(
                self._variant_alarm(
                    variant,
                    "model-latency",
                    f"ModelLatency {thresholds.latency_statistic} of {self._args.endpoint_name}/{variant}",
                    metric_name="ModelLatency",
                    # ModelLatency is reported in microseconds.
                    threshold=thresholds.model_latency_threshold_ms * 1000,
                    unit="Microseconds",
                    comparison_operator="GreaterThanThreshold",
                    **latency_statistic,
                )
            )
        return alarms

    def _variant_alarm(self, variant: str, kind: str, what: str, **metric: Any) -> aws.cloudwatch.MetricAlarm:
        """A one-minute AWS/SageMaker alarm on one variant; the deployment rolls back when it fires,
        and the alert topic hears of it both when it fires and when it clears."""
        name = f"{self._args.endpoint_name}-{variant}-{kind}"
        return aws.cloudwatch.MetricAlarm(
            f"{self.pulumi_resource_name}-{variant}-{kind}",
            name=name,
            alarm_description=f"{what}; rolls back a blue/green deployment",
            namespace=SAGEMAKER_NAMESPACE,
            dimensions={"EndpointName": self._args.endpoint_name, "VariantName": variant},
            period=60,
            evaluation_periods=self._args.settings.alarms.evaluation_periods,
            treat_missing_data="notBreaching",
            alarm_actions=[self._args.alarm_topic_arn],
            ok_actions=[self._args.alarm_topic_arn],
            opts=pulumi.ResourceOptions(parent=self),
            **metric,
        )

    def _deployment_config(self) -> aws.sagemaker.EndpointDeploymentConfigArgs:
        deployment = self._args.settings.deployment
        size = aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationCanarySizeArgs(
            type="CAPACITY_PERCENT", value=deployment.size_percent
        )
        linear_size = aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationLinearStepSizeArgs(
            type="CAPACITY_PERCENT", value=deployment.size_percent
        )
        routing = aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgs(
            type=deployment.strategy.upper(),
            wait_interval_in_seconds=deployment.wait_seconds,
            canary_size=size if deployment.strategy == "canary" else None,
            linear_step_size=linear_size if deployment.strategy == "linear" else None,
        )
        return aws.sagemaker.EndpointDeploymentConfigArgs(
            blue_green_update_policy=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs(
                traffic_routing_configuration=routing,
                termination_wait_in_seconds=deployment.termination_wait_seconds,
                maximum_execution_timeout_in_seconds=deployment.maximum_execution_timeout_seconds,
            ),
            auto_rollback_configuration=aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationArgs(
                alarms=[aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArgs(alarm_name=a.name) for a in self.alarms]
            ),
        )

    def _autoscaling(self) -> tuple[list[aws.appautoscaling.Target], list[aws.appautoscaling.Policy]]:
        instance = self._args.settings.instance
        if instance is None or not instance.autoscaling:
            return [], []
        specs: dict[str, InstanceVariantConfig] = {"primary": instance}
        if instance.challenger:
            specs["challenger"] = instance.challenger
        targets, policies = [], []
        for variant, spec in specs.items():
            target = aws.appautoscaling.Target(
                f"{self.pulumi_resource_name}-{variant}-scaling",
                service_namespace="sagemaker",
                scalable_dimension=SCALABLE_DIMENSION,
                resource_id=self.endpoint.name.apply(lambda n, v=variant: f"endpoint/{n}/variant/{v}"),
                min_capacity=spec.min_count,
                max_capacity=spec.max_count,
                opts=pulumi.ResourceOptions(parent=self),
            )
            policy = aws.appautoscaling.Policy(
                f"{self.pulumi_resource_name}-{variant}-invocations",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=float(instance.target_invocations_per_instance),
                    predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type=INVOCATIONS_PER_INSTANCE
                    ),
                    scale_in_cooldown=instance.scale_in_cooldown_seconds,
                    scale_out_cooldown=instance.scale_out_cooldown_seconds,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            targets.append(target)
            policies.append(policy)
        return targets, policies
