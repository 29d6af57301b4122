"""The price table (``prices.json``): on-demand list prices per region and item, with sources.

Pure standard library: this package ships inside the policy pack (``pulumi preview --policy-pack
policies`` uploads only that folder) and ``mlopsctl`` imports the same code from there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).with_name("prices.json")


@dataclass(frozen=True)
class Price:
    """One row of the table: ``usd`` per ``per`` (e.g. instance-hour), with where it came from."""

    key: str
    region: str
    usd: float
    per: str
    source: str
    as_of: str

    def cite(self) -> str:
        return f"{self.source} (as of {self.as_of})"


class PriceTable:
    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.as_of: str = data["asOf"]
        self.currency: str = data.get("currency", "USD")
        self.hours_per_month: float = float(data.get("hoursPerMonth", 730))
        self.sources: dict[str, str] = dict(data.get("sources", {}))

    @classmethod
    def from_file(cls, path: Path | str = PRICES_FILE) -> PriceTable:
        return cls(json.loads(Path(path).read_text()))

    def price(self, region: str | None, key: str) -> Price | None:
        """The row for ``key`` in ``region``, or ``None`` when the table has no such price."""
        if not region:
            return None
        row = self.data.get("regions", {}).get(region, {}).get(key)
        if row is None:
            return None
        return Price(key=key, region=region, usd=float(row["usd"]), per=row["per"], source=row["source"], as_of=row.get("asOf", self.as_of))

    def rows(self) -> list[Price]:
        """Every row, for documentation."""
        return [self.price(region, key) for region, items in self.data.get("regions", {}).items() for key in items]  # type: ignore[misc]


@cache
def default_table() -> PriceTable:
    return PriceTable.from_file()
