"""What pricing produces: line items per scenario, the items it could not price, and the totals.

Three monthly figures (``hoursPerMonth`` from the table, 730):

- **idle**: every minimum size (node groups at ``minSize``, autoscaled endpoints at ``minCapacity``),
  serverless endpoints at zero traffic;
- **expected**: desired sizes (``desiredSize``, ``initialInstanceCount``); serverless still without
  traffic, because invocations are usage that this model does not guess;
- **ceiling**: every maximum (``maxSize``, autoscaling ``maxCapacity``, serverless busy at
  ``maxConcurrency`` around the clock, KMS keys after their second rotation).

A price the table lacks, or an input that is unknown at preview time, makes the affected scenario's
total ``None`` and is listed in ``unknown_items``: never a silent zero. Traffic-dependent charges
(NAT and endpoint data processing, log ingestion, storage GB, data transfer) are listed in
``excluded``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCENARIOS = ("idle", "expected", "ceiling")


@dataclass
class LineItem:
    urn: str
    type: str
    component: str
    item: str
    unit: str
    hours: float | None  # None: a flat monthly price
    quantities: dict[str, float]
    unit_prices: dict[str, float | None]
    source: str
    note: str = ""

    def monthly(self, scenario: str) -> float | None:
        quantity = self.quantities[scenario]
        if quantity == 0:
            return 0.0  # nothing runs, whatever it would cost
        price = self.unit_prices[scenario]
        if price is None:
            return None
        return quantity * price * (self.hours if self.hours is not None else 1.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "component": self.component,
            "item": self.item,
            "quantity": self.quantities["expected"],
            "unitPrice": _round_price(self.unit_prices["expected"]),
            "unit": self.unit,
            "hours": self.hours,
            "monthly": {s: _round(self.monthly(s)) for s in SCENARIOS},
            "source": self.source,
            # Additive detail: the scenario-specific figures behind "quantity" and "unitPrice".
            "quantities": dict(self.quantities),
            "unitPrices": {s: _round_price(p) for s, p in self.unit_prices.items()},
            "note": self.note,
        }


@dataclass
class UnknownItem:
    urn: str
    type: str
    component: str
    item: str
    reason: str
    scenarios: tuple[str, ...] = SCENARIOS

    def to_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "component": self.component, "item": self.item, "reason": self.reason, "scenarios": list(self.scenarios)}


@dataclass
class Exclusion:
    urn: str
    type: str
    component: str
    item: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "component": self.component, "item": self.item, "reason": self.reason}


@dataclass
class CostReport:
    currency: str
    as_of: str
    priced_on: str
    hours_per_month: float
    line_items: list[LineItem]
    unknown_items: list[UnknownItem]
    excluded: list[Exclusion]

    def total(self, scenario: str) -> float | None:
        """Monthly total of one scenario; ``None`` when any item of it has no price."""
        if any(scenario in u.scenarios for u in self.unknown_items):
            return None
        values = [item.monthly(scenario) for item in self.line_items]
        if any(v is None for v in values):
            return None
        return sum(v for v in values if v is not None)

    def known_part(self, scenario: str) -> float:
        """Sum of the priced items only (a lower bound when the total is unknown)."""
        return sum(v for v in (item.monthly(scenario) for item in self.line_items) if v is not None)

    def totals(self) -> dict[str, float | None]:
        return {s: self.total(s) for s in SCENARIOS}

    def by_component(self) -> dict[str, dict[str, float | None]]:
        grouped: dict[str, dict[str, float | None]] = {}
        for item in self.line_items:
            sums = grouped.setdefault(item.component, {s: 0.0 for s in SCENARIOS})
            for s in SCENARIOS:
                value = item.monthly(s)
                current = sums[s]
                sums[s] = None if value is None or current is None else current + value
        return grouped

    def summary(self) -> str:
        parts = []
        for s in SCENARIOS:
            total = self.total(s)
            parts.append(f"{s} {_money(total)}" if total is not None else f"{s} unknown (priced part {_money(self.known_part(s))})")
        text = f"{', '.join(parts)} per month ({self.currency}, prices as of {self.as_of}, {len(self.line_items)} line items"
        if self.unknown_items:
            text += f", {len(self.unknown_items)} unknown"
        return text + "; traffic, storage and data processing excluded)"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _round_price(value: float | None) -> float | None:
    # Six significant digits, not decimals: per-request prices ($0.0000002 an invocation) would round to zero.
    return None if value is None else float(f"{value:.6g}")


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"

