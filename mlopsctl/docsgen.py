"""Blocks of README.md and docs/*.md that are generated from the code, never typed by hand.

``python -m mlopsctl.docsgen`` rewrites every block; ``tests/test_docs_sync.py`` fails when a
block differs from what the code renders now. A block sits between
``<!-- generated:<name> start ... -->`` and ``<!-- generated:<name> end -->``.

Cost figures are priced on the price table's own as-of date, not on the day the generator runs,
so they change only when prices or stacks do (the preview itself prices on the platform clock).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from pathlib import Path

from mlopsctl.stackfile import ROOT

STACKS = ("dev", "staging", "prod")
README, COST_DOC = ROOT / "README.md", ROOT / "docs" / "cost.md"


def _markers(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- generated:{re.escape(name)} start[^\n]*-->\n)(.*?)(<!-- generated:{re.escape(name)} end -->)", re.S)


def extract(text: str, name: str) -> str | None:
    match = _markers(name).search(text)
    return None if match is None else match.group(2)


def replace(text: str, name: str, content: str) -> str:
    pattern = _markers(name)
    if not pattern.search(text):
        raise ValueError(f"no generated:{name} block")
    return pattern.sub(lambda m: m.group(1) + content + m.group(3), text, count=1)


# ---------------------------------------------------------------------------------------------
# Cost


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def stack_reports(previews: dict | None = None) -> dict[str, tuple]:
    """stack -> (CostReport priced on the price table's as-of date, budget, enforcement level)."""
    from mlopsctl.cost import budget_config, price_recording
    from mlopsctl.preview import preview_stack
    from policies.pricing import default_table

    priced_on = _dt.date.fromisoformat(default_table().as_of)
    out = {}
    for stack in STACKS:
        result = (previews or {}).get(stack) or preview_stack(stack)
        report = price_recording(result.recording, default_region=result.config.region, on_date=priced_on)
        budget, level = budget_config(result.config.environment)
        out[stack] = (report, budget, level)
    return out


def cost_summary_table(reports: dict[str, tuple]) -> str:
    rows = ["| Stack | idle (every minimum) | expected (desired sizes) | ceiling (every maximum) | Budget |", "|---|---:|---:|---:|---:|"]
    for stack, (report, budget, level) in reports.items():
        budget_text = "none" if budget is None else f"${budget:,.0f} ({level})"
        rows.append(f"| {stack} | " + " | ".join(_money(report.total(s)) for s in ("idle", "expected", "ceiling")) + f" | {budget_text} |")
    as_of = next(iter(reports.values()))[0].as_of
    return "\n".join(rows) + f"\n\nPriced on {as_of}, the price table's as-of date (`python -m mlopsctl.docsgen` regenerates this table).\n"


def cost_component_table(reports: dict[str, tuple]) -> str:
    components = sorted({c for report, _, _ in reports.values() for c in report.by_component()})
    rows = ["| Stack | " + " | ".join(f"`{c}`" for c in components) + " |", "|---|" + "---|" * len(components)]
    for stack, (report, _, _) in reports.items():
        sums = report.by_component()
        cells = []
        for component in components:
            figures = sums.get(component)
            cells.append("—" if figures is None else " / ".join(_money(figures[s]) for s in ("idle", "expected", "ceiling")))
        rows.append(f"| {stack} | " + " | ".join(cells) + " |")
    lines = ["By component (idle / expected / ceiling):", "", *rows, "", "Largest items at the ceiling:", ""]
    for stack, (report, _, _) in reports.items():
        largest = sorted((i for i in report.line_items if i.monthly("ceiling")), key=lambda i: (-(i.monthly("ceiling") or 0.0), i.item))[:3]
        lines.append(f"- {stack}: " + "; ".join(f"{i.item} {_money(i.monthly('ceiling'))}" for i in largest))
    unknown = {stack: len(report.unknown_items) for stack, (report, _, _) in reports.items() if report.unknown_items}
    lines += ["", "Unpriced items: " + (", ".join(f"{s} {n}" for s, n in unknown.items()) if unknown else "none in any stack.")]
    return "\n".join(lines) + "\n"


def price_table(_: dict | None = None) -> str:
    from mlopsctl.cost import price_table_markdown

    return price_table_markdown()


# name -> (files holding the block, renderer taking the stack reports)
BLOCKS: dict[str, tuple[tuple[Path, ...], Callable[[dict], str]]] = {
    "cost-summary": ((README, COST_DOC), cost_summary_table),
    "cost-components": ((COST_DOC,), cost_component_table),
    "price-table": ((COST_DOC,), price_table),
}


def render_all(previews: dict | None = None) -> dict[str, str]:
    reports = stack_reports(previews)
    return {name: render(reports) for name, (_, render) in BLOCKS.items()}


def main() -> None:
    rendered = render_all()
    for name, (files, _) in BLOCKS.items():
        for path in files:
            path.write_text(replace(path.read_text(), name, rendered[name]))
            print(f"wrote generated:{name} in {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
