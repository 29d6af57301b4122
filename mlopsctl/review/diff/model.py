"""The diff as data: sides, changed inputs, changes with their replace verdicts, and the stack's diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from components.config import DISPATCH_TOKEN_INPUT
from mlopsctl.review.diff.blast import BlastRadius
from mlopsctl.review.diff.replace_rules import Effect, normalise
from mlopsctl.review.upgrades import VersionChange
from policies.awsfacts.resource_types import EVENT_CONNECTION

# Inputs set outside Pulumi (ignoreChanges keeps Pulumi from restoring them) that a create or an
# update of their resource still writes from Pulumi's side: the deploy must be followed by a step.
# terraform-provider-aws's connection update sends the whole authParameters block, with the
# placeholder Pulumi still holds for the ignored token (its events connection.go).
OUT_OF_BAND_INPUTS: dict[str, tuple[str, str]] = {
    EVENT_CONNECTION: (DISPATCH_TOKEN_INPUT, "the GitHub dispatch token: run `mlopsctl dispatch-token --stack {stack}` right after this deploy, "
                       "because {what} {name} leaves the connection with Pulumi's placeholder until then"),
}

MASK = "[secret]"


@dataclass
class Side:
    label: str  # "main (1a2b3c4)" or "working tree"
    preview: dict[str, Any]
    stack_text: str | None  # the stack file as committed/checked out, for secure: keys
    exists: bool = True


@dataclass
class InputChange:
    path: str
    old: Any
    new: Any
    masked: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "old": self.old, "new": self.new, "masked": self.masked}


@dataclass(frozen=True)
class Cause:
    """This change follows from the replacement of ``urn`` (``name``), through this resource's input ``key``."""

    urn: str
    name: str
    key: str
    effect: Effect  # on this resource
    cause_effect: Effect  # on the cause
    why: str = ""

    @property
    def cause_state(self) -> str:
        return "replaced" if self.cause_effect == Effect.REPLACE else "maybe replaced"

    def to_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "name": self.name, "input": self.key, "effect": EFFECT_LABELS[self.effect],
                "cause": EFFECT_LABELS[self.cause_effect], "why": self.why}


EFFECT_LABELS = {Effect.UPDATE: "update", Effect.MAY_REPLACE: "may replace", Effect.REPLACE: "replace"}
TAG_KEYS = ("tags", "tagsAll", "defaultTags")  # defaultTags: a provider's tags for every resource


@dataclass
class Change:
    op: str  # create | delete | update
    urn: str
    type: str
    name: str
    inputs: list[InputChange] = field(default_factory=list)
    options: list[InputChange] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # changed paths the engine will ignore (ignoreChanges)
    replace_reasons: list[str] = field(default_factory=list)  # changed paths the replace facts say force replacement
    may_replace_reasons: list[str] = field(default_factory=list)  # conditional, unverified or unknown: "<path> (<why>)"
    forced_replace: list[str] = field(default_factory=list)  # replaceOnChanges paths that changed
    caused_by: list[Cause] = field(default_factory=list)  # replacements upstream that change this resource
    protect: bool = False
    retain_on_delete: bool = False
    holds: str | None = None  # what data the resource holds (DATA_HOLDING_TYPES), None if none

    @property
    def direct_effect(self) -> Effect:
        if self.forced_replace or self.replace_reasons:
            return Effect.REPLACE
        return Effect.MAY_REPLACE if self.may_replace_reasons else Effect.UPDATE

    @property
    def effect(self) -> Effect:
        return max([self.direct_effect, *(c.effect for c in self.caused_by)])

    @property
    def label(self) -> str:
        if self.op != "update":
            return self.op
        return {Effect.REPLACE: "replace", Effect.MAY_REPLACE: "update (may replace)", Effect.UPDATE: "update"}[self.effect]

    @property
    def tag_only(self) -> bool:
        """Only tags change, in place: nothing a reviewer needs to read path by path."""
        return (self.op == "update" and self.effect == Effect.UPDATE and not self.options and not self.caused_by
                and bool(self.inputs) and all(normalise(c.path)[0] in TAG_KEYS for c in self.inputs))

    def reasons(self) -> list[str]:
        """Why this may be or is a replacement, most certain first."""
        return [*self.forced_replace, *self.replace_reasons, *self.may_replace_reasons,
                *(f"{c.name} is {c.cause_state} ({c.key})" for c in self.caused_by if c.effect >= Effect.MAY_REPLACE)]

    def to_json(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "label": self.label,
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "replace": self.op == "update" and self.effect == Effect.REPLACE,
            "mayReplace": self.op == "update" and self.effect == Effect.MAY_REPLACE,
            "replaceReasons": self.replace_reasons,
            "mayReplaceReasons": self.may_replace_reasons,
            "replaceOnChanges": self.forced_replace,
            "causedBy": [c.to_json() for c in self.caused_by],
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "holdsData": self.holds,
            "tagOnly": self.tag_only,
            "inputs": [c.to_json() for c in self.inputs],
            "options": [c.to_json() for c in self.options],
            "ignoredByIgnoreChanges": self.ignored,
        }


@dataclass
class StackDiff:
    stack: str
    base: Side
    head: Side
    changes: list[Change]
    unchanged: int
    cost: dict[str, Any]
    policy: dict[str, Any]
    secret_config: dict[str, list[str]]
    table_as_of: str
    environment: str | None = None  # the head's environment (staging and prod refuse data loss)
    kubernetes_upgrades: list[VersionChange] = field(default_factory=list)
    blast: BlastRadius = field(default_factory=BlastRadius)

    def of(self, op: str) -> list[Change]:
        return [c for c in self.changes if c.op == op]

    def with_effect(self, effect: Effect) -> list[Change]:
        return [c for c in self.changes if c.op == "update" and c.effect == effect]

    @property
    def replacements(self) -> list[Change]:
        """Updates that replace or may replace, directly or dragged along."""
        return [c for c in self.changes if c.op == "update" and c.effect >= Effect.MAY_REPLACE]

    @cached_property
    def roots(self) -> list[Change]:
        """Replacements of their own that no other one drags along: where each chain of replacements starts."""
        direct = [c for c in self.replacements if c.direct_effect >= Effect.MAY_REPLACE]
        reached = {urn for c in direct for urn in self.blast.reach(c.urn)}
        return [c for c in direct if c.urn not in reached] or direct  # a cycle has no start: show every member

    def in_blast_order(self, changes: list[Change]) -> list[Change]:
        """``changes`` ordered as the replacements unfold: each root, then what it drags along, nearest first."""
        order = [urn for root in self.roots for urn in (root.urn, *self.blast.reach(root.urn))]
        rank = {urn: i for i, urn in reversed(list(enumerate(order)))}
        return sorted(changes, key=lambda c: (rank.get(c.urn, len(order)), c.urn))

    def dependents_of(self, root: Change) -> list[Change]:
        by_urn = {c.urn: c for c in self.changes}
        return [by_urn[urn] for urn in self.blast.reach(root.urn) if urn in by_urn]

    def data_touched(self) -> list[Change]:
        """Data-holding or protected resources that are replaced (or may be) or deleted."""
        return [c for c in self.changes if (c.holds or c.protect) and (c in self.replacements or c.op == "delete")]

    def head_mandatory_violations(self) -> list[dict]:
        return [v for v in (self.head.preview.get("policy") or {}).get("violations", []) if v.get("level") == "mandatory"]

    def data_loss_problems(self) -> list[str]:
        """In staging and prod: replacing a protected or data-holding resource, refused here."""
        if self.environment not in DATA_LOSS_REFUSED_IN:
            return []
        problems = []
        for change in self.in_blast_order(self.replacements):
            if not (change.protect or change.holds):
                continue
            what = "protected " if change.protect else ""
            holds = f", losing {change.holds}" if change.holds else ""
            verb = "replaces" if change.effect == Effect.REPLACE else "may replace"
            problems.append(f"{self.environment}: this change {verb} {what}{change.type} {change.name} "
                            f"({'; '.join(change.reasons())}){holds}")
        return problems

    def after_deploy(self) -> list[str]:
        """Steps this change needs right after its deploy (:data:`OUT_OF_BAND_INPUTS`)."""
        steps = []
        for change in self.changes:
            if change.type not in OUT_OF_BAND_INPUTS or change.op == "delete":
                continue
            _, step = OUT_OF_BAND_INPUTS[change.type]
            what = "creating" if change.op == "create" else ("replacing" if change in self.replacements else "updating")
            steps.append(step.format(stack=self.stack, what=what, name=change.name))
        return steps

    def blocking_problems(self) -> list[str]:
        """What this diff refuses (exit 1) because only a comparison of both sides can see it."""
        return [*(u.problem for u in self.kubernetes_upgrades if u.problem), *self.data_loss_problems()]

    def summary(self) -> dict[str, int]:
        return {"create": len(self.of("create")), "update": len(self.with_effect(Effect.UPDATE)),
                "replace": len(self.with_effect(Effect.REPLACE)), "mayReplace": len(self.with_effect(Effect.MAY_REPLACE)),
                "dependents": sum(1 for c in self.changes if c.caused_by),
                "dataTouched": len(self.data_touched()),
                "tagOnly": sum(1 for c in self.changes if c.tag_only),
                "delete": len(self.of("delete")), "unchanged": self.unchanged}

    def verdict(self) -> tuple[str, str]:
        """``(blocked | needs care | safe, one line)`` for the top of a review."""
        reasons = [*self.blocking_problems(), *(["mandatory policy violations at the head"] if self.head_mandatory_violations() else [])]
        if reasons:
            return "blocked", f"blocked: {len(reasons)} problem(s): {reasons[0]}" + (" …" if len(reasons) > 1 else "")
        replacements, touched, deletions = len(self.replacements), len(self.data_touched()), len(self.of("delete"))
        steps = len(self.after_deploy())
        if replacements or touched or deletions or steps:
            after = f", {steps} step(s) after the deploy" if steps else ""
            return "needs care", f"needs care: {replacements} replacement(s), {touched} data store(s) touched, {deletions} deletion(s){after}"
        return "safe", "safe: no replacements, no deletions, no data stores touched"

    def to_json(self) -> dict[str, Any]:
        verdict, line = self.verdict()
        return {
            "stack": self.stack,
            "environment": self.environment,
            "base": {"label": self.base.label, "stackExists": self.base.exists},
            "head": {"label": self.head.label},
            "verdict": {"status": verdict, "line": line},
            "summary": self.summary(),
            "changes": [c.to_json() for c in self.changes],
            "blastRadius": [{"urn": root.urn, "name": root.name, "type": root.type,
                             "dependents": [{"urn": d.urn, "name": d.name, "type": d.type, "label": d.label,
                                             "protect": d.protect, "holdsData": d.holds} for d in self.dependents_of(root)]}
                            for root in self.roots],
            "cost": self.cost,
            "policy": self.policy,
            "secretConfig": self.secret_config,
            "kubernetesUpgrades": [u.to_json() for u in self.kubernetes_upgrades],
            "blocked": self.blocking_problems(),
            "afterDeploy": self.after_deploy(),
            "notes": [GAP_NOTE],
        }


DATA_LOSS_REFUSED_IN = ("staging", "prod")
GAP_NOTE = ("Mocks run no provider diff: replacements come from replace-on-change facts derived from the providers' "
            "source (mlopsctl/review/data/replace_on_change.json, docs/replace-facts.md) and from the recorded property "
            "dependencies; `update (may replace)` marks a conditional or unverified fact. "
            "Run `pulumi preview` with credentials for the provider's verdict.")
