"""MlopsPlatform: composes the platform's components for one stack."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alerts import PlatformAlerts, PlatformAlertsArgs
from components.ci import GitHubRunner, GitHubRunnerArgs
from components.config import PlatformConfig
from components.eks.component import EksCluster, EksClusterArgs
from components.eks.workloads import TRAINING_NAMESPACE
from components.iam.peers import promotion_peers
from components.images import ImageRepositories, ImageRepositoriesArgs
from components.incluster import contract
from components.keys import PlatformKeys, PlatformKeysArgs
from components.network import Network, NetworkArgs
from components.promotion import ApprovalDispatch, ApprovalDispatchArgs, PromotedEndpoint
from components.scope import lookup_scope
from components.serving import Serving, ServingArgs
from components.storage import ArtifactStore, ArtifactStoreArgs
from components.training import ExperimentTracking, ExperimentTrackingArgs, RetrainingPipeline, RetrainingPipelineArgs, TrainingNetwork


@dataclass(frozen=True)
class MlopsPlatformArgs:
    """Inputs of :class:`MlopsPlatform`.

    config: the validated stack configuration (required; no default).
    """

    config: PlatformConfig


class MlopsPlatform(pulumi.ComponentResource):
    """Root component: an explicit, tagged AWS provider and every platform capability under it.

    Attributes: ``aws_provider``, ``scope`` (the :class:`AwsScope` every component gets), one
    attribute per component (``keys``, ``store``, ``images``, ``network``, ``eks``, ``ci_runner``,
    ``alerts``, ``promotion`` (None without ``promotion.dispatch``), ``serving``, ``experiments`` (None
    unless ``training.experiments.enabled``), ``retraining`` (endpoint -> its family's
    :class:`RetrainingPipeline`)) and ``outputs`` (the stack outputs).
    """

    def __init__(self, name: str, args: MlopsPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:index:MlopsPlatform", name, None, opts)
        config = args.config
        self.config = config
        self.aws_provider = aws_provider(f"{name}-aws", config, parent=self)
        child = pulumi.ResourceOptions(parent=self, providers={"aws": self.aws_provider})
        self.outputs: dict[str, pulumi.Input] = {
            "environment": config.environment,
            "region": config.region,
        }
        self.scope = scope = lookup_scope(config, pulumi.InvokeOutputOptions(parent=self, provider=self.aws_provider))
        # The network tags subnets for this cluster name, so both must use the same one.
        cluster_name = scope.name_stem
        # The next environment deploys this stack's approved packages where they are (registry,
        # models/, artifacts key, serving images); this stack deploys the previous one's the same way.
        shared_with, promoted_from = promotion_peers(config, scope)

        self.keys = PlatformKeys(
            f"{name}-keys",
            PlatformKeysArgs(
                scope=scope, deletion_window_days=config.storage.kms_deletion_window_days, protect=config.storage.protect, shared_with=shared_with
            ),
            opts=child,
        )
        self.store = ArtifactStore(
            f"{name}-artifacts", ArtifactStoreArgs(config=config.storage, scope=scope, key=self.keys.artifacts, shared_with=shared_with), opts=child
        )
        self.outputs["kmsKeys"] = self.keys.output_arns
        self.outputs["artifactStore"] = self.store.outputs
        self.images = ImageRepositories(
            f"{name}-images",
            ImageRepositoriesArgs(
                config=config.images,
                scope=scope,
                key=self.keys.images,
                name_prefix=config.name_prefix,
                environment=config.environment,
                protect=config.storage.protect,
                force_delete=config.storage.force_destroy,
                shared_with=shared_with,
            ),
            opts=child,
        )

        self.network = Network(
            f"{name}-network",
            NetworkArgs(config=config.network, scope=scope, cluster_name=cluster_name, flow_log_kms_key_arn=self.keys.logs.arn),
            opts=child,
        )
        self.outputs["network"] = self.network.network

        self.eks = EksCluster(
            f"{name}-eks",
            EksClusterArgs(
                config=config.eks,
                scope=scope,
                environment=config.environment,
                cluster_name=cluster_name,
                subnet_ids=self.network.private_subnet_ids,
                vpc_id=self.network.vpc_id,
                private_api_cidrs=[self.network.vpc_cidr],
                secrets_key=self.keys.eks_secrets,
                ebs_key=self.keys.ebs,
                logs_kms_key_arn=self.keys.logs.arn,
                assume_role_arn=config.assume_role_arn,
                artifact_store=self.store,
            ),
            opts=child,
        )
        self.outputs["cluster"] = self.eks.outputs
        self.outputs["kubeconfig"] = self.eks.kubeconfig
        self.outputs[contract.OUTPUT_NAME] = self.eks.in_cluster

        self.ci_runner = GitHubRunner(
            f"{name}-ci-runner",
            GitHubRunnerArgs(
                config=config.ci_runner,
                scope=scope,
                vpc_id=self.network.vpc_id,
                subnet_ids=self.network.private_subnet_ids,
                api_security_group_id=self.eks.api_security_group.id,
                logs_kms_key_arn=self.keys.logs.arn,
                encryption_key_arn=self.keys.artifacts.arn,
            ),
            opts=child,
        )
        self.outputs["ciRunner"] = self.ci_runner.outputs

        self.alerts = PlatformAlerts(
            f"{name}-alerts",
            PlatformAlertsArgs(
                config=config.alerts,
                scope=scope,
                key=self.keys.alerts,
                model_package_groups=[e.model_package_group for e in config.serving.endpoints],
            ),
            opts=child,
        )
        self.outputs["alerts"] = self.alerts.outputs
        self.promotion: ApprovalDispatch | None = None
        if config.promotion.dispatch:
            self.promotion = ApprovalDispatch(
                f"{name}-promotion",
                ApprovalDispatchArgs(
                    config=config.promotion,
                    scope=scope,
                    environment=config.environment,
                    github_repo=config.ci_runner.github_repo,
                    endpoints=[PromotedEndpoint(e.name, e.model_package_group) for e in config.serving.promotable_endpoints()],
                    key=self.keys.dispatch,
                    alarm_topic_arn=self.alerts.topic_arn,
                ),
                opts=child,
            )
            self.outputs["promotion"] = self.promotion.outputs

        self.serving = Serving(
            f"{name}-serving",
            ServingArgs(
                config=config.serving,
                scope=scope,
                store=self.store,
                key=self.keys.artifacts,
                images=self.images,
                alarm_topic_arn=self.alerts.topic_arn,
                subnet_ids=self.network.private_subnet_ids,
                vpc_id=self.network.vpc_id,
                retain_registry=config.storage.protect,
                shared_with=shared_with,
                promoted_from=promoted_from,
            ),
            opts=child,
        )
        self.outputs["endpoints"] = self.serving.outputs
        self._training(name, child)
        # Every puller is granted now (the endpoints' execution roles above): the repository
        # policies name exactly them and the nodes.
        if config.images.repositories:
            self.images.grant_pull(self.eks.node_role)
        self.images.seal()
        self.outputs["images"] = self.images.outputs
        self.register_outputs(self.outputs)


    def _training(self, name: str, child: pulumi.ResourceOptions) -> None:
        config = self.config
        self.experiments: ExperimentTracking | None = None
        if config.training.experiments.enabled:
            self.experiments = ExperimentTracking(
                f"{name}-experiments", ExperimentTrackingArgs(config=config.training.experiments, scope=self.scope, store=self.store), opts=child
            )
            # Training pods on EKS log their runs too; nobody else is granted.
            training_role = self.eks.identities.workload_roles.get(TRAINING_NAMESPACE)
            if training_role is not None:
                self.experiments.grant_logging(training_role, name=f"{name}-experiments-eks-training", opts=pulumi.ResourceOptions(parent=self.experiments))
        network = TrainingNetwork(vpc_id=self.network.vpc_id, subnet_ids=self.network.private_subnet_ids) if config.training.vpc else None
        self.retraining: dict[str, RetrainingPipeline] = {}
        for endpoint in config.serving.endpoints:
            if endpoint.training is None:
                continue
            group = self.serving.registry.groups[endpoint.model_package_group]
            self.retraining[endpoint.name] = RetrainingPipeline(
                f"{name}-training-{endpoint.name}",
                RetrainingPipelineArgs(
                    endpoint=endpoint,
                    scope=self.scope,
                    store=self.store,
                    key=self.keys.artifacts,
                    images=self.images,
                    model_package_group_name=group.model_package_group_name,
                    model_package_group_arn=group.arn,
                    alarm_topic_arn=self.alerts.topic_arn,
                    network=network,
                    experiments=self.experiments,
                ),
                opts=child,
            )
        # Stack-output contract: training: {pipelines: {<endpoint>: {name, arn, roleArn,
        # guardStateMachineArn, scheduleRuleName, scheduleEnabled, driftRuleName}}, experiments}
        self.outputs["training"] = {
            "pipelines": {endpoint: family.outputs for endpoint, family in self.retraining.items()},
            "experiments": self.experiments.outputs if self.experiments else None,
        }


def aws_provider(name: str, config: PlatformConfig, parent: pulumi.Resource | None = None) -> aws.Provider:
    """The only AWS provider of a stack (default providers are disabled in every stack file)."""
    assume_roles = [aws.ProviderAssumeRoleArgs(role_arn=config.assume_role_arn, session_name=f"pulumi-{config.environment}")] if config.assume_role_arn else None
    return aws.Provider(
        name,
        region=config.region,
        # The stack's own account only: credentials of any other account fail before any change.
        allowed_account_ids=[config.account_id],
        assume_roles=assume_roles,
        default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
