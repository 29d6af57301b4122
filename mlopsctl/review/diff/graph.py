"""A small Mermaid picture of what is replaced and what drags what along (GitHub renders it)."""

from __future__ import annotations

import html
from collections import Counter

from mlopsctl.review.diff.model import Change, StackDiff
from mlopsctl.review.diff.replace_rules import Effect

# Beyond this many replaced resources one node per resource is unreadable: one node per type instead.
MAX_RESOURCE_NODES = 15


def _label(text: str) -> str:
    """A Mermaid node label: quoted, with quotes and markup made inert."""
    return '"' + html.escape(text, quote=False).replace('"', "#quot;") + '"'


def _short_type(type_token: str) -> str:
    """``aws:eks/nodeGroup:NodeGroup`` -> ``eks NodeGroup``."""
    module, _, name = type_token.rpartition(":")
    return f"{module.split(':')[-1].split('/')[0]} {name}"


def replacement_graph(diff: StackDiff) -> list[str]:
    """Mermaid lines (fenced), or none when no replacement drags another along."""
    replaced = {c.urn: c for c in diff.replacements}
    edges = [(e.cause, e.dependent) for e in diff.blast.edges
             if e.cause in replaced and e.dependent in replaced and e.effect >= Effect.MAY_REPLACE]
    if not edges:
        return []
    per_type = len(replaced) > MAX_RESOURCE_NODES

    def node_key(change: Change) -> str:
        return change.type if per_type else change.urn

    keys = sorted({node_key(c) for c in replaced.values()})
    ids = {key: f"n{i}" for i, key in enumerate(keys)}
    counts = Counter(node_key(c) for c in replaced.values())
    holding = {node_key(c) for c in replaced.values() if c.holds or c.protect}
    lines = ["```mermaid", "flowchart LR"]
    for key in keys:
        sample = next(c for c in replaced.values() if node_key(c) == key)
        text = f"{_short_type(key)} ×{counts[key]}" if per_type else f"{_short_type(sample.type)}: {sample.name}"
        lines.append(f"  {ids[key]}[{_label(text)}]")
    drawn = sorted({(ids[node_key(replaced[a])], ids[node_key(replaced[b])]) for a, b in edges})
    lines += [f"  {a} --> {b}" for a, b in drawn if a != b]
    if holding:
        lines.append("  classDef data fill:#fde2e2,stroke:#b42318,stroke-width:2px")
        lines.append("  class " + ",".join(ids[k] for k in sorted(holding)) + " data")
    lines.append("```")
    return lines
