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

from components.config import DATA_CAPTURE_PREFIX, MODELS_PREFIX, EndpointConfig, serving_role_path
from components.iam.peers import PeerStack
from components.iam.policy import Statement
from components.iam.roles import inline_policy
from components.iam.sagemaker import sagemaker_execution_role
from components.images.documents import PULL_ACTIONS
from components.keys.grants import KmsAction, key_statement
from components.scope import AwsScope


class ArtifactAccess(Protocol):
    """What serving needs from the artifact store (components/storage ArtifactStore)."""

    def grant_read(self, role: aws.iam.Role, prefix: str = ...) -> Any: ...

    def grant_write(self, role: aws.iam.Role, prefix: str = ...) -> Any: ...

    def prefix_uri(self, prefix: str) -> pulumi.Output[str]: ...


class ImagePull(Protocol):
    """What serving needs from the platform's image repositories (components/images ImageRepositories)."""

    def holds(self, image_uri: str) -> bool: ...

    def names(self, purpose: str | None = ...) -> list[str]: ...

    def grant_pull(self, role: aws.iam.Role, *, purpose: str | None = ...) -> pulumi.Resource: ...


def data_capture_prefix(endpoint: EndpointConfig) -> str:
    return f"{DATA_CAPTURE_PREFIX}{endpoint.name}/"


def promoted_from_statements(peer: PeerStack, repositories: Sequence[str]) -> list[Statement]:
    """What running a model package of ``peer``'s registry takes: its model data under the peer's
    ``models/``, decrypted by S3 under the peer's key, and its image from the peer's serving
    repositories of the names this stack's serving repositories have (``repositories``).

    Bucket ARNs name no account and the peer's bucket is auto-named, so the bucket is matched by
    its name prefix and ``s3:ResourceAccount``: a bucket of that name in a third account is out.
    The peer's resource policies (its ``promotion.promotesTo``) must allow the same; these
    statements alone reach nothing in another account.
    """
    statements = [
        Statement(sid="ReadPromotedFromModels", actions=["s3:GetObject"], resources=[peer.models_arn_pattern],
                  conditions={"StringEquals": {"s3:ResourceAccount": peer.account}}),
        key_statement("DecryptPromotedFromModelsThroughS3", [KmsAction.DECRYPT], resources=[peer.keys_arn_pattern],
                      via_service=f"s3.{peer.region}.amazonaws.com", encryption_context={"aws:s3:arn": peer.artifact_bucket_arn_pattern}),
    ]
    if repositories:
        statements.append(Statement(sid="PullPromotedFromImages", actions=list(PULL_ACTIONS), resources=[peer.image_repository_arn(r) for r in repositories]))
    return statements


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
    promoted_from: the stack whose model packages the endpoint runs (``promotion.promotedFrom``;
        default None: it runs none): :func:`promoted_from_statements` in an inline policy of their own.
    promoted_from_repositories: the serving repository names pulled from there (default none).
    """

    store: ArtifactAccess
    scope: AwsScope
    image_repository_arns: Sequence[pulumi.Input[str]]
    data_capture_prefix: str
    extra_statements: Sequence[Statement] = ()
    promoted_from: PeerStack | None = None
    promoted_from_repositories: Sequence[str] = ()


class ExecutionRole(pulumi.ComponentResource):
    """The endpoint's SageMaker execution role and its policies, as one thing others can wait for."""

    def __init__(self, name: str, args: ExecutionRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:serving:ExecutionRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Reuses the platform's SageMaker role builder (components/iam/sagemaker.py): trust with
        # aws:SourceAccount, store grants, ECR pull on the given repositories, logs. Pull from the
        # platform's repositories is their own grant (SageMakerEndpoint). The serving path makes
        # every endpoint's role one aws:PrincipalArn pattern for the previous environment's policies.
        self.role = sagemaker_execution_role(
            name,
            args.scope,
            store=args.store,
            image_repository_arns=args.image_repository_arns,
            model_prefix=MODELS_PREFIX,
            data_capture_prefix=args.data_capture_prefix,
            path=serving_role_path(args.scope.name_stem),
            opts=child,
        )
        self.extra_policy = inline_policy(f"{name}-network", self.role, list(args.extra_statements), child) if args.extra_statements else None
        self.promoted_from_policy = None
        if args.promoted_from is not None:
            statements = promoted_from_statements(args.promoted_from, args.promoted_from_repositories)
            self.promoted_from_policy = inline_policy(f"{name}-promoted-from", self.role, statements, child)
        self.register_outputs({"roleArn": self.role.arn})
