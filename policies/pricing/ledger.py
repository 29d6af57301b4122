"""One pricing run: the stack's resources, the price table and date, and what the rules record.

Every price rule (``rules.py``, ``sagemaker.py``) writes through these helpers, so a missing price or an unknown
input is always recorded the same way (an unknown item, never a silent zero).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from .inputs import StackResource, component_of
from .report import SCENARIOS, CostReport, Exclusion, LineItem, UnknownItem
from .table import Price, PriceTable


class Ledger:
    def __init__(self, resources: Sequence[StackResource], table: PriceTable, on_date: _dt.date):
        self.resources = resources
        self.table = table
        self.on_date = on_date
        self.by_urn = {r.urn: r for r in resources}
        self.line_items: list[LineItem] = []
        self.unknown_items: list[UnknownItem] = []
        self.excluded: list[Exclusion] = []

    def price(self, resource: StackResource, key: str) -> Price | None:
        return self.table.price(resource.effective_region, key)

    def unknown(self, resource: StackResource, item: str, reason: str, scenarios: tuple[str, ...] = SCENARIOS) -> None:
        self.unknown_items.append(UnknownItem(resource.urn, resource.type, component_of(resource.urn), item, reason, scenarios))

    def exclude(self, resource: StackResource, item: str, reason: str) -> None:
        self.excluded.append(Exclusion(resource.urn, resource.type, component_of(resource.urn), item, reason))

    def missing_price(self, resource: StackResource, key: str) -> str:
        return f"no price for '{key}' in region {resource.effective_region or '(unknown region)'} in the price table"

    def price_or_unknown(self, resource: StackResource, key: str, item: str, scenarios: tuple[str, ...] = SCENARIOS) -> Price | None:
        """The price of ``key`` in the resource's region; when the table has none, ``item`` is recorded as unknown."""
        price = self.price(resource, key)
        if price is None:
            self.unknown(resource, item, self.missing_price(resource, key), scenarios)
        return price

    def usage(self, resource: StackResource, key: str, item: str, *, unit: str, quantities: dict[str, float], note: str = "") -> None:
        """A per-use charge (requests, invocations): ``quantities`` per scenario at the price of ``key``, or unknown."""
        price = self.price_or_unknown(resource, key, item)
        if price is None:
            return
        self.line_items.append(
            LineItem(
                urn=resource.urn, type=resource.type, component=component_of(resource.urn), item=item, unit=unit, hours=None,
                quantities=quantities, unit_prices={s: price.usd for s in quantities}, source=price.cite(), note=note,
            )
        )

    def flat(self, resource: StackResource, item: str, price: Price, quantity: float, *, hourly: bool, unit: str, note: str = "") -> None:
        self.line_items.append(
            LineItem(
                urn=resource.urn,
                type=resource.type,
                component=component_of(resource.urn),
                item=item,
                unit=unit,
                hours=self.table.hours_per_month if hourly else None,
                quantities={s: quantity for s in SCENARIOS},
                unit_prices={s: price.usd for s in SCENARIOS},
                source=price.cite(),
                note=note,
            )
        )


    def report(self) -> CostReport:
        return CostReport(
            currency=self.table.currency,
            as_of=self.table.as_of,
            priced_on=self.on_date.isoformat(),
            hours_per_month=self.table.hours_per_month,
            line_items=self.line_items,
            unknown_items=self.unknown_items,
            excluded=self.excluded,
        )
