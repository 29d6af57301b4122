"""Derive and check components/data/kueue_crds.json from Kueue's CRD YAMLs.

The table holds only what the platform sets (``COVERED``), read from the CRDs' storage version.
The CRD files are read, never committed: get them from the pinned tag, e.g.

    git -C <kueue clone> show v0.19.2:config/components/crd/bases/kueue.x-k8s.io_clusterqueues.yaml

(the same for resourceflavors and localqueues) into one directory, then

    python -m mlopsctl.review.kueuefacts check --crd-dir <dir>     # exit 0 equal, 1 differs, 2 bad input
    python -m mlopsctl.review.kueuefacts derive --crd-dir <dir>    # prints the derived "kinds"

Enums Kueue states only as CEL rules on a list (``self.all(x, x.effect in [...])``) are read
from those rules and marked ``"enumFrom": "x-kubernetes-validations"``. Other CEL rules are
recorded as their messages (``celRules``), not evaluated.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

TABLE_FILE = Path(__file__).resolve().parents[2] / "components" / "data" / "kueue_crds.json"

CRD_FILES = {
    "ResourceFlavor": "kueue.x-k8s.io_resourceflavors.yaml",
    "ClusterQueue": "kueue.x-k8s.io_clusterqueues.yaml",
    "LocalQueue": "kueue.x-k8s.io_localqueues.yaml",
}

# The leaf fields the platform sets; their parents are recorded too.
COVERED = {
    "ResourceFlavor": (
        "spec.nodeLabels",
        *(f"spec.nodeTaints[].{k}" for k in ("key", "value", "effect")),
        *(f"spec.tolerations[].{k}" for k in ("key", "operator", "value", "effect", "tolerationSeconds")),
    ),
    "ClusterQueue": (
        "spec.namespaceSelector.matchLabels",
        *(f"spec.namespaceSelector.matchExpressions[].{k}" for k in ("key", "operator", "values")),
        "spec.queueingStrategy",
        "spec.resourceGroups[].coveredResources",
        "spec.resourceGroups[].flavors[].name",
        "spec.resourceGroups[].flavors[].resources[].name",
        "spec.resourceGroups[].flavors[].resources[].nominalQuota",
        "spec.preemption.withinClusterQueue",
        "spec.preemption.reclaimWithinCohort",
        "spec.preemption.borrowWithinCohort.policy",
        "spec.preemption.borrowWithinCohort.maxPriorityThreshold",
        "spec.stopPolicy",
    ),
    "LocalQueue": ("spec.clusterQueue", "spec.stopPolicy"),
}

_COPIED = ("enum", "default", "format", "pattern", "maxLength", "minLength", "maxItems", "minItems", "maxProperties")
_CEL_ENUM = re.compile(r"x\.(\w+) in \[([^\]]*)\]")


class BadInput(Exception):
    """A CRD file is missing or not what this tool reads (one line: file, key, what is allowed)."""


def _facts(node: dict[str, Any]) -> dict[str, Any]:
    if node.get("x-kubernetes-int-or-string"):
        out: dict[str, Any] = {"type": "int-or-string"}
    elif node.get("type") == "object" and "additionalProperties" in node and "properties" not in node:
        out = {"type": "map", "values": node["additionalProperties"].get("type")}
    else:
        out = {"type": node.get("type")}
    out.update({key: node[key] for key in _COPIED if key in node})
    if "properties" in node:
        out["properties"] = sorted(node["properties"])
        out["required"] = sorted(node.get("required", []))
    if rules := node.get("x-kubernetes-validations"):
        out["celRules"] = [rule["message"] for rule in rules]
    return out


def _cel_enums(node: dict[str, Any]) -> dict[str, list[str]]:
    """Item field -> allowed values, from a list's ``x.F in ['A', ...]`` rules."""
    found: dict[str, list[str]] = {}
    for rule in node.get("x-kubernetes-validations", []):
        for name, values in _CEL_ENUM.findall(rule["rule"]):
            found[name] = [v.strip().strip("'\"") for v in values.split(",")]
    return found


def _version(path: Path, crd: Any) -> dict[str, Any]:
    try:
        versions = crd["spec"]["versions"]
        storage = next(v for v in versions if v.get("storage"))
    except (TypeError, KeyError, StopIteration):
        raise BadInput(f"{path}: spec.versions: expected a CustomResourceDefinition with one storage version") from None
    return storage


def derive_kind(kind: str, path: Path) -> dict[str, Any]:
    try:
        crd = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise BadInput(f"{path}: cannot read the CRD YAML ({type(error).__name__}); expected {CRD_FILES[kind]} from the pinned tag") from None
    storage = _version(path, crd)
    spec = crd["spec"]
    if spec.get("names", {}).get("kind") != kind:
        raise BadInput(f"{path}: spec.names.kind: expected {kind}")
    root = storage["schema"]["openAPIV3Schema"]["properties"]
    fields: dict[str, Any] = {}
    for covered in COVERED[kind]:
        node: dict[str, Any] = {"type": "object", "properties": root}
        walked: list[str] = []
        enums: dict[str, list[str]] = {}
        for segment in covered.split("."):
            name, is_list = segment.removesuffix("[]"), segment.endswith("[]")
            child = node.get("properties", {}).get(name)
            if child is None:
                raise BadInput(f"{path}: {'.'.join([*walked, name])}: not in {kind} {storage['name']}; the fields read are COVERED in kueuefacts.py")
            walked.append(name)
            here = ".".join(walked)
            facts = _facts(child)
            if name in enums and "enum" not in facts:
                facts.update(enum=enums[name], enumFrom="x-kubernetes-validations")
            fields.setdefault(here, facts)
            node, enums = child, {}
            if is_list:
                enums = _cel_enums(child)
                node = child["items"]
                walked[-1] += "[]"
                fields.setdefault(".".join(walked), _facts(node))
    return {
        "group": spec["group"],
        "version": storage["name"],
        "kind": kind,
        "plural": spec["names"]["plural"],
        "scope": spec["scope"],
        "servedVersions": sorted(v["name"] for v in spec["versions"] if v.get("served")),
        "deprecatedVersions": sorted(v["name"] for v in spec["versions"] if v.get("deprecated")),
        "fields": dict(sorted(fields.items())),
    }


def derive(crd_dir: Path) -> dict[str, Any]:
    return {kind: derive_kind(kind, crd_dir / name) for kind, name in CRD_FILES.items()}


def differences(table: dict[str, Any], derived: dict[str, Any]) -> list[str]:
    found = []
    for kind, facts in derived.items():
        entry = table.get(kind, {})
        for key in sorted(set(facts) | set(entry)):
            if key == "fields":
                continue
            if entry.get(key) != facts.get(key):
                found.append(f"{kind}.{key}: table {entry.get(key)!r}, CRD {facts.get(key)!r}")
        table_fields, crd_fields = entry.get("fields", {}), facts["fields"]
        for path in sorted(set(table_fields) | set(crd_fields)):
            if table_fields.get(path) != crd_fields.get(path):
                found.append(f"{kind} {path}: table {table_fields.get(path)!r}, CRD {crd_fields.get(path)!r}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlopsctl.review.kueuefacts", description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("check", "derive"))
    parser.add_argument("--crd-dir", type=Path, required=True)
    parser.add_argument("--table", type=Path, default=TABLE_FILE)
    args = parser.parse_args(argv)
    try:
        derived = derive(args.crd_dir)
    except BadInput as error:
        print(error, file=sys.stderr)
        return 2
    if args.mode == "derive":
        print(json.dumps(derived, indent=2))
        return 0
    table = json.loads(args.table.read_text())["kinds"]
    if found := differences(table, derived):
        print("\n".join(found))
        return 1
    print(f"{args.table.name}: equal to the CRDs in {args.crd_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
