"""From a stack file's raw object to a validated :class:`PlatformConfig`, or one ConfigError line.

The stack's environment defaults are merged under the stack file's values before validation;
pydantic's errors become a single line naming the file, the dotted key and what is allowed.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ValidationError

from components.config.environments import ENVIRONMENT_DEFAULTS
from components.config.platform import PlatformConfig
from policies.awsfacts import PROJECT, clock

CONFIG_KEY = f"{PROJECT}:platform"
REGION_KEY = "aws:region"


class ConfigError(Exception):
    """Bad stack configuration. ``str()`` is a single line naming file, key and what is allowed."""

    def __init__(self, source: str, key_path: str, message: str):
        self.source = source
        self.key_path = key_path
        self.message = message
        super().__init__(f"{source}: {key_path}: {message}")


def _deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _key_path(loc: tuple) -> str:
    path = CONFIG_KEY
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("function-after", "function-before") or "[" in str(part):
            continue
        else:
            path += f".{part}"
    return path


def _allowed_keys(loc: tuple) -> list[str]:
    """The keys a section accepts, for 'unknown key' errors."""
    model: Any = PlatformConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return []
        annotation = field.annotation
        inner = getattr(annotation, "__args__", None)
        candidates = [annotation, *(inner or [])]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return []
    return sorted((f.alias or n) for n, f in model.model_fields.items())


def _describe(error: dict) -> tuple[str, str]:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc)
        return _key_path(loc), f"unknown key; allowed keys: {', '.join(allowed)}"
    if kind == "missing":
        return _key_path(loc), "required key is missing"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if message.startswith("@"):
        # Cross-field checks name the key they are about: "@<relative.key>: <message>".
        relative, message = message[1:].split(": ", 1)
        loc = loc + tuple(int(part) if part.isdigit() else part for part in relative.split("."))
    return _key_path(loc), message


def parse_platform_config(raw: Any, region: Any, source: str) -> PlatformConfig:
    """Validate the structured ``platform`` object of a stack. Raises :class:`ConfigError`."""
    if raw is None:
        raise ConfigError(source, CONFIG_KEY, "required key is missing")
    if not isinstance(raw, dict):
        raise ConfigError(source, CONFIG_KEY, f"must be a mapping of settings, got {type(raw).__name__}")
    if region is None:
        raise ConfigError(source, REGION_KEY, "required key is missing (set the AWS region, e.g. us-east-1)")
    if "region" in raw:
        raise ConfigError(source, f"{CONFIG_KEY}.region", f"set the region with {REGION_KEY}, not inside the platform object")
    try:
        clock.today()
    except clock.ClockError as exc:
        raise ConfigError("environment", clock.TODAY_ENV, str(exc)) from None
    environment = raw.get("environment")
    defaults = ENVIRONMENT_DEFAULTS.get(environment, {}) if isinstance(environment, str) else {}
    merged = _deep_merge(defaults, raw)
    merged["region"] = region
    try:
        return PlatformConfig.model_validate(merged)
    except ValidationError as exc:
        errors = exc.errors()
        key_path, message = _describe(errors[0])
        if key_path == f"{CONFIG_KEY}.region":
            key_path = REGION_KEY
        if len(errors) > 1:
            message += f" (+{len(errors) - 1} more)"
        raise ConfigError(source, key_path, message) from None


def stack_file_for(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"


def load_from_pulumi_config() -> PlatformConfig:
    """Read the stack's config through the Pulumi runtime (real CLI or mocks) and validate it."""
    import pulumi

    source = stack_file_for(pulumi.get_stack())
    raw = pulumi.Config(PROJECT).get_object("platform")
    region = pulumi.Config("aws").get("region")
    return parse_platform_config(raw, region, source)
