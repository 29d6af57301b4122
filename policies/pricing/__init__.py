"""The platform's cost model: one implementation, shipped inside the policy pack.

``policies/budget.py`` (the ``monthly-budget`` stack policy) and ``mlopsctl cost`` / ``mlopsctl
preview`` both call :func:`price_resources` and :func:`cost_json` from here. Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from .engine import price_resources
from .inputs import StackResource, component_of, is_unknown, plain
from .report import SCENARIOS, CostReport, Exclusion, LineItem, UnknownItem
from .table import PRICES_FILE, Price, PriceTable, default_table

BUDGET_POLICY = "monthly-budget"
BUDGET_KEY = "monthlyBudgetUsd"
BUDGET_DEFAULT_LEVEL = "mandatory"  # the policy's own level; mlopsctl cost reads configs against it
# Resource types whose unpriced items an environment accepts in its budget verdict, by name in
# policies/config/<env>.json: a reviewed decision that the price table cannot bound them yet.
UNPRICED_ACCEPTED_KEY = "unpricedAccepted"


def budget_verdict(report: CostReport, monthly_budget_usd: float | None, unpriced_accepted: Collection[str] = ()) -> dict[str, Any] | None:
    """Compare the priced ceiling with a monthly budget.

    ``withinBudget`` is True only when the ceiling is fully priced and at most the budget, or when
    every unpriced item at the ceiling is of a type in ``unpriced_accepted`` (the environment's
    ``unpricedAccepted``) and the priced part is at most the budget; ``unpricedAccepted`` then
    lists those items, so the verdict never reads as fully verified. Otherwise an unknown ceiling
    is never within budget: its priced part may already exceed it, and the unpriced items may push
    it over, which nobody can rule out.
    """
    if monthly_budget_usd is None:
        return None
    ceiling = report.total("ceiling")
    known = report.known_part("ceiling")
    within = ceiling is not None and ceiling <= monthly_budget_usd
    unpriced = [u for u in report.unknown_items if "ceiling" in u.scenarios]
    accepted = sorted({u.item for u in unpriced}) if unpriced and all(u.type in unpriced_accepted for u in unpriced) else []
    if ceiling is None and accepted and known <= monthly_budget_usd:
        return {
            BUDGET_KEY: monthly_budget_usd,
            "withinBudget": True,
            "ceiling": None,
            UNPRICED_ACCEPTED_KEY: accepted,
            "message": (
                f"priced part of the ceiling ${known:,.2f}/month within the budget of ${monthly_budget_usd:,.2f}/month; NOT verified: "
                f"{', '.join(accepted)} (no price in the table; accepted unpriced for this environment by {UNPRICED_ACCEPTED_KEY})"
            ),
        }
    if ceiling is not None:
        message = f"ceiling ${ceiling:,.2f}/month {'within' if within else 'exceeds'} the budget of ${monthly_budget_usd:,.2f}/month"
    elif known > monthly_budget_usd:
        message = f"ceiling unknown, but its priced part alone (${known:,.2f}/month) exceeds the budget of ${monthly_budget_usd:,.2f}/month"
    else:
        unknown = sorted({u.item for u in report.unknown_items if "ceiling" in u.scenarios})
        message = (
            f"ceiling cannot be verified against the budget of ${monthly_budget_usd:,.2f}/month: priced part ${known:,.2f}, "
            f"no price for {', '.join(unknown)}"
        )
    return {
        BUDGET_KEY: monthly_budget_usd,
        "withinBudget": within,
        "ceiling": None if ceiling is None else round(ceiling, 2),
        "message": message,
    }


def cost_json(report: CostReport, monthly_budget_usd: float | None = None, unpriced_accepted: Collection[str] = ()) -> dict[str, Any]:
    """The ``cost`` section of ``mlopsctl preview --format json`` (also ``mlopsctl cost --format json``)."""
    verdict = budget_verdict(report, monthly_budget_usd, unpriced_accepted)
    return {
        "evaluated": True,
        "currency": report.currency,
        "asOf": report.as_of,
        "monthly": {s: (None if (t := report.total(s)) is None else round(float(t), 2)) for s in SCENARIOS},
        # Pricing follows the order resources registered in, which varies; the output is in URN order.
        "unknownItems": sorted((u.to_json() for u in report.unknown_items), key=lambda u: json.dumps(u, sort_keys=True)),
        "lineItems": sorted((item.to_json() for item in report.line_items), key=lambda i: (i["urn"], i["item"])),
        "summary": report.summary() + (f"; budget: {verdict['message']}" if verdict else ""),
        "budget": verdict if verdict is not None else {BUDGET_KEY: None, "withinBudget": None, "message": "no monthly budget configured"},
        # Additive detail beyond the contract: the pricing date, partial sums and what is not priced.
        "pricedOn": report.priced_on,
        "hoursPerMonth": report.hours_per_month,
        "pricedPart": {s: round(float(report.known_part(s)), 2) for s in SCENARIOS},
        "byComponent": {c: {s: (None if v is None else round(v, 2)) for s, v in sums.items()} for c, sums in report.by_component().items()},
        "excluded": sorted((e.to_json() for e in report.excluded), key=lambda e: json.dumps(e, sort_keys=True)),
    }


__all__ = [
    "BUDGET_KEY",
    "UNPRICED_ACCEPTED_KEY",
    "BUDGET_DEFAULT_LEVEL",
    "BUDGET_POLICY",
    "PRICES_FILE",
    "SCENARIOS",
    "CostReport",
    "Exclusion",
    "LineItem",
    "Price",
    "PriceTable",
    "StackResource",
    "UnknownItem",
    "budget_verdict",
    "component_of",
    "cost_json",
    "default_table",
    "is_unknown",
    "plain",
    "price_resources",
]
