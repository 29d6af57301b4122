"""MlopsPlatform: composes the platform's components for one stack."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import PlatformConfig
from components.network import Network, NetworkArgs


@dataclass(frozen=True)
class MlopsPlatformArgs:
    """Inputs of :class:`MlopsPlatform`.

    config: the validated stack configuration (required; no default).
    """

    config: PlatformConfig


class MlopsPlatform(pulumi.ComponentResource):
    """Root component: an explicit, tagged AWS provider and every platform capability under it."""

    def __init__(self, name: str, args: MlopsPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:index:MlopsPlatform", name, None, opts)
        config = args.config
        self.config = config
        self.aws_provider = aws_provider(f"{name}-aws", config, parent=self)
        child = pulumi.ResourceOptions(parent=self, providers={"aws": self.aws_provider})
        self._child_opts = child
        self.outputs: dict[str, pulumi.Input] = {
            "environment": config.environment,
            "region": config.region,
        }

        # --- network (issue 4) -------------------------------------------------------------
        # flow_log_kms_key_arn: pass the logs key (keys.logs.arn) once PlatformKeys lands.
        # cluster_name must equal the EKS cluster's physical name (subnet discovery tags).
        self.network = Network(
            f"{name}-network",
            NetworkArgs(
                config=config.network,
                name_stem=config.resource_name(),
                cluster_name=config.resource_name(),
                flow_log_kms_key_arn=None,
                permissions_boundary_arn=config.iam.permissions_boundary_arn,
            ),
            opts=child,
        )
        self.outputs["network"] = self.network.network
        # --- end network ---------------------------------------------------------------------
        self.register_outputs(self.outputs)


def aws_provider(name: str, config: PlatformConfig, parent: pulumi.Resource | None = None) -> aws.Provider:
    """The only AWS provider of a stack (default providers are disabled in every stack file)."""
    assume_roles = [aws.ProviderAssumeRoleArgs(role_arn=config.assume_role_arn, session_name=f"pulumi-{config.environment}")] if config.assume_role_arn else None
    return aws.Provider(
        name,
        region=config.region,
        assume_roles=assume_roles,
        default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
