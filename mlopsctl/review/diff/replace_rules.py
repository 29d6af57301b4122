"""What the derived replace facts (``review/data/replace_on_change.json``) say about a change.

Each type's facts come from the provider's own source at the pinned version (docs/replace-facts.md).
Paths are wire-format input paths; a fact path covers every path nested under it and list indexes
are ignored, so ``productionVariants[0].instanceType`` matches the fact ``productionVariants``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from mlopsctl import ROOT

REPLACE_TABLE_PATH = ROOT / "mlopsctl" / "review" / "data" / "replace_on_change.json"
EVERY_INPUT = "*"


class Effect(IntEnum):
    """What happens to a resource, ordered so that the worse of two effects is their ``max``."""

    UPDATE = 0
    MAY_REPLACE = 1
    REPLACE = 2


def normalise(path: str) -> list[str]:
    """``productionVariants[0].variantName`` -> ``["productionVariants", "variantName"]``."""
    cleaned = re.sub(r"\[\d+\]", "", path)
    cleaned = re.sub(r'\["([^"]*)"\]', r".\1", cleaned)
    return [part for part in cleaned.split(".") if part]


def covers(pattern: str, path: str) -> bool:
    """Whether a fact/option path covers a changed path (the same path or a parent of it)."""
    pattern_parts, path_parts = normalise(pattern), normalise(path)
    if pattern_parts == [EVERY_INPUT]:
        return True
    return path_parts[: len(pattern_parts)] == pattern_parts


def _nested_under(pattern: str, key: str) -> bool:
    """Whether a fact path lies strictly inside the top-level input ``key``."""
    parts = normalise(pattern)
    return len(parts) > 1 and parts[0] == key


@dataclass(frozen=True)
class PathVerdict:
    """The changed paths of one resource, sorted by what the facts say about them."""

    replaces: list[str]  # a fact path forces replacement
    may_replace: list[str]  # "<path> (<why>)": conditional or unverified in the upstream version read


@dataclass(frozen=True)
class UpstreamRule:
    """An input that cannot follow a replaced upstream resource of these types in place."""

    input: str
    upstream_types: frozenset[str]
    rule: str


@dataclass(frozen=True)
class TypeFacts:
    replace_paths: tuple[str, ...]
    except_paths: tuple[str, ...]
    conditional: tuple[tuple[str, str], ...]  # (path, rule)
    unverified: tuple[str, ...]
    upstream_rules: tuple[UpstreamRule, ...]

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> TypeFacts:
        return cls(
            replace_paths=tuple(entry.get("replacePaths", [])),
            except_paths=tuple(entry.get("except", [])),
            conditional=tuple((path, c["rule"]) for c in entry.get("conditional", []) for path in c["paths"]),
            unverified=tuple(entry.get("unverifiedInputs", [])),
            upstream_rules=tuple(UpstreamRule(r["input"], frozenset(r["upstreamTypes"]), r["rule"])
                                 for r in entry.get("replacedWithUpstream", [])),
        )

    def _excepted(self, path: str) -> bool:
        return any(covers(e, path) for e in self.except_paths)

    def classify(self, paths: list[str]) -> PathVerdict:
        replaces: list[str] = []
        may: list[str] = []
        for path in paths:
            if self._excepted(path):
                continue
            if any(covers(p, path) for p in self.replace_paths):
                replaces.append(path)
            elif rule := next((r for p, r in self.conditional if covers(p, path)), None):
                may.append(f"{path} (conditional: {rule})")
            elif any(covers(p, path) for p in self.unverified):
                may.append(f"{path} (unverified: the upstream source read does not settle it)")
        return PathVerdict(replaces, may)

    def key_effect(self, key: str) -> Effect:
        """The effect of the top-level input ``key`` taking a new, unknown value (an upstream replacement).

        A fact path nested inside ``key`` may or may not be the part that changes: that is a may.
        """
        if self._excepted(key):
            return Effect.UPDATE
        if any(covers(p, key) for p in self.replace_paths):
            return Effect.REPLACE
        nested = [*self.replace_paths, *(p for p, _ in self.conditional), *self.unverified]
        if any(_nested_under(p, key) or covers(p, key) for p in nested):
            return Effect.MAY_REPLACE
        return Effect.UPDATE

    def upstream_rule(self, key: str, replaced_upstream_types: set[str]) -> UpstreamRule | None:
        return next((r for r in self.upstream_rules if r.input == key and r.upstream_types & replaced_upstream_types), None)


class ReplaceTable:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.as_of: str = document.get("asOf", "?")
        self._facts = {token: TypeFacts.from_json(entry) for token, entry in document.get("types", {}).items()}

    def facts(self, type_token: str) -> TypeFacts | None:
        return self._facts.get(type_token)

    @property
    def types(self) -> list[str]:
        return sorted(self._facts)


def load_replace_table(path: Path = REPLACE_TABLE_PATH) -> ReplaceTable:
    return ReplaceTable(json.loads(path.read_text()))
