"""The ``ciRunner`` section: the in-VPC CodeBuild runner of layer 2 deploys (components/ci)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from components.config.base import LogRetentionDays, Model

# GitHub owner and repository names (also bootstrap's --github-repo).
GITHUB_REPO_PATTERN = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100})$")
_CONNECTION_ARN = re.compile(r"^arn:aws:codeconnections:[a-z0-9-]+:(\d{12}):connection/[0-9a-f-]{36}$")


class CiRunnerConfig(Model):
    """The in-VPC GitHub Actions runner (AWS CodeBuild) that deploys layer 2 (docs/operations.md)."""

    github_repo: str | None = Field(None, description="<org>/<repo> whose deploy jobs the runner serves (required for the runner project).")
    connection_arn: str | None = Field(
        None,
        description="The CodeConnections GitHub connection from `mlopsctl bootstrap --github-connection`, named here once it is AVAILABLE. Without it no runner project is made.",
    )
    webhook: bool = Field(False, description="Create the runner webhook (WORKFLOW_JOB_QUEUED from allowedActorIds only). Needs connectionArn and allowedActorIds.")
    allowed_actor_ids: list[Annotated[int, Field(gt=0)]] = Field(
        default_factory=list,
        description="Numeric GitHub user ids whose workflow jobs may start a runner build (maintainers). A fork's pull request can never match.",
    )
    compute_type: Literal["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"] = Field(
        "BUILD_GENERAL1_MEDIUM", description="CodeBuild EC2 compute (4 GB / 2 vCPU is enough for `pulumi up` of layer 2)."
    )
    image: str = Field("aws/codebuild/standard:7.0", description="CodeBuild image; Ubuntu, because actions/setup-python has no Amazon Linux builds.")
    build_timeout_minutes: int = Field(60, ge=5, le=2160, description="A runner build (one job) stops after this long.")
    concurrent_build_limit: int = Field(2, ge=1, le=10, description="At most this many runner builds at once.")
    log_retention_days: LogRetentionDays = Field(90, description="Retention of the runner's build logs.")

    @field_validator("github_repo")
    @classmethod
    def _repo(cls, value: str | None) -> str | None:
        if value is not None and not GITHUB_REPO_PATTERN.match(value):
            raise ValueError(f"{value!r} is not <org>/<repo> (GitHub owner and repository names)")
        return value

    @field_validator("connection_arn")
    @classmethod
    def _connection(cls, value: str | None) -> str | None:
        if value is not None and not _CONNECTION_ARN.match(value):
            raise ValueError(f"{value!r} is not a CodeConnections connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<uuid>)")
        return value

    @model_validator(mode="after")
    def _webhook_needs(self):
        if self.connection_arn and not self.github_repo:
            raise ValueError("@githubRepo: required with connectionArn (the runner project's source repository)")
        if self.webhook and not self.connection_arn:
            raise ValueError("@webhook: needs connectionArn (authorise the connection first: mlopsctl bootstrap --github-connection)")
        if self.webhook and not self.allowed_actor_ids:
            raise ValueError("@allowedActorIds: required with webhook: the GitHub user ids whose jobs may start the runner")
        return self

    @property
    def enabled(self) -> bool:
        return self.connection_arn is not None
