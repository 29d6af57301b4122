"""Serving: the registry, every configured endpoint and optional drift monitoring of one stack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.config import ServingConfig
from components.iam.peers import PeerStack
from components.keys import PlatformKey
from components.scope import AwsScope
from components.serving.endpoint import SageMakerEndpoint, SageMakerEndpointArgs
from components.serving.execution_role import ArtifactAccess, ImagePull
from components.serving.monitoring import DriftMonitoring, DriftMonitoringArgs
from components.serving.registry import ModelRegistry, ModelRegistryArgs


@dataclass(frozen=True)
class ServingArgs:
    """Inputs of :class:`Serving`.

    config: the validated ``serving`` section (required).
    scope: the stack's region, account, partition, the boundary of every role created here, and
        the name stem: endpoints are named ``<name stem>-<endpoint name>`` (required).
    store: the artifact store, used only through its grants and prefix URIs (required).
    key: the platform's artifacts KMS key (required): endpoint volumes, captured data and
        monitoring reports.
    images: the platform's image repositories (required); endpoints whose images are theirs (model
        packages, ``image:`` URIs naming one) get ``images.grant_pull(role, purpose="serving")``.
    alarm_topic_arn: the stack's alert topic, the alarm and OK action of every endpoint alarm (required).
    subnet_ids: private subnet ids for ``vpc: true`` endpoints (default None).
    vpc_id: the platform VPC (default None).
    retain_registry: keep model package groups on delete (default False).
    shared_with: the stack that deploys this registry's packages (``promotion.promotesTo``;
        default None): each model package group gets a policy sharing it (:class:`ModelRegistry`).
    promoted_from: the stack whose packages endpoints may run (``promotion.promotedFrom``;
        default None; :class:`SageMakerEndpoint`).
    """

    config: ServingConfig
    scope: AwsScope
    store: ArtifactAccess
    key: PlatformKey
    images: ImagePull
    alarm_topic_arn: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    vpc_id: pulumi.Input[str] | None = None
    retain_registry: bool = False
    shared_with: PeerStack | None = None
    promoted_from: PeerStack | None = None


class Serving(pulumi.ComponentResource):
    def __init__(self, name: str, args: ServingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:serving:Serving", name, None, opts)
        config, scope = args.config, args.scope
        child = pulumi.ResourceOptions(parent=self)
        self.registry = ModelRegistry(
            f"{name}-registry",
            ModelRegistryArgs(families=[e.model_package_group for e in config.endpoints], retain_on_delete=args.retain_registry, shared_with=args.shared_with),
            opts=child,
        )
        self.endpoints: dict[str, SageMakerEndpoint] = {}
        for endpoint in config.endpoints:
            physical = scope.name(endpoint.name)
            self.endpoints[endpoint.name] = SageMakerEndpoint(
                physical,
                SageMakerEndpointArgs(
                    settings=endpoint,
                    scope=scope,
                    endpoint_name=physical,
                    store=args.store,
                    kms_key_arn=args.key.arn,
                    model_package_group_name=self.registry.groups[endpoint.model_package_group].model_package_group_name,
                    images=args.images,
                    alarm_topic_arn=args.alarm_topic_arn,
                    subnet_ids=args.subnet_ids if endpoint.vpc else None,
                    vpc_id=args.vpc_id if endpoint.vpc else None,
                    promoted_from=args.promoted_from,
                ),
                opts=child,
            )
        monitored = config.monitored_endpoints()
        self.drift_monitoring = None
        if monitored:
            self.drift_monitoring = DriftMonitoring(
                f"{name}-drift",
                DriftMonitoringArgs(
                    settings=config.drift_monitoring,
                    scope=scope,
                    endpoints={e.name: (e, self.endpoints[e.name].endpoint.name) for e in monitored},
                    store=args.store,
                    key=args.key,
                ),
                opts=child,
            )
        # Stack-output contract: endpoints: {<config name>: {name, arn, invokeUrl, variantNames, modelPackageGroup}}
        self.outputs = {name_: endpoint.outputs for name_, endpoint in self.endpoints.items()}
        self.register_outputs({"endpoints": self.outputs})
