"""ModelRegistry: one SageMaker model package group per model family."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ModelRegistryArgs:
    """Inputs of :class:`ModelRegistry`.

    families: model package group names, one per model family (required; duplicates collapse).
    retain_on_delete: keep the groups (and the versions teams registered) when the stack
        drops them (default False; the platform passes storage.protect).
    """

    families: Sequence[str]
    retain_on_delete: bool = False


class ModelRegistry(pulumi.ComponentResource):
    """Model package groups that training pipelines register versions into and endpoints deploy from."""

    def __init__(self, name: str, args: ModelRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:serving:ModelRegistry", name, None, opts)
        self.groups: dict[str, aws.sagemaker.ModelPackageGroup] = {}
        for family in dict.fromkeys(args.families):
            # The group name is the family name as configured: pipelines and model package
            # ARNs in config refer to it, so it must not carry a random suffix.
            self.groups[family] = aws.sagemaker.ModelPackageGroup(
                f"{name}-{family}",
                model_package_group_name=family,
                model_package_group_description=f"Model family {family}: versions registered by training pipelines, deployed by approval",
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain_on_delete),
            )
        self.register_outputs({"groups": {family: group.model_package_group_name for family, group in self.groups.items()}})
