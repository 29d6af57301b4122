"""Policy config files, reconciled like the engine's ``ReconcilePolicyPackConfig`` (pulumi/pkg/resource/analyzer).

Schema defaults, then ``all``, then per-policy entries, validated against each policy's config
schema. The one parser of config entries: ``mlopsctl cost`` reads the
budget's level through :func:`configured_policy`, so an entry means what it means to the engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from mlopsctl import ROOT
from mlopsctl.offline.policycheck import analyzer_proto

CONFIG_DIR = ROOT / "policies" / "config"
LEVEL_NAMES = ("advisory", "mandatory", "disabled", "remediate")


class PolicyPackError(RuntimeError):
    """The pack failed to start, or its configuration is invalid."""


def level_to_proto(level: str) -> int:
    analyzer_pb2, _ = analyzer_proto()
    try:
        return {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY, "disabled": analyzer_pb2.DISABLED, "remediate": analyzer_pb2.REMEDIATE}[level]
    except KeyError:
        raise PolicyPackError(f"unknown enforcement level {level!r}; allowed: {', '.join(LEVEL_NAMES)}") from None


def level_name(value: int) -> str:
    analyzer_pb2, _ = analyzer_proto()
    return {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory", analyzer_pb2.DISABLED: "disabled", analyzer_pb2.REMEDIATE: "remediate"}[value]


def config_path(environment: str) -> Path:
    return CONFIG_DIR / f"{environment}.json"


def load_config_file(path: Path) -> dict[str, dict[str, Any]]:
    """A --policy-pack-config file as {policy: {"enforcementLevel"?: str, **properties}}."""
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PolicyPackError(f"{path}: {exc}") from None
    return normalize_config(document, str(path))


def normalize_config(document: Any, source: str = "policy config") -> dict[str, dict[str, Any]]:
    """Entries may be a bare enforcement level or an object with enforcementLevel and properties."""
    if not isinstance(document, Mapping):
        raise PolicyPackError(f"{source}: expected a JSON object of policy names")
    normalized: dict[str, dict[str, Any]] = {}
    for name, value in document.items():
        if isinstance(value, str):
            normalized[name] = {"enforcementLevel": value}
        elif isinstance(value, Mapping):
            normalized[name] = dict(value)
        else:
            raise PolicyPackError(f"{source}: {name}: expected an enforcement level or an object")
    return normalized


def reconcile_config(info: Any, given: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, dict[str, Any]]]:
    """{policy: (enforcement level, properties)} exactly as the engine would send to Configure."""
    schemas: dict[str, dict[str, Any]] = {}
    result: dict[str, tuple[str, dict[str, Any]]] = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema)
        schemas[policy.name] = schema
        defaults = {k: v["default"] for k, v in (schema.get("properties") or {}).items() if "default" in v}
        result[policy.name] = (level_name(policy.enforcementLevel), defaults)
    initial = {k: json_format.MessageToDict(v) for k, v in info.initialConfig.items()}
    for layer in (initial, normalize_config(given)):
        result = _apply_layer(result, layer)
    for name, (level, props) in result.items():
        level_to_proto(level)
        _validate_properties(name, schemas.get(name) or {}, props)
    return result


def _apply_layer(result: dict[str, tuple[str, dict[str, Any]]], layer: Mapping[str, Mapping[str, Any]], *, strict: bool = True) -> dict[str, tuple[str, dict[str, Any]]]:
    """One config layer over {policy: (level, properties)}: "all" sets every level, then each entry
    overrides its policy's level and merges its properties (the engine's order)."""
    all_level = (layer.get("all") or {}).get("enforcementLevel")
    if all_level:
        result = {k: (all_level, props) for k, (_, props) in result.items()}
    for name, entry in layer.items():
        if name == "all":
            continue
        if name not in result:
            if strict:
                raise PolicyPackError(f"policy config names {name!r}, which the pack does not have")
            continue
        level, props = result[name]
        props = {**props, **{k: v for k, v in entry.items() if k != "enforcementLevel"}}
        result[name] = (entry.get("enforcementLevel") or level, props)
    return result


def configured_policy(given: Mapping[str, Any], name: str, default_level: str, defaults: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """One policy's (enforcement level, properties) under a config file, by :func:`reconcile_config`'s
    rules, for callers that know the policy's defaults without starting the pack (``mlopsctl cost``).

    A bare string entry (``"monthly-budget": "advisory"``) is a level, as the engine reads it.
    """
    result = _apply_layer({name: (default_level, dict(defaults or {}))}, normalize_config(given), strict=False)
    level, props = result[name]
    level_to_proto(level)
    return level, props


def _validate_properties(name: str, schema: dict[str, Any], props: dict[str, Any]) -> None:
    """Validate reconciled properties against the policy's schema, as the engine does.

    The pack's schemas use a small JSON-schema subset (type, enum, minimum, maximum, items,
    additionalProperties), checked here without importing a JSON-schema library: the preview
    pays for every import.
    """
    known = schema.get("properties") or {}
    for key in schema.get("required") or []:
        if key not in props:
            raise PolicyPackError(f"{name}: missing required config property {key!r}")
    for key, value in props.items():
        if key not in known:
            raise PolicyPackError(f"{name}.{key}: Additional properties are not allowed ({sorted(known)} are)")
        problem = _schema_problem(known[key], value)
        if problem:
            raise PolicyPackError(f"{name}.{key}: {problem}")


_JSON_TYPES = {"boolean": (bool,), "integer": (int, float), "number": (int, float), "string": (str,), "array": (list,), "object": (dict,)}


def _schema_problem(schema: Mapping[str, Any], value: Any) -> str | None:
    expected = schema.get("type")
    if expected:
        types = _JSON_TYPES[expected]
        if not isinstance(value, types) or (expected != "boolean" and isinstance(value, bool)):
            return f"{value!r} is not of type {expected!r}"
        if expected == "integer" and float(value) != int(value):
            return f"{value!r} is not of type 'integer'"
    if "enum" in schema and value not in schema["enum"]:
        return f"{value!r} is not one of {schema['enum']}"
    if "minimum" in schema and value < schema["minimum"]:
        return f"{value!r} is less than the minimum of {schema['minimum']}"
    if "maximum" in schema and value > schema["maximum"]:
        return f"{value!r} is greater than the maximum of {schema['maximum']}"
    if isinstance(value, list) and "items" in schema:
        for item in value:
            problem = _schema_problem(schema["items"], item)
            if problem:
                return problem
    extra = schema.get("additionalProperties")
    if isinstance(value, dict) and isinstance(extra, Mapping):
        for item in value.values():
            problem = _schema_problem(extra, item)
            if problem:
                return problem
    return None
