"""``mlopsctl cost`` and the preview's cost section.

The pricing itself lives in ``policies/pricing`` (shipped with the policy pack, which runs the
``monthly-budget`` policy on the same code); this module only adapts a mock-runtime
:class:`~mlopsctl.offline.harness.Recording` to it, reads the stack's budget from the policy config, and
renders the result.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from mlopsctl.offline.harness import RecordedResource, Recording
from mlopsctl.offline.policycheck.config import CONFIG_DIR, configured_policy, load_config_file
from policies.pricing import (
    BUDGET_DEFAULT_LEVEL,
    BUDGET_KEY,
    BUDGET_POLICY,
    SCENARIOS,
    UNPRICED_ACCEPTED_KEY,
    CostReport,
    StackResource,
    cost_json,
    price_resources,
)


def stack_resources(resources: list[RecordedResource], default_region: str | None = None) -> list[StackResource]:
    """Recorded registrations as the pricing engine's input; region from each resource's provider."""
    provider_regions: dict[str, str] = {}
    for resource in resources:
        if resource.type.startswith("pulumi:providers:aws") and isinstance(resource.inputs.get("region"), str):
            provider_regions[resource.urn] = resource.inputs["region"]
    priced = []
    for resource in resources:
        provider_urn = resource.provider.rsplit("::", 1)[0] if resource.provider else None
        priced.append(
            StackResource(
                urn=resource.urn,
                type=resource.type,
                inputs=resource.inputs,
                region=provider_regions.get(provider_urn or "", default_region),
                property_dependencies=resource.propertyDependencies,
                dependencies=resource.dependencies,
            )
        )
    return priced


def price_recording(recording: Recording, *, default_region: str | None = None, on_date: _dt.date | None = None) -> CostReport:
    return price_resources(stack_resources(recording.resources, default_region), on_date=on_date)


def budget_config(environment: str, config_dir: Path | None = None) -> tuple[float | None, str]:
    """(``monthlyBudgetUsd``, enforcement level) of the ``monthly-budget`` policy in ``policies/config/<stack>.json``.

    The same file is passed to ``pulumi preview --policy-pack-config``, so the offline verdict and
    the pack's agree. It is read by the pack driver's parser
    (:mod:`mlopsctl.offline.policycheck.config`), so an entry means what it means to the engine (a bare string is a level, ``"all"`` sets every level). The level defaults
    to the policy's own default, mandatory.
    """
    budget, level, _ = _budget_settings(environment, config_dir)
    return budget, level


def _budget_settings(environment: str, config_dir: Path | None) -> tuple[float | None, str, tuple[str, ...]]:
    """(``monthlyBudgetUsd``, level, ``unpricedAccepted``) of the ``monthly-budget`` entry, read once."""
    path = (config_dir or CONFIG_DIR) / f"{environment}.json"
    if not path.is_file():
        return None, BUDGET_DEFAULT_LEVEL, ()
    level, props = configured_policy(load_config_file(path), BUDGET_POLICY, BUDGET_DEFAULT_LEVEL)
    budget = props.get(BUDGET_KEY)
    return (None if budget is None else float(budget)), level, tuple(props.get(UNPRICED_ACCEPTED_KEY) or ())


def blocks(cost: dict[str, Any], enforcement_level: str) -> bool:
    """Whether the budget verdict would block ``pulumi up``: not within a mandatory budget."""
    budget = cost.get("budget") or {}
    return budget.get(BUDGET_KEY) is not None and budget.get("withinBudget") is False and enforcement_level == "mandatory"


def cost_section(recording: Recording, environment: str, *, default_region: str | None = None, on_date: _dt.date | None = None) -> dict[str, Any]:
    """``PreviewResult.cost``: the priced stack plus the budget verdict of ``policies/config/<environment>.json``."""
    report = price_recording(recording, default_region=default_region, on_date=on_date)
    budget, _, accepted = _budget_settings(environment, None)
    return cost_json(report, budget, accepted)


# ---------------------------------------------------------------------------------------------
# Rendering


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def render_text(cost: dict[str, Any], stack: str) -> str:
    out = [f"Monthly cost of stack '{stack}' ({cost['currency']}, on-demand prices as of {cost['asOf']}, {cost['hoursPerMonth']:g} h/month)", ""]
    out.append(f"  {'':<10}{'idle':>14}{'expected':>14}{'ceiling':>14}")
    out.append(f"  {'total':<10}" + "".join(f"{_money(cost['monthly'][s]):>14}" for s in SCENARIOS))
    out.append("")
    out.append(f"  {'item [resource]':<78}{'qty':>6}{'unit price':>12}  {'idle':>11}{'expected':>11}{'ceiling':>11}")
    by_component: dict[str, list[dict]] = {}
    for item in cost["lineItems"]:
        by_component.setdefault(item["component"], []).append(item)
    for component, items in sorted(by_component.items()):
        sums = cost["byComponent"][component]
        out.append(f"  {component:<98}" + "".join(f"{_money(sums[s]):>11}" for s in SCENARIOS))
        for item in sorted(items, key=lambda i: (i["item"], i["urn"])):
            price = "unknown" if item["unitPrice"] is None else f"${item['unitPrice']:g}"
            label = f"{item['item']} [{item['urn'].rsplit('::', 1)[-1]}]"
            label = label if len(label) <= 74 else label[:73] + "…"
            out.append(f"    {label:<76}{item['quantity']:>6g}{price:>12}  " + "".join(f"{_money(item['monthly'][s]):>11}" for s in SCENARIOS))
    if cost["unknownItems"]:
        out += ["", "Unknown (totals that include them are reported as unknown):"]
        out += [f"  {u['item']} [{', '.join(u['scenarios'])}]: {u['reason']}" for u in cost["unknownItems"]]
    if cost["excluded"]:
        kinds = sorted({e["item"] if "data processing" not in e["item"] else "data processing" for e in cost["excluded"]})
        out += ["", "Excluded (usage-dependent, not in the totals): " + "; ".join(kinds)]
    budget = cost["budget"]
    out += ["", f"Budget: {budget['message']}"]
    return "\n".join(out) + "\n"


def render_markdown(cost: dict[str, Any], stack: str) -> str:
    out = [f"#### Monthly cost: `{stack}`", ""]
    out += ["| | idle | expected | ceiling |", "|---|---:|---:|---:|"]
    out.append("| **total** | " + " | ".join(_money(cost["monthly"][s]) for s in SCENARIOS) + " |")
    for component, sums in sorted(cost["byComponent"].items()):
        out.append(f"| `{component}` | " + " | ".join(_money(sums[s]) for s in SCENARIOS) + " |")
    out += ["", f"On-demand prices as of {cost['asOf']}, {cost['hoursPerMonth']:g} h/month; traffic, storage and data processing excluded."]
    budget = cost["budget"]
    if budget.get(BUDGET_KEY) is not None:
        out += ["", f"{'✅' if budget['withinBudget'] else '⚠️'} Budget: {budget['message']}"]
    if cost["unknownItems"]:
        out += ["", "**Unknown prices** (totals that include them show as unknown):", ""]
        out += [f"- {u['item']} ({', '.join(u['scenarios'])}): {u['reason']}" for u in cost["unknownItems"]]
    out += ["", "<details><summary>Line items</summary>", "", "| Component | Resource | Item | Qty | Unit price | Unit | idle | expected | ceiling |", "|---|---|---|---:|---:|---|---:|---:|---:|"]
    for item in sorted(cost["lineItems"], key=lambda i: (i["component"], i["item"], i["urn"])):
        price = "unknown" if item["unitPrice"] is None else f"${item['unitPrice']:g}"
        out.append(
            f"| `{item['component']}` | `{item['urn'].rsplit('::', 1)[-1]}` | {item['item']} | {item['quantity']:g} | {price} | {item['unit']} | "
            + " | ".join(_money(item["monthly"][s]) for s in SCENARIOS)
            + " |"
        )
    out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _usd(value: float) -> str:
    whole, _, decimals = f"{value:.6f}".rstrip("0").partition(".")
    return f"${whole}.{decimals.ljust(2, '0')}"


def price_table_markdown() -> str:
    """The price table as a Markdown table (embedded verbatim in docs/cost.md; a test keeps them equal)."""
    from policies.pricing import default_table

    table = default_table()
    out = [f"Prices as of **{table.as_of}** ({table.currency}, on-demand, {table.hours_per_month:g} h/month).", ""]
    out += ["| Region | Item | Price | Per | Source | Checked |", "|---|---|---:|---|---|---|"]
    for row in table.rows():
        out.append(f"| {row.region} | `{row.key}` | {_usd(row.usd)} | {row.per} | {row.source} | {row.as_of} |")
    return "\n".join(out) + "\n"
