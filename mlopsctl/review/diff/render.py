"""The diff as terminal text and as a PR comment that fits GitHub's comment limit."""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from typing import Any

from mlopsctl.markdown import inline_code as _code
from mlopsctl.markdown import inline_text as _inline
from mlopsctl.offline.preview import NOT_EVALUATED
from mlopsctl.offline.wire import UNKNOWN
from mlopsctl.review.diff.graph import replacement_graph
from mlopsctl.review.diff.model import GAP_NOTE, MASK, Change, InputChange, StackDiff

GITHUB_COMMENT_LIMIT = 65_536
TAG_ONLY_NAMES_SHOWN = 12
VERDICT_ICONS = {"blocked": ":no_entry:", "needs care": ":warning:", "safe": ":white_check_mark:"}


def show(value: Any, limit: int = 120) -> str:
    if value is None:
        return "(none)"
    if value == UNKNOWN:
        return "(known after apply)"
    if value == MASK:
        return MASK
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = json.dumps(text) if isinstance(value, str) else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def _signed(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"{'+' if value >= 0 else '-'}${abs(value):,.2f}"


def _short_urn(urn: str | None) -> str:
    return (urn or "(stack)").rsplit("::", 1)[-1]


def cost_lines(cost: dict) -> list[str]:
    if not cost.get("evaluated"):
        return [f"Cost: {cost.get('note', NOT_EVALUATED)}"]
    as_of = f", prices as of {cost['asOf']}" if cost.get("asOf") else ""
    lines = [f"Cost (monthly{as_of}): " + ", ".join(
        f"{key} {_money(f['base'])} -> {_money(f['head'])} ({_signed(f['delta'])})" for key, f in cost["monthly"].items())]
    return lines


def _violation_text(v: dict) -> str:
    return f"[{v.get('level')}] {v.get('policy')}: {_short_urn(v.get('urn'))}: {v.get('message', '')}"


def policy_lines(policy: dict) -> list[str]:
    if not policy.get("evaluated"):
        lines = [f"Policy: {policy.get('note', NOT_EVALUATED)}"]
    else:
        lines = [f"Policy: {len(policy['new'])} new, {len(policy['fixed'])} fixed, {policy['remaining']} unchanged violation(s)"]
        lines += [f"  new   {_violation_text(v)}" for v in policy["new"]]
        lines += [f"  fixed {_violation_text(v)}" for v in policy["fixed"]]
    if policy.get("headMandatory"):
        lines.append(f"  {len(policy['headMandatory'])} mandatory violation(s) at the head: this change cannot be deployed")
    return lines


def _secret_config_text(secrets: dict) -> str | None:
    parts = [f"{label}: {', '.join(secrets[key])}" for key, label in (("added", "added"), ("changed", "changed"), ("removed", "removed")) if secrets.get(key)]
    return "Secret config (values not shown): " + "; ".join(parts) if parts else None


def _counts_line(s: dict[str, int]) -> str:
    return (f"{s['create']} to create, {s['update']} to update in place, {s['replace']} to replace "
            f"({s['mayReplace']} more may be replaced), {s['delete']} to delete, {s['unchanged']} unchanged")


def _flags(change: Change) -> str:
    return ("  [protected]" if change.protect else "") + ("  [holds data]" if change.holds else "")


def render_text(diff: StackDiff) -> str:
    s = diff.summary()
    out = [f"Verdict: {diff.verdict()[1]}", f"Offline diff of stack '{diff.stack}': {diff.base.label} -> {diff.head.label}", ""]
    out += [f"BLOCKED: {problem}" for problem in diff.blocking_problems()]
    out += [f"AFTER DEPLOY: {step}" for step in diff.after_deploy()]
    if not diff.base.exists:
        out += [f"(stack '{diff.stack}' does not exist at {diff.base.label}: every resource is a create)", ""]
    out += [*cost_lines(diff.cost), *policy_lines(diff.policy), ""]
    symbols = {"create": "+", "delete": "-", "update": "~"}
    for change in diff.changes:
        if change.tag_only:
            continue
        reasons = f": {'; '.join(change.reasons())}" if change.op == "update" and change.label != "update" else ""
        out.append(f"{symbols[change.op]} {change.type}  {change.name}  {change.label}{reasons}{_flags(change)}")
        for item in change.inputs:
            out.append(f"      {item.path}: {show(item.old)} -> {show(item.new)}")
        for item in change.options:
            out.append(f"      (option) {item.path}: {show(item.old)} -> {show(item.new)}")
        if change.ignored:
            out.append(f"      ignored by ignoreChanges: {', '.join(change.ignored)}")
    tag_only = [c.name for c in diff.changes if c.tag_only]
    if tag_only:
        out.append(f"~ {len(tag_only)} tag-only update(s), in place: {', '.join(tag_only)}")
    for root in diff.roots:
        dependents = diff.dependents_of(root)
        if dependents:
            out.append(f"Replacing {root.name} drags along {len(dependents)}: "
                       + ", ".join(f"{d.name} ({d.label}){_flags(d).replace('  ', ' ')}" for d in dependents))
    out += ["", f"Resources: {_counts_line(s)}"]
    secret_text = _secret_config_text(diff.secret_config)
    if secret_text:
        out.append(secret_text)
    for upgrade in diff.kubernetes_upgrades:
        if not upgrade.problem:
            out.append("Upgrade: " + upgrade.explanation())
    out += ["", "Note: " + GAP_NOTE.replace("`", "")]
    return "\n".join(out) + "\n"


def marker(stack: str) -> str:
    """The hidden line CI uses to find and update this stack's sticky PR comment."""
    return f"<!-- mlopsctl-diff stack={stack} -->"


def render_error_comment(stack: str, head_label: str, error: str) -> str:
    """The sticky comment when the head cannot be previewed: it replaces the stale diff, never leaves it up."""
    return (f"{marker(stack)}\n### Offline change diff: `{stack}`\n\n"
            f"{VERDICT_ICONS['blocked']} **Cannot preview** head {_code(head_label)}: {_inline(error)}\n")


@dataclass
class _Section:
    title: str
    head: list[str]  # lines always shown when the section is
    items: list[str]  # one rendered block per change; dropped from the end to fit
    always: bool = False  # render the head even with no items
    kept: int = -1

    def __post_init__(self) -> None:
        self.kept = len(self.items)

    def render(self) -> str:
        if not self.items and not self.always:
            return ""
        lines = [f"#### {self.title}", "", *self.head, *self.items[: self.kept]]
        if self.kept < len(self.items):
            lines.append(_truncation_line(len(self.items) - self.kept))
        return "\n".join(lines) + "\n\n"


def _truncation_line(dropped: int) -> str:
    return f"\n_… {dropped} more not shown: truncated to fit GitHub's {GITHUB_COMMENT_LIMIT:,}-character comment limit._\n"


def _flag_html(change: Change) -> str:
    return (" · <b>protected</b>" if change.protect else "") + (" · <b>holds data</b>" if change.holds else "")


def _update_block(change: Change) -> str:
    title = f"{_code(change.type)} <b>{html.escape(change.name)}</b>: {change.label}{_flag_html(change)}"
    if change.op == "update" and change.label != "update":
        title += " (" + "; ".join(_inline(r) for r in change.reasons()) + ")"
    lines = ["<details><summary>" + title + "</summary>", ""]
    rows = [*change.inputs, *[InputChange(f"(option) {o.path}", o.old, o.new) for o in change.options]]
    if rows:
        lines += ["| Path | Old | New |", "|---|---|---|"]
        lines += [f"| {_code(item.path)} | {_code(show(item.old))} | {_code(show(item.new))} |" for item in rows[:200]]
        if len(rows) > 200:
            lines.append(f"| … | {len(rows) - 200} more paths | |")
    for cause in change.caused_by:
        why = f": {_inline(cause.why)}" if cause.why else ""
        lines.append(f"- {_code(cause.key)} follows {_code(cause.name)}, which is {cause.cause_state}{why}")
    if change.ignored:
        lines += ["", "Ignored by `ignoreChanges`: " + ", ".join(_code(p) for p in change.ignored)]
    lines += ["", "</details>"]
    return "\n".join(lines)


def _verdict_lines(diff: StackDiff) -> list[str]:
    status, line = diff.verdict()
    head, _, rest = line.partition(": ")
    lines = [f"{VERDICT_ICONS[status]} **{head[:1].upper()}{head[1:]}**: {_inline(rest)}", ""]
    problems = diff.blocking_problems()
    if problems:
        lines += ["> [!CAUTION]", *(f"> - {_inline(p)}" for p in problems), ""]
    steps = diff.after_deploy()
    if steps:
        lines += ["> [!IMPORTANT]", "> After the deploy:", *(f"> - {_inline(s)}" for s in steps), ""]
    return lines


def _replacement_items(diff: StackDiff) -> list[str]:
    items = []
    for root in diff.roots:
        dependents = diff.dependents_of(root)
        title = f"{_code(root.type)} <b>{html.escape(root.name)}</b>: {root.label}{_flag_html(root)}"
        if not dependents:
            items.append(f"- {title}, nothing else follows")
            continue
        flagged = sum(1 for d in dependents if d.holds or d.protect)
        lines = [f"<details><summary>{title}: drags along {len(dependents)} ({flagged} protected or holding data)</summary>", "",
                 "| Dependent | Type | Effect |", "|---|---|---|"]
        lines += [f"| {_code(d.name)} | {_code(d.type)} | {d.label}{_flag_html(d)} |" for d in dependents]
        items.append("\n".join([*lines, "", "</details>"]))
    return items


def _tag_only_line(diff: StackDiff) -> list[str]:
    names = [c.name for c in diff.changes if c.tag_only]
    if not names:
        return []
    shown = ", ".join(_code(n) for n in names[:TAG_ONLY_NAMES_SHOWN])
    more = f" and {len(names) - TAG_ONLY_NAMES_SHOWN} more" if len(names) > TAG_ONLY_NAMES_SHOWN else ""
    return [f"**{len(names)}** tag-only update(s), in place: {shown}{more}", ""]


def render_markdown(diff: StackDiff, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """A PR comment: verdict, cost, policy, then the changes; at most ``limit`` characters, longest sections cut first."""
    s = diff.summary()
    header = [
        marker(diff.stack),
        f"### Offline change diff: `{diff.stack}`",
        "",
        *_verdict_lines(diff),
        f"Base `{diff.base.label}` → head `{diff.head.label}`"
        + ("" if diff.base.exists else f" (the stack is new: it does not exist at `{diff.base.label}`)"),
        "",
        *_cost_markdown(diff.cost),
        "",
    ]
    policy_head, policy_items = _policy_markdown(diff.policy)
    changes_head = [
        f"**{s['create']}** to create · **{s['update']}** to update in place · **{s['replace']}** to replace "
        f"(**{s['mayReplace']}** more may be replaced) · **{s['delete']}** to delete · {s['unchanged']} unchanged",
        "",
    ]
    for upgrade in diff.kubernetes_upgrades:
        if not upgrade.problem:
            changes_head += [f"> [!NOTE]\n> **Kubernetes upgrade:** {_inline(upgrade.explanation())}", ""]
    protected_deletes = [c for c in diff.of("delete") if c.protect]
    if protected_deletes:
        changes_head += [f"> [!WARNING]\n> {len(protected_deletes)} protected resource(s) would be deleted; `pulumi up` will refuse until `protect` is lifted.", ""]
    secret_parts = [f"{label} " + ", ".join(_code(k) for k in diff.secret_config[label]) for label in ("added", "changed", "removed")
                    if diff.secret_config.get(label)]
    if secret_parts:
        changes_head += ["**Secret config** (`secure:` values, not shown): " + "; ".join(secret_parts), ""]
    changes_head += _tag_only_line(diff)
    graph = replacement_graph(diff)
    sections = [
        _Section("Policy", policy_head, policy_items, always=True),
        _Section("Changes", changes_head, [], always=True),
        _Section("Replacements and what they drag along", [*graph, ""] if graph else [], _replacement_items(diff)),
        _Section("Updates and replacements, resource by resource", [], [_update_block(c) for c in diff.of("update") if not c.tag_only]),
        _Section("Creates", ["| Type | Name |", "|---|---|"], [f"| {_code(c.type)} | {_code(c.name)} |" for c in diff.of("create")]),
        _Section("Deletes", ["| Type | Name | Protected |", "|---|---|---|"],
                 [f"| {_code(c.type)} | {_code(c.name)} | {'yes' if c.protect else ''} |" for c in diff.of("delete")]),
    ]
    footer = [f"<sub>{GAP_NOTE} Replace facts as of {diff.table_as_of}. Generated by `mlopsctl diff`.</sub>", ""]
    return _fit(header, sections, footer, limit)


def _fit(header: list[str], sections: list[_Section], footer: list[str], limit: int) -> str:
    notice = (f"> [!NOTE]\n> Truncated to fit GitHub's {GITHUB_COMMENT_LIMIT:,}-character comment limit (longest sections first); "
              "the full diff is in `mlopsctl diff --format json` and the workflow's artifact.\n\n")
    fixed = "\n".join(header) + "\n" + "\n".join(footer)

    def total(with_notice: bool) -> int:
        return len(fixed) + sum(len(sec.render()) for sec in sections) + (len(notice) if with_notice else 0)

    if total(False) <= limit:
        return "\n".join(header) + "\n" + "".join(sec.render() for sec in sections) + "\n".join(footer)
    while total(True) > limit:
        candidates = [sec for sec in sections if sec.kept > 0]
        if not candidates:
            break
        longest = max(candidates, key=lambda sec: len(sec.render()))
        overflow = total(True) - limit
        average = max(1, sum(len(i) + 1 for i in longest.items[: longest.kept]) // longest.kept)
        longest.kept = max(0, longest.kept - max(1, math.ceil(overflow / average)))
    body = "\n".join(header) + "\n" + notice + "".join(sec.render() for sec in sections) + "\n".join(footer)
    if len(body) > limit:  # only the fixed parts are left and they are still too long
        cut = _truncation_line(0).strip()
        body = body[: limit - len(cut) - 1] + "\n" + cut
    return body


def _cost_markdown(cost: dict) -> list[str]:
    if not cost.get("evaluated"):
        return ["**Cost:** _" + cost.get("note", NOT_EVALUATED) + "_"]
    as_of = f", prices as of {cost['asOf']}" if cost.get("asOf") else ""
    lines = [f"**Monthly cost ({cost.get('currency', 'USD')}{as_of})**", "", "| | Base | Head | Delta |", "|---|---:|---:|---:|"]
    for key, figure in cost["monthly"].items():
        lines.append(f"| {key} | {_money(figure['base'])} | {_money(figure['head'])} | {_signed(figure['delta'])} |")
    return lines


def _policy_markdown(policy: dict) -> tuple[list[str], list[str]]:
    head: list[str] = []
    if policy.get("headMandatory"):
        head += [f"> [!CAUTION]\n> {len(policy['headMandatory'])} mandatory violation(s) at the head: this change cannot be deployed.", ""]
    if not policy.get("evaluated"):
        return head + [f"_{policy.get('note', NOT_EVALUATED)}_"], []
    if not policy["new"] and not policy["fixed"]:
        return head + [f"No new or fixed violations ({policy['remaining']} unchanged)."], []
    head += [f"{len(policy['new'])} new, {len(policy['fixed'])} fixed, {policy['remaining']} unchanged.", "",
             "| | Level | Policy | Resource | Message |", "|---|---|---|---|---|"]
    items = [f"| {state} | {v.get('level')} | {_code(str(v.get('policy')))} | {_code(_short_urn(v.get('urn')))} | {_inline(v.get('message', ''))} |"
             for state, group in (("new", policy["new"]), ("fixed", policy["fixed"])) for v in group]
    return head, items
