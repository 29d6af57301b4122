"""The real stack files: their raw and typed config, and their offline previews (once per worker)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import CONFIG_KEY, ConfigError, PlatformConfig, parse_platform_config
from mlopsctl.offline.preview import PreviewResult, preview_stack

ROOT = Path(__file__).resolve().parents[2]

STACKS = ("dev", "staging", "prod")
# One AWS account per environment (accountId in each stack file); previews run as that account.
STACK_ACCOUNTS = {"dev": "123456789012", "staging": "210987654321", "prod": "345678901234"}
# The tag keys every taggable resource of a stack carries (the provider's defaultTags).
REQUIRED_TAG_KEYS = {"environment", "owner", "cost-center", "managed-by", "project"}

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
