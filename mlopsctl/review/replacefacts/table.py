"""The replace table's shape, checked on load, and the upstream files each of its types was read from.

A malformed table stops with one line naming the file, the key and what is allowed, so that a
hand edit cannot silently drop a type from the diff or the check.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl import ROOT
from mlopsctl.review.diff.replace_rules import REPLACE_TABLE_PATH

TERRAFORM_AWS = "terraform-provider-aws"
PULUMI_KUBERNETES = "pulumi-kubernetes"
# Why a type's facts are not derived from a resource schema (they were read by hand).
KUBERNETES_REASON = "pulumi-kubernetes states its replace rules in Go tables and code paths, not in a schema"
PROVIDER_REASON = "provider resources: replacement follows the provider's DiffConfig, not a resource schema"
_TOKEN = re.compile(r"^(?:(?:aws|kubernetes):[\w.-]+/[\w.-]+:\w+|pulumi:providers:(?:aws|kubernetes))$")
_TF_RESOURCE = re.compile(r"^aws_[a-z0-9_]+$")
_UPSTREAM_PATH = re.compile(r"^[\w.-]+(?:/[\w.-]+)*\.go$")


class TableError(ValueError):
    """The table file is missing, not JSON, or not of the documented shape (one line)."""


@dataclass(frozen=True)
class UpstreamSource:
    """Where one type's facts come from: the Go files read, and the names Pulumi gives differently."""

    token: str
    repository: str
    files: tuple[str, ...]  # the resource's own file first, then files it borrows schema parts from
    tf_resource: str | None = None  # None: not a terraform-provider-aws resource
    renames: dict[str, str] = field(default_factory=dict)  # Terraform attribute -> Pulumi input

    @property
    def not_derived(self) -> str | None:
        """Why the check does not derive this type's facts (None: it does)."""
        return not_derived_reason(self.token)


def not_derived_reason(token: str) -> str | None:
    if token.startswith("pulumi:providers:"):
        return PROVIDER_REASON
    return KUBERNETES_REASON if token.startswith("kubernetes:") else None


def display(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def load_table(path: Path = REPLACE_TABLE_PATH) -> dict[str, Any]:
    """The table at ``path``, its shape checked (raises TableError)."""
    shown = display(path)
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TableError(f"{shown}: no such file; allowed: a replace table (default {display(REPLACE_TABLE_PATH)})") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise TableError(f"{shown}: not a JSON file ({str(error).splitlines()[0]})") from None
    _check_shape(table, shown)
    return table


def _fail(shown: str, key: str, problem: str, allowed: str) -> TableError:
    return TableError(f"{shown}: {key}: {problem}; allowed: {allowed}")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _check_shape(table: Any, shown: str) -> None:
    if not isinstance(table, dict):
        raise _fail(shown, "(top level)", "not an object", "an object with asOf, sources and types")
    try:
        datetime.date.fromisoformat(str(table.get("asOf")))
    except ValueError:
        raise _fail(shown, "asOf", f"{table.get('asOf')!r} is not a date", "YYYY-MM-DD") from None
    if not isinstance(table.get("sources"), dict):
        raise _fail(shown, "sources", "missing or not an object", "an object of upstream sources by name")
    types = table.get("types")
    if not isinstance(types, dict) or not types:
        raise _fail(shown, "types", "missing or empty", "an object of entries by type token")
    for token, entry in types.items():
        _check_entry(shown, token, entry)


def _check_entry(shown: str, token: str, entry: Any) -> None:
    key = f"types[{json.dumps(token)}]"
    if not _TOKEN.match(token):
        raise _fail(shown, key, "not a type token", "aws:<module>/<member>:<Name>, kubernetes:<group>/<version>:<Kind>, pulumi:providers:aws|kubernetes")
    if not isinstance(entry, dict):
        raise _fail(shown, key, "not an object", "an object with replacePaths and source")
    if not _strings(entry.get("replacePaths")):
        raise _fail(shown, f"{key}.replacePaths", "missing or not a list of paths", 'a list of input paths, or ["*"]')
    for optional in ("except", "unverifiedInputs"):
        if optional in entry and not _strings(entry[optional]):
            raise _fail(shown, f"{key}.{optional}", "not a list of paths", "a list of input paths")
    for i, rule in enumerate(entry.get("conditional", [])):
        if not (isinstance(rule, dict) and _strings(rule.get("paths")) and isinstance(rule.get("rule"), str)):
            raise _fail(shown, f"{key}.conditional[{i}]", "not a rule", "an object with paths (list) and rule (text)")
    source = entry.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("file"), str) or not source["file"].strip():
        raise _fail(shown, f"{key}.source.file", "missing", "the upstream file the facts were read from")
    if not isinstance(source.get("read"), dict) or not source["read"]:
        raise _fail(shown, f"{key}.source.read", "missing or empty", "an object with the commit and/or indexId read")
    if token.startswith("aws:"):
        if not isinstance(source.get("tfResource"), str) or not _TF_RESOURCE.match(source["tfResource"]):
            raise _fail(shown, f"{key}.source.tfResource", "missing or not a resource name", "aws_<service>_<name>")
        if not _UPSTREAM_PATH.match(source["file"]):
            raise _fail(shown, f"{key}.source.file", "not a Go file path", "internal/service/<service>/<file>.go")
    also = source.get("alsoReads", [])
    if not _strings(also) or not all(_UPSTREAM_PATH.match(p) for p in also):
        raise _fail(shown, f"{key}.source.alsoReads", "not a list of Go file paths", "internal/service/<service>/<file>.go, ...")
    renames = source.get("renames", {})
    if not isinstance(renames, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in renames.items()):
        raise _fail(shown, f"{key}.source.renames", "not an object of names", "Terraform attribute -> Pulumi input")


def upstream_sources(table: dict[str, Any]) -> list[UpstreamSource]:
    """Per type (sorted by token), the upstream repository and files its facts were read from."""
    found = []
    repositories = {name: s.get("repository", name) for name, s in table["sources"].items() if isinstance(s, dict)}
    for token, entry in sorted(table["types"].items()):
        source = entry["source"]
        if token.startswith("aws:"):
            files = (source["file"], *source.get("alsoReads", []))
            found.append(UpstreamSource(token, repositories.get(TERRAFORM_AWS, TERRAFORM_AWS), files,
                                        source["tfResource"], dict(source.get("renames", {}))))
        elif token.startswith("kubernetes:") or token == "pulumi:providers:kubernetes":
            found.append(UpstreamSource(token, repositories.get(PULUMI_KUBERNETES, PULUMI_KUBERNETES), (source["file"],)))
        else:  # the bridged provider: source.file names the repository it was read in
            found.append(UpstreamSource(token, "(named in source.file)", (source["file"],)))
    return found
