"""The mock answers' one table covers what the stacks register, and nothing that no program registers."""

from __future__ import annotations

import importlib

import pytest

from mlopsctl.offline.mockoutputs import COMPUTED_OUTPUTS, GENERIC_OUTPUTS_SUFFICE, INVOKES
from tests.support.stacks import STACKS, stack_preview

# Answered for the policy tests' own programs (an IAM managed policy, the V2 bucket the pack also
# accepts); no stack registers them.
# The tracking server: no shipped stack chooses it (serverless is the default); tests/component/test_training.py does.
ANSWERED_FOR_TEST_PROGRAMS = {"aws:iam/policy:Policy", "aws:s3/bucketV2:BucketV2", "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"}


@pytest.fixture(scope="module")
def registered() -> set[str]:
    """Every custom resource type the three stacks register, both layers, providers aside."""
    return {r.type for stack in STACKS for r in stack_preview(stack).recording.resources
            if r.custom and not r.type.startswith("pulumi:providers:")}


def test_every_registered_type_has_an_answer_or_is_deliberately_generic(registered):
    unanswered = sorted(registered - set(COMPUTED_OUTPUTS) - GENERIC_OUTPUTS_SUFFICE)
    assert not unanswered, f"add these to COMPUTED_OUTPUTS or GENERIC_OUTPUTS_SUFFICE in mlopsctl/offline/mockoutputs/__init__.py: {unanswered}"


def test_the_tables_name_only_types_something_registers(registered):
    assert not set(COMPUTED_OUTPUTS) & GENERIC_OUTPUTS_SUFFICE
    assert sorted(set(COMPUTED_OUTPUTS) - registered) == sorted(ANSWERED_FOR_TEST_PROGRAMS)
    assert sorted(GENERIC_OUTPUTS_SUFFICE - registered) == []


def test_every_data_source_answer_is_called_by_a_stack():
    called = {token for stack in STACKS for token in stack_preview(stack).recording.invokes}
    assert called == set(INVOKES)


@pytest.mark.parametrize("token", sorted(set(COMPUTED_OUTPUTS) | GENERIC_OUTPUTS_SUFFICE))
def test_every_type_token_names_a_resource_class_of_the_sdk(token):
    package, module, class_name = token.split(":")
    group, _, version = module.partition("/")
    if package == "aws":
        module_name = f"pulumi_aws.{group}"
    else:
        module_name = f"pulumi_kubernetes.{group.removesuffix('.sh')}.{version}"
    assert hasattr(importlib.import_module(module_name), class_name), token
