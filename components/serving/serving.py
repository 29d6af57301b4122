"""Serving: the registry, every configured endpoint and optional drift monitoring of one stack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.config import ServingConfig
from components.serving.endpoint import ArtifactAccess, SageMakerEndpoint, SageMakerEndpointArgs
from components.serving.monitoring import DriftMonitoring, DriftMonitoringArgs
from components.serving.registry import ModelRegistry, ModelRegistryArgs


@dataclass(frozen=True)
class ServingArgs:
    """Inputs of :class:`Serving`.

    config: the validated ``serving`` section (required).
    name_stem: physical-name stem, ``<namePrefix>-<environment>`` (required); endpoints are
        named ``<name_stem>-<endpoint name>``.
    store: the artifact store, used only through its grants and prefix URIs (required).
    kms_key_arn: the platform's artifact KMS key (required).
    region: AWS region (required).
    account_id: this account's id (required).
    name_prefix: the platform's ``namePrefix``; model packages pull images from this account's
        ECR repositories under ``<name_prefix>/`` only (required).
    partition: AWS partition (default ``aws``).
    permissions_boundary_arn: boundary of every role created here (default None).
    subnet_ids: private subnet ids for ``vpc: true`` endpoints (default None).
    vpc_id: the platform VPC (default None).
    retain_registry: keep model package groups on delete (default False).
    """

    config: ServingConfig
    name_stem: str
    store: ArtifactAccess
    kms_key_arn: pulumi.Input[str]
    region: str
    account_id: pulumi.Input[str]
    name_prefix: str
    partition: str = "aws"
    permissions_boundary_arn: str | None = None
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    vpc_id: pulumi.Input[str] | None = None
    retain_registry: bool = False


class Serving(pulumi.ComponentResource):
    def __init__(self, name: str, args: ServingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:serving:Serving", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)
        self.registry = ModelRegistry(
            f"{name}-registry",
            ModelRegistryArgs(families=[e.model_package_group for e in config.endpoints], retain_on_delete=args.retain_registry),
            opts=child,
        )
        self.endpoints: dict[str, SageMakerEndpoint] = {}
        for endpoint in config.endpoints:
            physical = f"{args.name_stem}-{endpoint.name}"
            self.endpoints[endpoint.name] = SageMakerEndpoint(
                physical,
                SageMakerEndpointArgs(
                    settings=endpoint,
                    endpoint_name=physical,
                    store=args.store,
                    kms_key_arn=args.kms_key_arn,
                    model_package_group_name=self.registry.groups[endpoint.model_package_group].model_package_group_name,
                    region=args.region,
                    account_id=args.account_id,
                    name_prefix=args.name_prefix,
                    partition=args.partition,
                    permissions_boundary_arn=args.permissions_boundary_arn,
                    subnet_ids=args.subnet_ids if endpoint.vpc else None,
                    vpc_id=args.vpc_id if endpoint.vpc else None,
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
                    name_stem=args.name_stem,
                    endpoints={e.name: (e, self.endpoints[e.name].endpoint.name) for e in monitored},
                    store=args.store,
                    kms_key_arn=args.kms_key_arn,
                    region=args.region,
                    account_id=args.account_id,
                    partition=args.partition,
                    permissions_boundary_arn=args.permissions_boundary_arn,
                ),
                opts=child,
            )
        # Stack-output contract: endpoints: {<config name>: {name, arn, invokeUrl, variantNames, modelPackageGroup}}
        self.outputs = {name_: endpoint.outputs for name_, endpoint in self.endpoints.items()}
        self.register_outputs({"endpoints": self.outputs})
