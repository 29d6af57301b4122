"""Shared fixtures: run whole stacks or single components under the recording mock monitor."""

from __future__ import annotations

import copy
import gc
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies.awsfacts.clock import TODAY_ENV  # noqa: E402

# Every date-dependent decision (EKS support, extended-support pricing, the pack's warnings) reads
# the one clock; the suite pins it so that it passes on any machine date. Set before any policy
# pack process starts, so the packs inherit it like a real engine's plugins do.
TEST_TODAY = "2026-12-03"
os.environ[TODAY_ENV] = TEST_TODAY

import components.program  # noqa: E402, F401 - the SDK and the components: loaded once, then frozen below
from components.config import CONFIG_KEY, ConfigError, PlatformConfig, parse_platform_config  # noqa: E402
from mlopsctl.offline.gctuning import THRESHOLD  # noqa: E402
from mlopsctl.offline.harness import Recording, run_program  # noqa: E402
from mlopsctl.offline.preview import PreviewResult, preview_stack  # noqa: E402

# The SDK's modules and classes live as long as the worker: freeze them out of the cyclic
# collector's generations so that its collections (which stay on) stop rescanning them, and
# collect at the one-shot commands' higher first-generation threshold (memory stays bounded: the
# garbage each test makes is still collected, only less often).
gc.freeze()
gc.set_threshold(*THRESHOLD)

STACKS = ("dev", "staging", "prod")
# One AWS account per environment (accountId in each stack file); previews run as that account.
STACK_ACCOUNTS = {"dev": "123456789012", "staging": "210987654321", "prod": "345678901234"}
_stack_cache: dict[tuple[str, bool], PreviewResult] = {}


def stack_preview(stack: str, unknowns: bool = False) -> PreviewResult:
    """The offline preview of a real stack file, computed once per test session."""
    key = (stack, unknowns)
    if key not in _stack_cache:
        _stack_cache[key] = preview_stack(stack, unknowns=unknowns)
    return _stack_cache[key]


def stack_raw_config(stack: str) -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    return copy.deepcopy(document["config"][CONFIG_KEY])


def stack_config(stack: str, **section_overrides: Any) -> PlatformConfig:
    """A real stack's config with top-level sections deep-merged from keyword overrides (camelCase)."""
    raw = stack_raw_config(stack)
    for key, value in section_overrides.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return parse_platform_config(raw, "us-east-1", f"stacks/Pulumi.{stack}.yaml")


def assert_one_line_config_error(raw: dict[str, Any], key_path: str, words: str, stack: str = "dev") -> ConfigError:
    """Parsing ``raw`` fails with one line: "<stack file>: <key path>: <message containing words>"."""
    source = f"stacks/Pulumi.{stack}.yaml"
    with pytest.raises(ConfigError) as caught:
        parse_platform_config(raw, "us-east-1", source)
    error = caught.value
    expected_key = f"{CONFIG_KEY}.{key_path}"
    assert "\n" not in str(error)
    assert error.key_path == expected_key, str(error)
    assert str(error).startswith(f"{source}: {expected_key}: "), str(error)
    assert words in error.message, str(error)
    return error


def run_component(
    build: Callable[[], Any],
    *,
    stack: str = "test",
    unknowns: bool = False,
    config: dict[str, Any] | None = None,
    availability_zone_count: int = 3,
) -> Recording:
    """Run ``build`` (which registers resources) as a whole program under the recording monitor."""
    runtime_config = {"aws:region": "us-east-1"}
    for key, value in (config or {}).items():
        runtime_config[key] = value if isinstance(value, str) else json.dumps(value)
    return run_program(
        build,
        stack=stack,
        project="mlops-platform",
        config=runtime_config,
        unknowns=unknowns,
        availability_zone_count=availability_zone_count,
    )


@pytest.fixture(params=STACKS)
def each_stack(request) -> PreviewResult:
    return stack_preview(request.param)


# ---------------------------------------------------------------------------------------------
# Policy pack: one pack process per environment config, shared by the whole session.


@pytest.fixture(scope="session")
def policy_pack():
    """``policy_pack(env)`` -> a running, configured PolicyPackProcess for policies/config/<env>.json."""
    from mlopsctl.offline.policycheck.config import config_path
    from mlopsctl.offline.policycheck.process import PolicyPackProcess

    packs: dict[str, PolicyPackProcess] = {}

    def get(environment: str = "prod") -> PolicyPackProcess:
        if environment not in packs:
            pack = PolicyPackProcess().start()
            pack.configure(config_path(environment))
            packs[environment] = pack
        return packs[environment]

    yield get
    for pack in packs.values():
        pack.close()
