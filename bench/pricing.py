"""Benchmark: time to price each stack (on top of its offline preview), and the figures themselves.

Prints, per stack, the pricing time beside the preview time it rides on, then the Markdown rows
of docs/cost.md's "Per-stack monthly cost" table, so the docs can be refreshed by pasting:

    .venv/bin/python bench/pricing.py [--repeat N] [--stacks dev,staging,prod]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlopsctl.offline.cost_report import budget_config, cost_section  # noqa: E402
from mlopsctl.offline.preview import load_config, run_stack  # noqa: E402
from mlopsctl.offline.stackfile import load_stack_file  # noqa: E402


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stacks", default="dev,staging,prod")
    args = parser.parse_args()
    rows = []
    print(f"{'stack':<10}{'resources':>10}{'preview s':>12}{'pricing ms':>12}")
    for stack in args.stacks.split(","):
        stack_file = load_stack_file(stack)
        config = load_config(stack_file)
        started = time.perf_counter()
        recording = run_stack(stack_file)
        preview_seconds = time.perf_counter() - started
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            cost = cost_section(recording, stack, default_region=config.region)
            timings.append((time.perf_counter() - started) * 1000)
        print(f"{stack:<10}{len(recording.resources):>10}{preview_seconds:>12.2f}{statistics.median(timings):>12.1f}")
        budget = budget_config(stack)[0]
        monthly = cost["monthly"]
        rows.append(
            f"| {stack} | {_money(monthly['idle'])} | {_money(monthly['expected'])} | {_money(monthly['ceiling'])} | "
            + ("-" if budget is None else f"${budget:,.0f}")
            + " |"
        )
    print(f"\nPrices as of {cost['asOf']}, priced on {cost['pricedOn']}:\n")
    print("| Stack | idle | expected | ceiling | Budget |\n|---|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
