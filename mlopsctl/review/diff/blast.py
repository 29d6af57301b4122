"""Blast radius: what a replacement drags along through the head's recorded property dependencies.

A replaced resource gets a new identity (ID, ARN), so every input that the program built from its
outputs takes a new value; the engine records which inputs those are (``propertyDependencies``).
Each such dependent is replaced when that input forces replacement of its own type, else updated
in place, and a replaced dependent drags its own dependents along in turn. Plain ``dependsOn``
ordering changes no input, so it changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mlopsctl.review.diff.replace_rules import Effect, ReplaceTable

RESIDENT_KEY = "lives in it"


@dataclass(frozen=True)
class Edge:
    """``dependent`` is affected through its input ``key`` because ``cause`` is (or may be) replaced."""

    cause: str
    dependent: str
    key: str
    effect: Effect  # on the dependent
    cause_effect: Effect  # of the cause: replaced, or maybe replaced
    why: str = ""  # an AWS constraint beyond the schema, when that is what makes it a replacement


@dataclass
class BlastRadius:
    effects: dict[str, Effect] = field(default_factory=dict)  # induced effect per dependent URN
    edges: list[Edge] = field(default_factory=list)

    def caused(self, urn: str) -> list[Edge]:
        return [e for e in self.edges if e.dependent == urn]

    @cached_property
    def _by_cause(self) -> dict[str, list[Edge]]:
        by_cause: dict[str, list[Edge]] = defaultdict(list)
        for edge in self.edges:
            by_cause[edge.cause].append(edge)
        return by_cause

    def reach(self, root: str) -> list[str]:
        """Every URN a replacement of ``root`` affects, nearest first."""
        by_cause = self._by_cause
        seen: list[str] = []
        frontier = [root]
        while frontier:
            nxt: list[str] = []
            for urn in frontier:
                for edge in by_cause.get(urn, []):
                    if edge.dependent not in seen and edge.dependent != root:
                        seen.append(edge.dependent)
                        if edge.effect >= Effect.MAY_REPLACE:
                            nxt.append(edge.dependent)
            frontier = nxt
        return seen


def blast_radius(direct: dict[str, Effect], resources: dict[str, dict[str, Any]], table: ReplaceTable,
                 created: set[str], residents: dict[str, tuple[list[str], str]] | None = None) -> BlastRadius:
    """Propagate the ``direct`` replacements (URN -> effect) through ``resources`` (the head's, by URN).

    ``residents`` maps a URN to the resources that live inside it without an input pointing at it
    (objects of the in-cluster layer inside the EKS cluster), and why: they go wherever it goes.
    """
    dependents: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for urn, resource in resources.items():
        if urn in created:  # a new resource reads the new values anyway
            continue
        for key, causes in (resource.get("propertyDependencies") or {}).items():
            for cause in causes:
                dependents[cause].append((urn, key))

    result = BlastRadius()
    effect_of = dict(direct)
    # The types of replaced resources upstream of each one, for rules such as "a cluster cannot move VPC".
    upstream_types: dict[str, set[str]] = {urn: set() for urn in effect_of}
    work = sorted(urn for urn, effect in effect_of.items() if effect >= Effect.MAY_REPLACE)
    edges: dict[tuple[str, str, str], Edge] = {}
    while work:
        cause = work.pop(0)
        cause_effect = effect_of[cause]
        carried = upstream_types.get(cause, set()) | {resources[cause]["type"]}
        inside, why = (residents or {}).get(cause, ([], ""))
        reached = [(urn, key, None) for urn, key in sorted(dependents.get(cause, []))]
        reached += [(urn, RESIDENT_KEY, Edge(cause, urn, RESIDENT_KEY, cause_effect, cause_effect, why)) for urn in inside if urn not in created]
        for urn, key, fixed in reached:
            edge = fixed or _edge(cause, urn, key, cause_effect, resources[urn]["type"], carried, table)
            previous = edges.get((cause, urn, key))
            grew = not carried <= upstream_types.setdefault(urn, set())
            upstream_types[urn] |= carried
            if previous is not None and previous.effect >= edge.effect and not grew:
                continue
            edges[(cause, urn, key)] = edge
            before = effect_of.get(urn)
            result.effects[urn] = max(result.effects.get(urn, Effect.UPDATE), edge.effect)
            effect_of[urn] = max(before if before is not None else Effect.UPDATE, edge.effect)
            if effect_of[urn] >= Effect.MAY_REPLACE and (before != effect_of[urn] or grew) and urn not in work:
                work.append(urn)
    result.edges = sorted(edges.values(), key=lambda e: (e.cause, e.dependent, e.key))
    return result


def _edge(cause: str, urn: str, key: str, cause_effect: Effect, type_token: str, carried: set[str], table: ReplaceTable) -> Edge:
    facts = table.facts(type_token)
    if facts is None:
        return Edge(cause, urn, key, min(cause_effect, Effect.MAY_REPLACE), cause_effect, f"no replace facts for {type_token}")
    rule = facts.upstream_rule(key, carried)
    if rule is not None:
        return Edge(cause, urn, key, cause_effect, cause_effect, rule.rule)
    induced = facts.key_effect(key)
    # A dependent is replaced no more surely than its cause is.
    return Edge(cause, urn, key, min(induced, cause_effect) if induced > Effect.UPDATE else Effect.UPDATE, cause_effect)
