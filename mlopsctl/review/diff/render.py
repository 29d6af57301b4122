"""The diff as terminal text and as a PR comment that fits GitHub's comment limit."""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from typing import Any

from mlopsctl.offline.preview import NOT_EVALUATED
from mlopsctl.offline.wire import UNKNOWN
from mlopsctl.review.diff.compare import GAP_NOTE, MASK, Change, InputChange, StackDiff

GITHUB_COMMENT_LIMIT = 65_536


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


def render_text(diff: StackDiff) -> str:
    s = diff.summary()
    out = [f"Offline diff of stack '{diff.stack}': {diff.base.label} -> {diff.head.label}", ""]
    if not diff.base.exists:
        out += [f"(stack '{diff.stack}' does not exist at {diff.base.label}: every resource is a create)", ""]
    symbols = {"create": "+", "delete": "-", "update": "~"}
    for change in diff.changes:
        protect = "  [protected]" if change.protect and change.op == "delete" else ""
        reasons = f": {', '.join(change.forced_replace or change.replace_reasons)}" if change.label != "update" and change.op == "update" else ""
        out.append(f"{symbols[change.op]} {change.type}  {change.name}  {change.label}{reasons}{protect}")
        for item in change.inputs:
            out.append(f"      {item.path}: {show(item.old)} -> {show(item.new)}")
        for item in change.options:
            out.append(f"      (option) {item.path}: {show(item.old)} -> {show(item.new)}")
        if change.ignored:
            out.append(f"      ignored by ignoreChanges: {', '.join(change.ignored)}")
    out += ["", f"Resources: {s['create']} to create, {s['update']} to update ({s['mayReplace']} may replace), "
            f"{s['delete']} to delete, {s['unchanged']} unchanged"]
    secret_text = _secret_config_text(diff.secret_config)
    if secret_text:
        out.append(secret_text)
    for upgrade in diff.kubernetes_upgrades:
        out.append(("BLOCKED: " if upgrade.problem else "Upgrade: ") + upgrade.explanation())
    out += ["", *cost_lines(diff.cost), *policy_lines(diff.policy), "", "Note: " + GAP_NOTE.replace("`", "")]
    return "\n".join(out) + "\n"


def marker(stack: str) -> str:
    """The hidden line CI uses to find and update this stack's sticky PR comment."""
    return f"<!-- mlopsctl-diff stack={stack} -->"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    """Inline code for a table cell that survives backticks, pipes and HTML in values."""
    return "<code>" + html.escape(text.replace("\n", " "), quote=False).replace("|", "&#124;") + "</code>"


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


def _update_block(change: Change) -> str:
    title = f"{_code(change.type)} <b>{html.escape(change.name)}</b>: {change.label}"
    if change.op == "update" and change.label != "update":
        title += f" ({', '.join(_code(p) for p in (change.forced_replace or change.replace_reasons))})"
    lines = ["<details><summary>" + title + "</summary>", "", "| Path | Old | New |", "|---|---|---|"]
    for item in [*change.inputs, *[InputChange(f"(option) {o.path}", o.old, o.new) for o in change.options]][:200]:
        lines.append(f"| {_code(item.path)} | {_code(show(item.old))} | {_code(show(item.new))} |")
    if len(change.inputs) + len(change.options) > 200:
        lines.append(f"| … | {len(change.inputs) + len(change.options) - 200} more paths | |")
    if change.ignored:
        lines += ["", "Ignored by `ignoreChanges`: " + ", ".join(_code(p) for p in change.ignored)]
    lines += ["", "</details>"]
    return "\n".join(lines)


def render_markdown(diff: StackDiff, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """A PR comment: at most ``limit`` characters, the longest sections truncated first."""
    s = diff.summary()
    header = [
        marker(diff.stack),
        f"### Offline change diff: `{diff.stack}`",
        "",
        f"Base `{diff.base.label}` → head `{diff.head.label}`"
        + ("" if diff.base.exists else f" (the stack is new: it does not exist at `{diff.base.label}`)"),
        "",
        f"**{s['create']}** to create · **{s['update']}** to update (**{s['mayReplace']}** may replace) · "
        f"**{s['delete']}** to delete · {s['unchanged']} unchanged",
        "",
    ]
    for upgrade in diff.kubernetes_upgrades:
        if upgrade.problem:
            header += [f"> [!CAUTION]\n> **Blocked:** {_md_cell(upgrade.problem)}", ""]
        else:
            header += [f"> [!NOTE]\n> **Kubernetes upgrade:** {_md_cell(upgrade.explanation())}", ""]
    protected_deletes = [c for c in diff.of("delete") if c.protect]
    if protected_deletes:
        header += [f"> [!WARNING]\n> {len(protected_deletes)} protected resource(s) would be deleted; `pulumi up` will refuse until `protect` is lifted.", ""]
    secret_parts = [f"{label} " + ", ".join(f"`{k}`" for k in diff.secret_config[label]) for label in ("added", "changed", "removed")
                    if diff.secret_config.get(label)]
    if secret_parts:
        header += ["**Secret config** (`secure:` values, not shown): " + "; ".join(secret_parts), ""]
    header += _cost_markdown(diff.cost) + [""]

    policy_head, policy_items = _policy_markdown(diff.policy)
    sections = [
        _Section("Policy", policy_head, policy_items, always=True),
        _Section("Updates", [], [_update_block(c) for c in diff.of("update")]),
        _Section("Creates", ["| Type | Name |", "|---|---|"], [f"| {_code(c.type)} | {_code(c.name)} |" for c in diff.of("create")]),
        _Section("Deletes", ["| Type | Name | Protected |", "|---|---|---|"],
                 [f"| {_code(c.type)} | {_code(c.name)} | {'yes' if c.protect else ''} |" for c in diff.of("delete")]),
    ]
    footer = [f"<sub>{GAP_NOTE} Replace table as of {diff.table_as_of}. Generated by `mlopsctl diff`.</sub>", ""]
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
    items = [f"| {state} | {v.get('level')} | {_code(str(v.get('policy')))} | {_code(_short_urn(v.get('urn')))} | {_md_cell(v.get('message', ''))} |"
             for state, group in (("new", policy["new"]), ("fixed", policy["fixed"])) for v in group]
    return head, items
