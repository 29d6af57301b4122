"""ModelRegistry: one SageMaker model package group per model family, shared with the next
environment where the stack promotes to one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.iam.peers import PeerStack
from components.iam.policy import Statement, policy_document

# What the next environment does with a shared group (SageMaker's guide, "Deploy a Model Version
# from a Different Account"): describe the group, and describe, list and deploy its versions.
# UpdateModelPackage, which that guide's example grants too, is left out: it sets a version's
# approval status, and approval stays with this environment's reviewers.
GROUP_READ_ACTIONS = ("sagemaker:DescribeModelPackageGroup",)
PACKAGE_READ_ACTIONS = ("sagemaker:CreateModel", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages")


def group_versions_arn(group_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """The ARN pattern of a group's versions: the group's ARN with ``model-package/`` for
    ``model-package-group/`` and ``/*`` for the version appended."""
    return pulumi.Output.from_input(group_arn).apply(lambda arn: arn.replace(":model-package-group/", ":model-package/", 1) + "/*")


def shared_group_statements(group_arn: pulumi.Input[str], shared_with: PeerStack) -> list[Statement]:
    """The group policy that lets ``shared_with``'s deploy, preview and serving roles read one group.

    The principal is that account's root, narrowed by ``aws:PrincipalArn``: a resource policy naming
    a role that does not exist yet is refused. The versions' ARNs are the group's with
    ``model-package/`` for ``model-package-group/`` and ``/<version>`` appended.
    """
    packages = group_versions_arn(group_arn)
    readers = shared_with.principal_condition(shared_with.deploy_role_arn, shared_with.preview_role_arn, shared_with.serving_roles_arn_pattern)
    principals = {"AWS": [shared_with.root_arn]}
    return [
        Statement(sid="PromotedToDescribesTheGroup", principals=principals, actions=list(GROUP_READ_ACTIONS), resources=[group_arn], conditions=readers),
        Statement(sid="PromotedToReadsAndDeploysVersions", principals=principals, actions=list(PACKAGE_READ_ACTIONS), resources=[packages], conditions=readers),
    ]


@dataclass(frozen=True)
class ModelRegistryArgs:
    """Inputs of :class:`ModelRegistry`.

    families: model package group names, one per model family (required; duplicates collapse).
    retain_on_delete: keep the groups (and the versions teams registered) when the stack
        drops them (default False; the platform passes storage.protect).
    shared_with: the stack that deploys this registry's versions (``promotion.promotesTo``; default
        None): each group gets a :func:`shared_group_statements` policy.
    """

    families: Sequence[str]
    retain_on_delete: bool = False
    shared_with: PeerStack | None = None


class ModelRegistry(pulumi.ComponentResource):
    """Model package groups that training pipelines register versions into and endpoints deploy from.

    Attributes: ``groups`` and ``policies`` (family -> ``aws.sagemaker.ModelPackageGroup`` /
    ``aws.sagemaker.ModelPackageGroupPolicy``; no policies unless shared).
    """

    def __init__(self, name: str, args: ModelRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:serving:ModelRegistry", name, None, opts)
        self.groups: dict[str, aws.sagemaker.ModelPackageGroup] = {}
        self.policies: dict[str, aws.sagemaker.ModelPackageGroupPolicy] = {}
        for family in dict.fromkeys(args.families):
            # The group name is the family name as configured: pipelines and model package
            # ARNs in config refer to it, so it must not carry a random suffix.
            group = self.groups[family] = aws.sagemaker.ModelPackageGroup(
                f"{name}-{family}",
                model_package_group_name=family,
                model_package_group_description=f"Model family {family}: versions registered by training pipelines, deployed by approval",
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain_on_delete),
            )
            if args.shared_with is not None:
                # One policy per group, keyed by the group's name: a replacement put before the old
                # one is deleted would be deleted with it (as the ECR repository policies).
                self.policies[family] = aws.sagemaker.ModelPackageGroupPolicy(
                    f"{name}-{family}-policy",
                    model_package_group_name=group.model_package_group_name,
                    resource_policy=policy_document(shared_group_statements(group.arn, args.shared_with), kind="resource"),
                    opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
                )
        self.register_outputs({"groups": {family: group.model_package_group_name for family, group in self.groups.items()}})
