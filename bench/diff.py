"""Benchmark: `mlopsctl diff` of a stack against a base ref, beside a single offline preview.

The diff runs two previews at the same time (the base in a temporary worktree, as a subprocess; the
head in the diff's own process) plus `git worktree add/remove`; the target is under 2x one
preview's wall time. Both previews are CPU-bound, so the ratio depends on idle cores: about 1.2 on
an idle 2-core machine, towards 2 when other work keeps the cores busy.

    .venv/bin/python bench/diff.py [--stack prod] [--base HEAD~1] [--repeat 3]

Prints figures; asserts nothing (timings on shared machines are not test material).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv[1:])} failed: {result.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--base", default="HEAD~1")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    preview_argv = [sys.executable, "-m", "mlopsctl", "preview", "--stack", args.stack, "--format", "json"]
    diff_argv = [sys.executable, "-m", "mlopsctl", "diff", "--stack", args.stack, "--base", args.base, "--format", "markdown"]
    wall(preview_argv)  # warm the page cache so neither side pays for the first import
    previews = [wall(preview_argv) for _ in range(args.repeat)]
    diffs = [wall(diff_argv) for _ in range(args.repeat)]
    preview_s, diff_s = statistics.median(previews), statistics.median(diffs)
    print(f"{'stack':8} {'preview s':>10} {'diff s':>8} {'ratio':>6}  (target < 2.00)")
    print(f"{args.stack:8} {preview_s:10.2f} {diff_s:8.2f} {diff_s / preview_s:6.2f}")
    load = os.getloadavg()[0]
    print(f"\n(median of {args.repeat} runs; diff against {args.base}; {os.cpu_count()} CPUs, 1-minute load average {load:.1f})")


if __name__ == "__main__":
    main()
