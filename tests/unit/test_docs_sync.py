"""Generated blocks in README.md and docs/*.md equal what the code renders now (mlopsctl/review/docsgen.py)."""

from __future__ import annotations

import pytest

from mlopsctl.review import docsgen
from tests.support.stacks import STACKS, stack_preview


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return docsgen.render_all({stack: stack_preview(stack) for stack in STACKS})


@pytest.mark.parametrize("name", sorted(docsgen.BLOCKS))
def test_generated_block_is_current(rendered, name):
    files, _ = docsgen.BLOCKS[name]
    for path in files:
        assert docsgen.extract(path.read_text(), name) == rendered[name], f"{path.name}: run `python -m mlopsctl.review.docsgen`"


def test_cost_figures_are_priced_on_the_price_tables_date(rendered):
    from policies.pricing import default_table

    assert f"Priced on {default_table().as_of}" in rendered["cost-summary"]


def test_a_stale_block_is_detected():
    text = "a\n<!-- generated:x start -->\nold\n<!-- generated:x end -->\nb"
    assert docsgen.extract(text, "x") == "old\n"
    assert docsgen.extract(docsgen.replace(text, "x", "new\n"), "x") == "new\n"
    with pytest.raises(ValueError):
        docsgen.replace("no block", "x", "new\n")


# ---------------------------------------------------------------------------------------------
# The configuration reference (docs/configuration.md): read from the models, never the previews


def test_the_config_reference_needs_no_stack_preview(monkeypatch):
    import mlopsctl.offline.preview

    def no_preview(*args, **kwargs):
        raise AssertionError("the config reference must not preview a stack")

    monkeypatch.setattr(mlopsctl.offline.preview, "preview_stack", no_preview)
    assert not docsgen.needs_reports("config-reference")
    rendered = docsgen.render_all(names=["config-reference"])
    assert set(rendered) == {"config-reference"}
    assert "`eks.gpuNodeGroups[].instanceTypes`" in rendered["config-reference"]


def _stack_keys(value, prefix: str, maps: set[str]):
    """Dotted paths of a stack file's platform object: list items as [], map entries as <name>."""
    if isinstance(value, dict):
        for key, inner in value.items():
            path = f"{prefix}{key}"
            yield path
            if path in maps:
                for entry in inner.values():
                    yield from _stack_keys(entry, f"{path}.<name>.", maps)
            else:
                yield from _stack_keys(inner, f"{path}.", maps)
    elif isinstance(value, list):
        for item in value:
            yield from _stack_keys(item, prefix[:-1] + "[].", maps)


@pytest.mark.parametrize("layer", ["stacks", "incluster/stacks"])
def test_every_key_of_every_stack_file_is_in_the_reference(layer):
    import yaml

    from components.config import CONFIG_KEY
    from mlopsctl import ROOT

    keys = list(docsgen.config_keys())
    documented = {k.path for k in keys}
    maps = {k.path for k in keys if k.type.startswith("map[")}
    reference = docsgen.extract(docsgen.CONFIG_DOC.read_text(), "config-reference")
    files = sorted((ROOT / layer).glob("Pulumi.*.yaml"))
    assert files
    for path in files:
        config = yaml.safe_load(path.read_text())["config"]
        for key in config:
            if key.startswith("mlops-platform-incluster:"):
                assert f"| `{key}` |" in reference, f"{path.name}: {key}"
        for key in _stack_keys(config.get(CONFIG_KEY, {}), "", maps):
            assert key in documented, f"{path.name}: {key} is not in docs/configuration.md"


def test_every_environment_default_is_a_documented_key():
    documented = {k.path: k for k in docsgen.config_keys()}
    for path, values in docsgen._environment_defaults().items():
        assert path in documented, path
        assert [part.split(":")[0] for part in documented[path].per_environment.split(", ")] == list(values), path


def test_every_config_key_has_a_description():
    missing = [k.path for k in docsgen.config_keys() if not k.description.strip()]
    assert not missing, f"add a description= to these fields in components/config/: {missing}"
