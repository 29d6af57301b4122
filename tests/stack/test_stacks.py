"""Whole stacks under the recording mock monitor: what the engine would receive."""

from __future__ import annotations

import importlib
import inspect
import json
from functools import cache

import pulumi
import pytest

from components.config import REGION_KEY
from mlopsctl.offline.harness import ProgramError
from tests.support.programs import run_component
from tests.support.stacks import REQUIRED_TAG_KEYS, stack_config, stack_preview


@cache
def is_taggable(type_token: str) -> bool:
    """Whether the pulumi-aws resource class behind a type token accepts `tags`."""
    package, module_path, _ = type_token.split(":")
    if package != "aws":
        return False
    module_name, class_name = module_path.split("/")[0], type_token.rsplit(":", 1)[-1]
    module = importlib.import_module(f"pulumi_aws.{module_name}" if module_name != "index" else "pulumi_aws")
    cls = getattr(module, class_name)
    return "tags" in inspect.signature(cls._internal_init).parameters


def test_each_stack_registers_the_platform_with_an_explicit_tagged_provider(each_stack):
    rec = each_stack.recording
    providers = rec.of_type("pulumi:providers:aws")
    assert len(providers) == 1
    provider = providers[0]
    assert provider.inputs["region"] == each_stack.config.region
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert REQUIRED_TAG_KEYS <= set(tags)
    assert tags["environment"] == each_stack.stack
    assert rec.one("mlops:index:MlopsPlatform").parent.endswith(f"pulumi:pulumi:Stack::mlops-platform-{each_stack.stack}")


def test_every_aws_resource_uses_the_explicit_provider_and_every_taggable_one_is_tagged(each_stack):
    """Default providers are disabled in every stack file, so each AWS resource must name ours."""
    rec = each_stack.recording
    provider_urns = {p.urn for p in rec.of_type("pulumi:providers:aws")}
    provider_tags = {p.urn: set(json.loads(p.inputs["defaultTags"])["tags"]) for p in rec.of_type("pulumi:providers:aws")}
    for resource in rec.resources:
        if not resource.type.startswith("aws:"):
            continue
        assert resource.provider, f"{resource.name} would use a default provider"
        provider_urn = resource.provider.rsplit("::", 1)[0]  # the reference is "<urn>::<id>"
        assert provider_urn in provider_urns, resource.provider
        if is_taggable(resource.type):
            own = set((resource.inputs.get("tags") or {}).keys())
            assert REQUIRED_TAG_KEYS <= own | provider_tags[provider_urn], resource.name


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_disable_default_providers(stack):
    config = stack_preview(stack).stack_file.config
    assert sorted(config["pulumi:disable-default-providers"]) == ["aws", "kubernetes"]
    assert config[REGION_KEY]


def test_assume_role_is_passed_to_the_provider_only_where_configured():
    from components.program import build

    role = "arn:aws:iam::210987654321:role/mlops-cross-account-deployer"  # a role in staging's own account
    config = stack_config("staging", assumeRoleArn=role)
    assumed = run_component(lambda: build(config), stack="staging").one("pulumi:providers:aws")
    assert json.loads(assumed.inputs["assumeRoles"]) == [{"roleArn": role, "sessionName": "pulumi-staging"}]
    assert "assumeRoles" not in stack_preview("staging").recording.one("pulumi:providers:aws").inputs


def test_stack_outputs_are_exported(each_stack):
    outputs = each_stack.recording.stack_outputs
    assert outputs["environment"] == each_stack.stack
    assert outputs["region"] == each_stack.config.region


def test_bad_config_registers_nothing_and_fails_without_traceback():
    from components.program import main

    with pytest.raises(ProgramError) as caught:
        run_component(main, stack="dev", config={"mlops-platform:platform": {"environment": "dev", "accountId": "123456789012", "owner": "x",
                                                                             "eks": {"deployRoleArn": "arn:aws:iam::123456789012:role/d"}}})
    assert isinstance(caught.value.cause, pulumi.RunError)
    assert str(caught.value.cause) == "stacks/Pulumi.dev.yaml: mlops-platform:platform.costCenter: required key is missing"
    assert caught.value.recording.resources == []


def test_unknowns_mode_leaves_computed_outputs_unknown():
    import pulumi_aws as aws

    seen = {}

    def program():
        provider = aws.Provider("p", region="us-east-1")
        key = aws.kms.Key("k", opts=pulumi.ResourceOptions(provider=provider))
        alias = aws.kms.Alias("a", target_key_id=key.key_id, opts=pulumi.ResourceOptions(provider=provider))
        seen["alias"] = alias

    rec = run_component(program, unknowns=True)
    alias = rec.one("aws:kms/alias:Alias")
    assert alias.inputs["targetKeyId"] == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    resolved = run_component(program).one("aws:kms/alias:Alias")
    assert resolved.inputs["targetKeyId"] != "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    assert resolved.propertyDependencies["targetKeyId"] == [rec.one("aws:kms/key:Key").urn]


def test_every_kubernetes_resource_uses_the_cluster_provider(each_stack):
    """kubernetes is a disabled default provider too: in-cluster resources must name the EKS one."""
    rec = each_stack.recording
    (provider,) = rec.of_type("pulumi:providers:kubernetes")
    in_cluster = [r for r in rec.resources if r.type.startswith("kubernetes:")]
    assert in_cluster
    assert all(r.provider and r.provider.rsplit("::", 1)[0] == provider.urn for r in in_cluster)
