"""Mock answers for the platform's ECR image repositories."""

from __future__ import annotations

from mlopsctl.offline.mockoutputs.context import MockContext, physical_name


def repository(ctx: MockContext, name: str, inputs: dict) -> dict:
    """The ARN, registry (this account) and URL AWS computes; the URL is what image URIs in the stack files name."""
    repository_name = physical_name(name, inputs)
    region = inputs.get("region", ctx.region)
    suffix = ".cn" if ctx.partition == "aws-cn" else ""
    return {
        "name": repository_name,
        "arn": f"arn:{ctx.partition}:ecr:{region}:{ctx.account_id}:repository/{repository_name}",
        "registryId": ctx.account_id,
        "repositoryUrl": f"{ctx.account_id}.dkr.ecr.{region}.amazonaws.com{suffix}/{repository_name}",
    }
