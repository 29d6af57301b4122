"""Generated blocks in README.md and docs/*.md equal what the code renders now (mlopsctl/docsgen.py)."""

from __future__ import annotations

import pytest

from mlopsctl import docsgen
from tests.conftest import STACKS, stack_preview


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return docsgen.render_all({stack: stack_preview(stack) for stack in STACKS})


@pytest.mark.parametrize("name", sorted(docsgen.BLOCKS))
def test_generated_block_is_current(rendered, name):
    files, _ = docsgen.BLOCKS[name]
    for path in files:
        assert docsgen.extract(path.read_text(), name) == rendered[name], f"{path.name}: run `python -m mlopsctl.docsgen`"


def test_cost_figures_are_priced_on_the_price_tables_date(rendered):
    from policies.pricing import default_table

    assert f"Priced on {default_table().as_of}" in rendered["cost-summary"]


def test_a_stale_block_is_detected():
    text = "a\n<!-- generated:x start -->\nold\n<!-- generated:x end -->\nb"
    assert docsgen.extract(text, "x") == "old\n"
    assert docsgen.extract(docsgen.replace(text, "x", "new\n"), "x") == "new\n"
    with pytest.raises(ValueError):
        docsgen.replace("no block", "x", "new\n")
