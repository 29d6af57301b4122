"""Physical names and ARNs of what ``mlopsctl bootstrap`` owns, and the checks of its arguments. No AWS calls.

``--name`` feeds every name here (state bucket, secrets alias, CI roles and policies, the runner
project, the GitHub connection); :func:`validate_name` checks each against AWS's own limits before
the first AWS call.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass

from components import facts
from components.config import (
    GITHUB_REPO_PATTERN,
    NAME_PREFIX_PATTERN,
    NAME_PREFIX_RULE,
    Environment,
    deploy_role_name,
    github_connection_name,
    image_push_role_name,
    image_push_role_prefix,
    image_repository_name,
    name_stem,
    preview_role_name,
    runner_project_name,
    state_bucket_name,
)

ENVIRONMENTS: tuple[str, ...] = typing.get_args(Environment)
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"

NAME_PATTERN = re.compile(NAME_PREFIX_PATTERN)  # the stacks' namePrefix rule (components/config/base.py)


class BootstrapInputError(ValueError):
    """Bad bootstrap arguments. ``str()`` is one line."""


def parse_github_repo(value: str) -> tuple[str, str]:
    match = GITHUB_REPO_PATTERN.match(value or "")
    if not match:
        raise BootstrapInputError(f"--github-repo: {value!r} is not <org>/<repo> (GitHub owner and repository names)")
    return match.group(1), match.group(2)


def validate_environment(environment: str) -> str:
    if environment not in ENVIRONMENTS:
        raise BootstrapInputError(f"--environment: {environment!r} must be one of {', '.join(ENVIRONMENTS)} (one AWS account per environment)")
    return environment


# Pulumi auto-names a resource without an explicit name: logical name + "-" + 7 hex characters.
_AUTO_NAME_SUFFIX = "-" + "0" * 7


def derived_names(name: str) -> list[tuple[str, str, str, str]]:
    """(what, botocore service, shape, physical name) of every name built from ``--name``, per environment."""
    names = []
    for env in ENVIRONMENTS:
        names += [
            (f"deploy role of {env}", "iam", "roleNameType", deploy_role_name(name, env)),
            (f"preview role of {env}", "iam", "roleNameType", preview_role_name(name, env)),
            (f"CodeBuild runner project of {env}", "codebuild", "ProjectName", runner_project_name(f"{name}-{env}")),
            # The runner's service role may carry the project's name plus Pulumi's auto-name suffix.
            (f"runner service role of {env}", "iam", "roleNameType", runner_project_name(f"{name}-{env}") + _AUTO_NAME_SUFFIX),
        ]
    names.append(("GitHub connection", "codeconnections", "ConnectionName", github_connection_name(name)))
    return names


def validate_name(name: str, region: str) -> None:
    """Check ``--name`` before any AWS call (account ids are always 12 digits, so lengths are exact).

    Name limits come from botocore's service models (IAM ``roleNameType``, CodeBuild
    ``ProjectName``, CodeConnections ``ConnectionName``), read from the installed files.
    """
    if not NAME_PATTERN.match(name or ""):
        raise BootstrapInputError(f"--name: {name!r} must be {NAME_PREFIX_RULE}")
    bucket = state_bucket_name(name, "0" * 12, region)
    if len(bucket) > 63:
        raise BootstrapInputError(f"--name: {name!r} makes the state bucket name {len(bucket)} characters long; S3 allows 63")
    for what, service, shape, value in derived_names(name):
        if not facts.name_matches_shape(service, shape, value):
            limits = facts.shape_limits(service, shape)
            raise BootstrapInputError(
                f"--name: {name!r} makes the {what} name {value!r} ({len(value)} characters), which {service} does not accept: "
                f"{limits.get('min', 1)}-{limits.get('max', '?')} characters matching {limits.get('pattern', '.*')} (botocore shape {shape})")


@dataclass(frozen=True)
class Names:
    """Physical names and ARNs of everything bootstrap owns in one account and region."""

    name: str
    account: str
    region: str
    partition: str = "aws"

    def __post_init__(self) -> None:
        validate_name(self.name, self.region)

    # S3 and KMS
    @property
    def state_bucket(self) -> str:
        return state_bucket_name(self.name, self.account, self.region)

    @property
    def state_bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.state_bucket}"

    @property
    def key_alias(self) -> str:
        return f"alias/{self.name}-pulumi-secrets"

    @property
    def key_alias_arn(self) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account}:{self.key_alias}"

    # IAM
    def _iam(self, kind: str, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:{kind}/{name}"

    @property
    def oidc_provider_arn(self) -> str:
        return self._iam("oidc-provider", GITHUB_OIDC_HOST)

    @property
    def boundary_policy(self) -> str:
        return f"{self.name}-ci-boundary"

    @property
    def deploy_policy(self) -> str:
        return f"{self.name}-deploy"

    @property
    def deploy_events_policy(self) -> str:
        """The deploy role's second policy: alerts and promotion (SNS, EventBridge, SQS). One
        managed policy cannot hold all of pulumi up within IAM's 6,144-character quota."""
        return f"{self.name}-deploy-events"

    @property
    def deploy_policies(self) -> list[str]:
        return [self.deploy_policy, self.deploy_events_policy]

    @property
    def preview_policy(self) -> str:
        return f"{self.name}-preview"

    def policy_arn(self, policy_name: str) -> str:
        return self._iam("policy", policy_name)

    def deploy_role(self, environment: str) -> str:
        return deploy_role_name(self.name, environment)

    def preview_role(self, environment: str) -> str:
        return preview_role_name(self.name, environment)

    @property
    def legacy_preview_role(self) -> str:
        """The one preview role of every environment, from before each environment had its own account."""
        return f"{self.name}-preview"

    def role_arn(self, role_name: str) -> str:
        return self._iam("role", role_name)

    @property
    def ci_role_arns(self) -> list[str]:
        """Every environment's CI roles: the same boundary then fits any account, even one shared by environments."""
        return [self.role_arn(role(env)) for env in ENVIRONMENTS for role in (self.deploy_role, self.preview_role)]

    @property
    def ci_policy_arns(self) -> list[str]:
        return [self.policy_arn(p) for p in (self.boundary_policy, *self.deploy_policies, self.preview_policy)]

    # Image push roles: one per model repository (``images.pushers``), each with its own policy of the same name
    def push_role(self, environment: str, pusher: str) -> str:
        return image_push_role_name(self.name, environment, pusher)

    @property
    def push_role_prefix(self) -> str:
        """What every push role's name (and its policy's) starts with, in any environment."""
        return image_push_role_prefix(self.name)

    @property
    def push_role_pattern_arns(self) -> list[str]:
        """Every push role and its policy, in every environment: the boundary keeps them out of the stacks' reach."""
        return [self._iam("role", f"{self.push_role_prefix}*"), self._iam("policy", f"{self.push_role_prefix}*")]

    def image_repository_arn(self, environment: str, repository: str) -> str:
        """A stack's repository (``images.repositories[].name``) in this account and region."""
        name = image_repository_name(name_stem(self.name, environment), repository)
        return f"arn:{self.partition}:ecr:{self.region}:{self.account}:repository/{name}"

    # The GitHub connection (CodeConnections) the runner project's source and webhook use
    @property
    def connection_name(self) -> str:
        return github_connection_name(self.name)

    @property
    def connections_console_url(self) -> str:
        return f"https://console.aws.amazon.com/codesuite/settings/connections?region={self.region}"

    # What the user runs next
    def login_url(self) -> str:
        return f"s3://{self.state_bucket}?region={self.region}&awssdk=v2"

    def secrets_provider(self) -> str:
        return f"awskms://{self.key_alias}?region={self.region}"
