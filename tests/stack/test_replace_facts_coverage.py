"""The replace table covers every custom resource type the stacks register, both layers, and nothing else."""

from __future__ import annotations

import pytest

from mlopsctl.review.replacefacts.table import PROVIDER_REASON, load_table, not_derived_reason
from tests.support.stacks import STACKS, stack_preview


@pytest.fixture(scope="module")
def registered() -> set[str]:
    """Every custom resource type the dev, staging and prod previews register (layer 1 and layer 2)."""
    return {r.type for stack in STACKS for r in stack_preview(stack).recording.resources if r.custom}


def test_every_registered_type_has_replace_facts(registered):
    missing = sorted(registered - set(load_table()["types"]))
    assert not missing, f"derive their replace facts (docs/replace-facts.md) into mlopsctl/review/data/replace_on_change.json: {missing}"


def test_the_providers_are_named_as_not_derived_from_a_resource_schema(registered):
    providers = {t for t in registered if t.startswith("pulumi:providers:")}
    assert providers == {"pulumi:providers:aws", "pulumi:providers:kubernetes"}
    assert {not_derived_reason(t) for t in providers} == {PROVIDER_REASON}
    assert PROVIDER_REASON == "provider resources: replacement follows the provider's DiffConfig, not a resource schema"
    assert not_derived_reason("aws:ec2/vpc:Vpc") is None  # every AWS resource type is derived


def test_both_layers_are_covered_and_the_table_names_only_registered_types(registered):
    types = set(load_table()["types"])
    assert {t.split(":")[0] for t in types & registered} == {"aws", "kubernetes", "pulumi"}
    # The tracking server is a config choice (training.experiments.kind) no shipped stack makes;
    # tests/component/test_experiments.py registers it.
    assert sorted(types - registered) == ["aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"]
