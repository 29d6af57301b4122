"""AwsScope: the one route by which account, partition, region, boundary, tags and name stem
reach the components; the platform looks the account and partition up once."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from collections import Counter

import pytest

import components
from components.scope import AwsScope, scope_for
from tests.support.stacks import STACK_ACCOUNTS, STACKS, stack_config, stack_preview

# What the scope carries. No component's Args may take one of them by hand, and no builder
# function may take the ones that are not also per-resource choices (``region`` is: the replica
# and its key live in the replication region).
SCOPE_FIELDS = {"account_id", "partition", "region", "permissions_boundary_arn", "tags", "name_stem"}
BUILDER_PARAMETERS = SCOPE_FIELDS - {"region", "name_stem"}


def component_modules():
    for module in pkgutil.walk_packages(components.__path__, "components."):
        yield importlib.import_module(module.name)


def args_classes():
    seen = {}
    for module in component_modules():
        for name, value in vars(module).items():
            if name.endswith("Args") and dataclasses.is_dataclass(value) and value.__module__ == module.__name__:
                seen[f"{module.__name__}.{name}"] = value
    return seen


def builder_functions():
    for module in component_modules():
        if module.__name__ == "components.scope":
            continue
        for name, value in vars(module).items():
            if inspect.isfunction(value) and value.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", value
            elif inspect.isclass(value) and value.__module__ == module.__name__:
                for method_name, method in vars(value).items():
                    if inspect.isfunction(method):
                        yield f"{module.__name__}.{name}.{method_name}", method


def test_component_args_take_the_scope_and_their_own_section_never_the_values_it_carries():
    classes = args_classes()
    assert len(classes) >= 12, sorted(classes)
    for path, cls in classes.items():
        fields = {f.name: f for f in dataclasses.fields(cls)}
        assert not SCOPE_FIELDS & set(fields), f"{path} takes {sorted(SCOPE_FIELDS & set(fields))} by hand; they come from its scope"
        if path == "components.platform.MlopsPlatformArgs":
            continue  # the root: the one place that sees the whole PlatformConfig
        assert not any("PlatformConfig" in str(f.type) for f in fields.values()), f"{path} takes the whole PlatformConfig"
    with_scope = {path for path, cls in classes.items() if "scope" in {f.name for f in dataclasses.fields(cls)}}
    assert with_scope >= {
        "components.keys.platform_keys.PlatformKeysArgs",
        "components.storage.artifact_store.ArtifactStoreArgs",
        "components.network.vpc.NetworkArgs",
        "components.eks.component.EksClusterArgs",
        "components.ci.runner.GitHubRunnerArgs",
        "components.serving.serving.ServingArgs",
        "components.serving.endpoint.SageMakerEndpointArgs",
        "components.serving.execution_role.ExecutionRoleArgs",
        "components.serving.monitoring.DriftMonitoringArgs",
    }


def test_builders_take_the_scope_instead_of_account_partition_boundary_or_tags():
    offenders = [
        (path, sorted(BUILDER_PARAMETERS & set(inspect.signature(function).parameters)))
        for path, function in builder_functions()
        if BUILDER_PARAMETERS & set(inspect.signature(function).parameters)
    ]
    assert offenders == []


def test_the_checks_above_would_see_a_value_threaded_by_hand():
    @dataclasses.dataclass(frozen=True)
    class LeakyArgs:
        scope: AwsScope
        account_id: str

    def leaky_role(name, *, partition, opts):
        return name

    assert SCOPE_FIELDS & {f.name for f in dataclasses.fields(LeakyArgs)} == {"account_id"}
    assert BUILDER_PARAMETERS & set(inspect.signature(leaky_role).parameters) == {"partition"}


@pytest.mark.parametrize("stack", STACKS)
def test_the_platform_looks_up_account_and_partition_once_through_its_provider(stack):
    recording = stack_preview(stack).recording
    invokes = Counter(recording.invokes)
    assert invokes["aws:index/getCallerIdentity:getCallerIdentity"] == 1
    assert invokes["aws:index/getPartition:getPartition"] == 1
    assert invokes["aws:index/getRegion:getRegion"] == 0


def test_scope_for_reads_the_stack_config():
    config = stack_config("prod", iam={"permissionsBoundaryArn": f"arn:aws:iam::{STACK_ACCOUNTS['prod']}:policy/boundary"})
    scope = scope_for(config, account_id=STACK_ACCOUNTS["prod"], stack_file="stacks/Pulumi.prod.yaml")
    assert scope == AwsScope(
        account_id=STACK_ACCOUNTS["prod"],
        region="us-east-1",
        name_stem="mlops-prod",
        stack_file="stacks/Pulumi.prod.yaml",
        permissions_boundary_arn=f"arn:aws:iam::{STACK_ACCOUNTS['prod']}:policy/boundary",
        tags=config.default_tags,
    )
    assert scope.name("artifacts", "replica") == "mlops-prod-artifacts-replica"
