"""AwsScope: the facts of one stack that every component shares.

Where the resources go (account, partition, region), what every IAM role carries (the
permissions boundary), which tags must be written where provider default tags never reach, and
the stem of every physical name. ``MlopsPlatform`` builds one scope per stack
(:func:`lookup_scope`) and hands it to each component, which takes its own config section plus
the scope; no component looks these facts up itself or receives them one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.config import PlatformConfig, stack_file_for


@dataclass(frozen=True)
class AwsScope:
    """The facts every component of one stack shares.

    account_id: the AWS account the stack's provider deploys into (required). In the program an
        Output of ``aws.get_caller_identity`` through that provider; tests pass a literal.
    region: the provider's region (``aws:region``), e.g. ``us-east-1`` (required).
    name_stem: the stem of every physical name, ``<namePrefix>-<environment>`` such as
        ``mlops-dev`` (required; ``PlatformConfig.resource_name()``); :meth:`name` appends
        parts to it.
    stack_file: the stack file the configuration came from, e.g. ``stacks/Pulumi.dev.yaml``
        (required). Errors found while the program runs name it with the key, as config errors do.
    partition: the AWS partition, ``aws``, ``aws-cn`` or ``aws-us-gov`` (default ``"aws"``). In
        the program an Output of ``aws.get_partition`` through the provider.
    reverse_dns_prefix: the partition's prefix of VPC endpoint service names, ``com.amazonaws``
        in ``aws`` (default ``"com.amazonaws"``). In the program from the same partition lookup.
    permissions_boundary_arn: the boundary on every IAM role the platform creates
        (``iam.permissionsBoundaryArn``; default none).
    tags: the stack's default tags (``PlatformConfig.default_tags``), written explicitly where
        provider default tags never reach, such as the instances and volumes EKS launches from a
        launch template (default none).
    """

    account_id: pulumi.Input[str]
    region: str
    name_stem: str
    stack_file: str
    partition: pulumi.Input[str] = "aws"
    reverse_dns_prefix: pulumi.Input[str] = "com.amazonaws"
    permissions_boundary_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def name(self, *parts: str) -> str:
        """A physical name under this stack's stem, e.g. ``name("artifacts")`` -> ``mlops-dev-artifacts``."""
        return "-".join((self.name_stem, *parts))


def scope_for(
    config: PlatformConfig,
    *,
    account_id: pulumi.Input[str],
    partition: pulumi.Input[str] = "aws",
    reverse_dns_prefix: pulumi.Input[str] = "com.amazonaws",
    stack_file: str | None = None,
) -> AwsScope:
    """The scope of ``config``'s stack, with the account and partition as given.

    stack_file: default the stack file of the running stack (``stacks/Pulumi.<stack>.yaml``).
    """
    return AwsScope(
        account_id=account_id,
        region=config.region,
        name_stem=config.resource_name(),
        stack_file=stack_file if stack_file is not None else stack_file_for(pulumi.get_stack()),
        partition=partition,
        reverse_dns_prefix=reverse_dns_prefix,
        permissions_boundary_arn=config.iam.permissions_boundary_arn,
        tags=config.default_tags,
    )


def lookup_scope(config: PlatformConfig, opts: pulumi.InvokeOutputOptions) -> AwsScope:
    """The scope of ``config``'s stack, with account and partition looked up through ``opts``'
    provider: the credentials and partition the resources are really created with."""
    account_id = aws.get_caller_identity_output(opts=opts).account_id
    partition = aws.get_partition_output(opts=opts)
    return scope_for(config, account_id=account_id, partition=partition.partition, reverse_dns_prefix=partition.reverse_dns_prefix)
