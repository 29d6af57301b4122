"""The serving side's view of its neighbours, and the endpoint's SageMaker execution role.

The protocols say what an endpoint needs from the artifact store and the image repositories, so
serving depends on those shapes and not on the storage and images packages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from components.config import DATA_CAPTURE_PREFIX, MODELS_PREFIX, EndpointConfig
from components.iam.policy import Statement
from components.iam.roles import inline_policy
from components.iam.sagemaker import sagemaker_execution_role
from components.scope import AwsScope


class ArtifactAccess(Protocol):
    """What serving needs from the artifact store (components/storage ArtifactStore)."""

    def grant_read(self, role: aws.iam.Role, prefix: str = ...) -> Any: ...

    def grant_write(self, role: aws.iam.Role, prefix: str = ...) -> Any: ...

    def prefix_uri(self, prefix: str) -> pulumi.Output[str]: ...


class ImagePull(Protocol):
    """What serving needs from the platform's image repositories (components/images ImageRepositories)."""

    def holds(self, image_uri: str) -> bool: ...

    def grant_pull(self, role: aws.iam.Role, *, purpose: str | None = ...) -> pulumi.Resource: ...


def data_capture_prefix(endpoint: EndpointConfig) -> str:
    return f"{DATA_CAPTURE_PREFIX}{endpoint.name}/"


@dataclass(frozen=True)
class ExecutionRoleArgs:
    """Inputs of :class:`ExecutionRole`.

    store: the artifact store (``models/`` read and ``data_capture_prefix`` write grants) (required).
    scope: the account, region and partition of the trust policy, ECR and log ARNs, and the
        boundary of the role (required).
    image_repository_arns: ECR repositories outside the platform's the models pull from (required;
        may be empty when every image comes from the platform's repositories, through their grant).
    data_capture_prefix: the endpoint's capture prefix, e.g. ``data-capture/churn/`` (required).
    extra_statements: more statements in one extra inline policy, e.g. VPC access (default none).
    """

    store: ArtifactAccess
    scope: AwsScope
    image_repository_arns: Sequence[pulumi.Input[str]]
    data_capture_prefix: str
    extra_statements: Sequence[Statement] = ()


class ExecutionRole(pulumi.ComponentResource):
    """The endpoint's SageMaker execution role and its policies, as one thing others can wait for."""

    def __init__(self, name: str, args: ExecutionRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:serving:ExecutionRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Reuses the platform's SageMaker role builder (components/iam/sagemaker.py): trust with
        # aws:SourceAccount, store grants, ECR pull on the given repositories, logs. Pull from the
        # platform's repositories is their own grant (SageMakerEndpoint).
        self.role = sagemaker_execution_role(
            name,
            args.scope,
            store=args.store,
            image_repository_arns=args.image_repository_arns,
            model_prefix=MODELS_PREFIX,
            data_capture_prefix=args.data_capture_prefix,
            opts=child,
        )
        self.extra_policy = inline_policy(f"{name}-network", self.role, list(args.extra_statements), child) if args.extra_statements else None
        self.register_outputs({"roleArn": self.role.arn})
