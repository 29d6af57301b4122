"""Check a Kueue ResourceFlavor / ClusterQueue / LocalQueue manifest against data/kueue_crds.json.

The table holds only the fields the platform sets, read from Kueue's CRDs at the pinned tag
(``python -m mlopsctl.review.kueuefacts`` derives and checks it). A field the CRD has but the
table does not cover is a problem too: read its facts into the table before setting it.
Checked: apiVersion, kind, metadata.name (and namespace by scope), unknown and uncovered
fields, types, enums, required keys, maxItems/minItems, maxLength/minLength, maxProperties and
patterns, and the CEL rules in ``_CEL_CHECKS`` when the table still lists their message. Not
checked: the other CEL rules (``celRules`` in the table lists their messages).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

TABLE_FILE = Path(__file__).resolve().parent.parent / "data" / "kueue_crds.json"


@cache
def table() -> dict[str, Any]:
    return json.loads(TABLE_FILE.read_text())


def _type_problem(path: str, facts: dict[str, Any], value: Any) -> str | None:
    kind = facts["type"]
    ok = {
        "object": isinstance(value, dict),
        "map": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "int-or-string": isinstance(value, (int, str)) and not isinstance(value, bool),
    }.get(kind, True)
    return None if ok else f"{path}: expected {kind}, got {type(value).__name__}"


def _string_problems(path: str, facts: dict[str, Any], value: str) -> list[str]:
    found = []
    if "enum" in facts and value not in facts["enum"]:
        found.append(f"{path}: {value!r} is not one of {', '.join(facts['enum'])}")
    if "maxLength" in facts and len(value) > facts["maxLength"]:
        found.append(f"{path}: {len(value)} characters, at most {facts['maxLength']}")
    if "minLength" in facts and len(value) < facts["minLength"]:
        found.append(f"{path}: {len(value)} characters, at least {facts['minLength']}")
    if "pattern" in facts and not re.search(facts["pattern"], value):
        found.append(f"{path}: {value!r} does not match {facts['pattern']}")
    return found


# CEL rules evaluated here, by the message the CRD gives them (checked only while the table lists it).
_CEL_CHECKS = {
    "flavors must have the same number of resources as the coveredResources": lambda group: all(
        len(flavor.get("resources", [])) == len(group.get("coveredResources", [])) for flavor in group.get("flavors", []) if isinstance(flavor, dict)
    ),
}


def _check(kind: str, fields: dict[str, Any], path: str, value: Any) -> list[str]:
    facts = fields[path]
    if problem := _type_problem(path, facts, value):
        return [problem]
    found: list[str] = []
    if isinstance(value, str):
        found += _string_problems(path, facts, value)
    if facts["type"] == "map":
        if "maxProperties" in facts and len(value) > facts["maxProperties"]:
            found.append(f"{path}: {len(value)} entries, at most {facts['maxProperties']}")
        found += [f"{path}.{key}: expected {facts['values']} values, got {type(item).__name__}" for key, item in value.items() if facts["values"] == "string" and not isinstance(item, str)]
    elif facts["type"] == "array":
        if "maxItems" in facts and len(value) > facts["maxItems"]:
            found.append(f"{path}: {len(value)} items, at most {facts['maxItems']}")
        if "minItems" in facts and len(value) < facts["minItems"]:
            found.append(f"{path}: {len(value)} items, at least {facts['minItems']}")
        items = f"{path}[]"
        for index, item in enumerate(value):
            if items in fields:
                found += [problem.replace(items, f"{path}[{index}]", 1) for problem in _check(kind, fields, items, item)]
    elif facts["type"] == "object":
        found += [f"{path}: {message}" for message in facts.get("celRules", []) if message in _CEL_CHECKS and not _CEL_CHECKS[message](value)]
        for key in facts["required"]:
            if key not in value:
                found.append(f"{path}.{key}: required")
        for key, item in value.items():
            child = f"{path}.{key}"
            if key not in facts["properties"]:
                found.append(f"{child}: not a field of {kind}; known: {', '.join(facts['properties'])}")
            elif child not in fields:
                found.append(f"{child}: a {kind} field kueue_crds.json does not cover; read its facts into the table first")
            else:
                found += _check(kind, fields, child, item)
    return found


def kueue_object_problems(manifest: dict) -> list[str]:
    """Problems of one Kueue object manifest, each naming its path; empty when it fits the table."""
    kinds = table()["kinds"]
    kind = manifest.get("kind")
    if kind not in kinds:
        return [f"kind: {kind!r} is not one of {', '.join(kinds)}"]
    facts = kinds[kind]
    found = []
    api_version = f"{facts['group']}/{facts['version']}"
    if manifest.get("apiVersion") != api_version:
        found.append(f"apiVersion: {manifest.get('apiVersion')!r}, expected {api_version} (the version kueue_crds.json was read at)")
    for key in set(manifest) - {"apiVersion", "kind", "metadata", "spec"}:
        found.append(f"{key}: not set by the platform (apiVersion, kind, metadata, spec)")
    metadata = manifest.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        found.append("metadata.name: required, a non-empty string")
        metadata = metadata if isinstance(metadata, dict) else {}
    if facts["scope"] == "Namespaced" and not metadata.get("namespace"):
        found.append(f"metadata.namespace: required, {kind} is namespaced")
    if facts["scope"] == "Cluster" and "namespace" in metadata:
        found.append(f"metadata.namespace: {kind} is cluster-scoped, set no namespace")
    if "spec" not in manifest:
        return [*found, "spec: required"]
    return found + _check(kind, facts["fields"], "spec", manifest["spec"])
