"""The replace table covers every custom resource type the stacks register, both layers, and nothing else."""

from __future__ import annotations

import pytest

from mlopsctl.review.replacefacts.table import load_table
from tests.support.stacks import STACKS, stack_preview

PROVIDER_REASON = "provider resources: replacement follows the provider's DiffConfig, not a resource schema"
# Registered custom types the table deliberately leaves out, each with its reason.
EXCLUDED = {"pulumi:providers:aws": PROVIDER_REASON, "pulumi:providers:kubernetes": PROVIDER_REASON}


@pytest.fixture(scope="module")
def registered() -> set[str]:
    """Every custom resource type the dev, staging and prod previews register (layer 1 and layer 2)."""
    return {r.type for stack in STACKS for r in stack_preview(stack).recording.resources if r.custom}


def test_every_registered_type_has_replace_facts_or_a_named_exclusion(registered):
    assert {t for t in registered if t.startswith("pulumi:providers:")} == set(EXCLUDED)
    missing = sorted(registered - set(EXCLUDED) - set(load_table()["types"]))
    assert not missing, f"derive their replace facts (docs/replace-facts.md) into mlopsctl/review/data/replace_on_change.json: {missing}"


def test_both_layers_are_covered_and_the_table_names_only_registered_types(registered):
    types = set(load_table()["types"])
    assert {t.split(":")[0] for t in types & registered} == {"aws", "kubernetes"}
    assert sorted(types - registered) == []
