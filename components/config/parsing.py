"""From a stack file's raw object to a validated :class:`PlatformConfig`, or a ConfigError.

The stack's environment defaults are merged under the stack file's values before validation;
each of pydantic's errors becomes one line naming the file, the dotted key and what is allowed,
and every error is reported, not only the first.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from components.config.base import describe_value
from components.config.environments import ENVIRONMENT_DEFAULTS
from components.config.platform import UNKNOWN_KEYS_CONTEXT, PlatformConfig
from policies.awsfacts import PROJECT, clock

CONFIG_KEY = f"{PROJECT}:platform"
REGION_KEY = "aws:region"


class ConfigError(Exception):
    """Bad stack configuration. ``str()`` is one line per problem, each ``<file>: <key path>: <what is allowed>``.

    ``key_path`` and ``message`` are the first problem's; ``issues`` lists every (key path, message).
    """

    def __init__(self, source: str, key_path: str, message: str, *, more: Sequence[tuple[str, str]] = ()):
        self.source = source
        self.key_path = key_path
        self.message = message
        self.issues: list[tuple[str, str]] = [(key_path, message), *more]
        super().__init__("\n".join(f"{source}: {key}: {text}" for key, text in self.issues))

    @classmethod
    def of(cls, source: str, issues: Sequence[tuple[str, str]]) -> ConfigError:
        (key_path, message), *more = issues
        return cls(source, key_path, message, more=more)


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


# What strict types expect, in the words of a stack file.
_EXPECTED = {
    "int_type": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "float_type": "a number",
    "list_type": "a list",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
}


def _type_message(kind: str, value: Any) -> str:
    message = f"must be {_EXPECTED[kind]}, got {describe_value(value)}"
    if kind == "string_type" and isinstance(value, float):
        # YAML reads an unquoted 1.30 as the number 1.3: the trailing zero is gone before we see it.
        written = repr(value) + ("0" if len(repr(value).partition(".")[2]) == 1 else "")
        return f'{message}; quote it in the stack file, e.g. "{written}" (YAML reads an unquoted {written} as the number {value!r})'
    if kind == "string_type" and value is not None and not isinstance(value, list | dict):
        return f"{message}; quote it in the stack file"
    if isinstance(value, str) and _reads_as(kind, value):
        return f"{message}; write it without quotes"
    if kind == "bool_type" and isinstance(value, str) and value.lower() in ("yes", "no", "on", "off", "y", "n"):
        return f"{message}; write true or false (the Pulumi CLI reads YAML 1.2, where {value} is a string)"
    return message


def _reads_as(kind: str, text: str) -> bool:
    """Whether ``text`` unquoted would be the type ``kind`` expects (then the quotes are the mistake)."""
    if kind == "bool_type":
        return text in ("true", "false")
    try:
        {"int_type": int, "float_type": float}[kind](text)
    except (KeyError, ValueError):
        return False
    return True


def _describe(error: dict) -> list[tuple[str, str]]:
    """One pydantic error as (key path, message) lines; a cross-field check may name several keys."""
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc)
        return [(_key_path(loc), f"unknown key; allowed keys: {', '.join(allowed)}")]
    if kind == "missing":
        return [(_key_path(loc), "required key is missing")]
    if kind in _EXPECTED:
        return [(_key_path(loc), _type_message(kind, error.get("input")))]
    message = error["msg"].removeprefix("Value error, ")
    if not message.startswith("@"):
        return [(_key_path(loc), message)]
    # Cross-field checks name the key they are about, "@<relative.key>: <message>", one per line.
    issues = []
    for line in message.split("\n"):
        relative, text = line.removeprefix("@").split(": ", 1)
        issues.append((_key_path(loc + tuple(int(part) if part.isdigit() else part for part in relative.split("."))), text))
    return issues


def parse_platform_config(raw: Any, region: Any, source: str, *, secret_paths: Iterable[str] = ()) -> PlatformConfig:
    """Validate the structured ``platform`` object of a stack. Raises :class:`ConfigError`.

    secret_paths: key paths (``mlops-platform:platform.costCenter``) of ``secure:`` values that
    are placeholders offline; what AWS allows in their text is not checked.
    """
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
        unknown = {path.removeprefix(f"{CONFIG_KEY}.") for path in secret_paths if path.startswith(f"{CONFIG_KEY}.")}
        return PlatformConfig.model_validate(merged, context={UNKNOWN_KEYS_CONTEXT: unknown})
    except ValidationError as exc:
        issues = [issue for error in exc.errors() for issue in _describe(error)]
        issues = [(REGION_KEY if key == f"{CONFIG_KEY}.region" else key, message) for key, message in issues]
        raise ConfigError.of(source, issues) from None


def stack_file_for(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"
