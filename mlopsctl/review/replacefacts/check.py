"""Compare the committed replace table with what the upstream files say, type by type.

A type is equal when the files read give the same replace paths (or the same ``"*"`` rule and
``except``), the same unverified inputs, every value-dependent replacement found in the code is
covered by the table (its ``replacePaths`` or ``conditional`` paths), and nothing was left
unread. Kubernetes and provider types are not derived (``table.not_derived_reason`` says why;
docs/replace-facts.md how they were read).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from mlopsctl.review.diff.replace_rules import EVERY_INPUT, covers
from mlopsctl.review.replacefacts.derivation import Derived, derive
from mlopsctl.review.replacefacts.sdk_inputs import InputTree
from mlopsctl.review.replacefacts.table import UpstreamSource


class UpstreamReader(Protocol):
    label: str

    def read(self, path: str) -> str | None: ...


@dataclass
class TypeCheck:
    token: str
    files: tuple[str, ...]
    kind: str = ""
    differences: list[str] = field(default_factory=list)
    not_derived: str | None = None  # why this check does not derive the type


def _listed(values: Iterable[str]) -> str:
    return ", ".join(sorted(values)) or "nothing"


def differences(entry: dict[str, Any], derived: Derived) -> list[str]:
    """How the table's entry differs from the derived facts (empty: equal)."""
    found = list(derived.problems)
    table_paths = set(entry["replacePaths"])
    if table_paths == {EVERY_INPUT}:
        if not derived.every_input:
            found.append(f'replacePaths: the table has "*", upstream replaces only on: {_listed(derived.replace_paths)}')
        elif set(entry.get("except", [])) != set(derived.except_paths):
            found.append(f"except: the table has {_listed(entry.get('except', []))}, upstream {_listed(derived.except_paths)}")
    else:
        if upstream_only := set(derived.replace_paths) - table_paths:
            found.append(f"replacePaths only upstream: {_listed(upstream_only)}")
        if table_only := table_paths - set(derived.replace_paths):
            found.append(f"replacePaths only in the table: {_listed(table_only)}")
    table_unverified, derived_unverified = set(entry.get("unverifiedInputs", [])), set(derived.unverified)
    if missing := derived_unverified - table_unverified:
        found.append(f"unverifiedInputs missing from the table (SDK inputs the files do not have): {_listed(missing)}")
    if extra := table_unverified - derived_unverified:
        found.append(f"unverifiedInputs the files do have (read their rule, then drop them): {_listed(extra)}")
    covered_by = table_paths | {p for rule in entry.get("conditional", []) for p in rule["paths"]}
    for hint, path in derived.hints:
        if path is None:
            found.append(f"conditional replacement on an input not named: {hint.origin}({hint.expression})")
        elif not any(covers(p, path) for p in covered_by):
            found.append(f"conditional replacement not in the table: {hint.origin}({path})")
    return found


def check_types(table: dict[str, Any], sources: list[UpstreamSource], reader: UpstreamReader, inputs: InputTree) -> list[TypeCheck]:
    """One TypeCheck per source, in the given order."""
    checks = []
    for source in sources:
        check = TypeCheck(source.token, source.files)
        checks.append(check)
        if source.not_derived:
            check.not_derived = source.not_derived
            continue
        texts = [reader.read(path) for path in source.files]
        missing = [path for path, text in zip(source.files, texts, strict=True) if text is None]
        if missing:
            check.differences = [f"not in {reader.label}: {path}" for path in missing]
            continue
        derived = derive(source, [t for t in texts if t is not None], inputs.paths(source.token))
        check.kind = derived.kind
        check.differences = differences(table["types"][source.token], derived)
    return checks


def _types(count: int) -> str:
    return f"{count} type{'' if count == 1 else 's'}"


def report(checks: list[TypeCheck], label: str) -> list[str]:
    """The lines ``check`` prints: each differing type with its differences, then one summary line."""
    lines = []
    for check in checks:
        if check.differences:
            lines.append(f"{check.token}  ({'; '.join(filter(None, [', '.join(check.files), check.kind]))})")
            lines += [f"  {d}" for d in check.differences]
    derived = [c for c in checks if not c.not_derived]
    differing = [c for c in derived if c.differences]
    summary = f"checked {_types(len(derived))} against {label}: {len(derived) - len(differing)} equal, {len(differing)} differ"
    reasons = Counter(c.not_derived for c in checks if c.not_derived)
    skipped = [f"{_types(count)} ({reason})" for reason, count in sorted(reasons.items())]
    if skipped:
        summary += f"; not derived, read by hand (docs/replace-facts.md): {', '.join(skipped)}"
    return [*lines, summary]
