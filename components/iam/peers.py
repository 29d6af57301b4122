"""PeerStack: another environment's stack of this platform, as this stack's policies name it.

Promotion shares approved model packages between environments instead of copying them
(``promotion.promotesTo`` / ``promotedFrom``, docs/serving.md): staging's registry, artifact
store, artifacts key and serving repositories grant prod's roles read access, and prod's
execution roles read them there. Neither stack can look the other up, so both build the other's
names and ARNs from what they share: ``namePrefix`` (bootstrap's ``--name``, one per platform),
the peer's environment and account (config), and this stack's partition and region (a model
package is deployed in its own region).

Cross-account resource policies name the peer's account root as the principal and narrow it with
``aws:PrincipalArn`` patterns: AWS refuses a policy naming a role ARN that does not exist yet,
and prod's execution roles are created after staging's policies.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.config import (
    MODELS_PREFIX,
    PlatformConfig,
    artifact_bucket_prefix,
    deploy_role_name,
    image_repository_name,
    model_package_arn_parts,
    name_stem,
    preview_role_name,
    serving_role_path,
)
from components.iam.policy import PRINCIPAL_ARN
from components.scope import AwsScope


@dataclass(frozen=True)
class PeerStack:
    """The other stack of a promotion pair.

    environment, account: its environment and AWS account (``promotion.promotesTo`` or
        ``promotedFrom``) (required).
    name_prefix: the platform's ``namePrefix``, the same in every stack file (required).
    scope: this stack's scope (required): its partition and region are the peer's too.
    """

    environment: str
    account: str
    name_prefix: str
    scope: AwsScope

    @property
    def region(self) -> str:
        return self.scope.region

    @property
    def name_stem(self) -> str:
        return name_stem(self.name_prefix, self.environment)

    def _arn(self, service: str, region: str, resource: str) -> pulumi.Output[str]:
        return pulumi.Output.concat("arn:", self.scope.partition, f":{service}:{region}:{self.account}:", resource)

    # -- the peer's principals (named by this stack's resource policies) ------------------------

    @property
    def root_arn(self) -> pulumi.Output[str]:
        return self._arn("iam", "", "root")

    @property
    def deploy_role_arn(self) -> pulumi.Output[str]:
        return self._arn("iam", "", f"role/{deploy_role_name(self.name_prefix, self.environment)}")

    @property
    def preview_role_arn(self) -> pulumi.Output[str]:
        return self._arn("iam", "", f"role/{preview_role_name(self.name_prefix, self.environment)}")

    @property
    def serving_roles_arn_pattern(self) -> pulumi.Output[str]:
        """Every SageMaker endpoint execution role of the peer stack (their IAM path), as an ``ArnLike`` pattern."""
        return self._arn("iam", "", f"role{serving_role_path(self.name_stem)}*")

    def principal_condition(self, *patterns: pulumi.Input[str]) -> dict[str, dict[str, list[pulumi.Input[str]]]]:
        """``ArnLike aws:PrincipalArn`` on ``patterns``: the peer's account-root principal, narrowed."""
        return {"ArnLike": {PRINCIPAL_ARN: list(patterns)}}

    # -- the peer's resources (read by this stack's roles) ---------------------------------------

    @property
    def artifact_bucket_arn_pattern(self) -> pulumi.Output[str]:
        """The peer's artifact bucket (auto-named: its prefix and ``*``); bucket ARNs name no account,
        so a grant on it also needs ``s3:ResourceAccount``."""
        return pulumi.Output.concat("arn:", self.scope.partition, ":s3:::", artifact_bucket_prefix(self.name_stem), "*")

    @property
    def models_arn_pattern(self) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.artifact_bucket_arn_pattern, "/", MODELS_PREFIX, "*")

    @property
    def keys_arn_pattern(self) -> pulumi.Output[str]:
        """Any key of the peer's account in this region: the artifacts key's id is not known here;
        ``kms:ViaService`` and the encryption context narrow a grant on it to the artifact bucket."""
        return self._arn("kms", self.region, "key/*")

    def image_repository_arn(self, repository: str) -> pulumi.Output[str]:
        return self._arn("ecr", self.region, f"repository/{image_repository_name(self.name_stem, repository)}")

    def owns_package(self, model_package_arn: str | None) -> bool:
        """Whether ``model_package_arn`` is a model package of the peer's registry."""
        parts = model_package_arn_parts(model_package_arn)
        return parts is not None and parts.account == self.account


def promotion_peers(config: PlatformConfig, scope: AwsScope) -> tuple[PeerStack | None, PeerStack | None]:
    """(promotesTo, promotedFrom) of ``config``'s stack, each a :class:`PeerStack` or None."""

    def peer(section) -> PeerStack | None:
        if section is None:
            return None
        return PeerStack(environment=section.environment, account=section.account_id, name_prefix=config.name_prefix, scope=scope)

    return peer(config.promotion.promotes_to), peer(config.promotion.promoted_from)
