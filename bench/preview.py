"""Benchmark: wall time and peak RSS of the offline preview per stack, beside the import floor.

The floor is a bare Python process loading the same pulumi / pulumi_aws / pulumi_kubernetes
resource classes the stack's program registers. The gap between the two is this project's overhead.
"untuned" is the default preview with ``MLOPS_NO_GC_TUNING=1`` (Python's collector settings and
interpreter shutdown, as before mlopsctl/offline/gctuning.py).

Runs are interleaved (floor, program, full, untuned, floor, ...) so that a change in the machine's
load hits every variant alike; ratios are medians of the per-round ratios (paired).

    .venv/bin/python bench/preview.py [--repeat N] [--stacks dev,staging,prod]

Prints figures; asserts nothing (timings on shared machines are not test material).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, rusage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed")
    return wall, rusage.ru_maxrss / 1024


def floor_code(stack: str) -> str:
    """Python that loads exactly the resource classes the stack's program registers.

    pulumi_aws and pulumi_kubernetes load submodules lazily, on first attribute access, so the
    floor touches each class instead of only importing its module.
    """
    out = subprocess.run(
        [sys.executable, "-m", "mlopsctl", "preview", "--stack", stack, "--format", "json", "--no-policy"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    document = json.loads(out.stdout)
    lines = ["import importlib", "import pulumi", "import pulumi.runtime.mocks"]
    seen: set[tuple[str, str]] = set()
    for res in document["resources"]:
        package, module_path, class_name = res["type"].split(":")
        if package == "aws":
            module = "pulumi_aws" if module_path.split("/")[0] == "index" else f"pulumi_aws.{module_path.split('/')[0]}"
        elif package == "kubernetes":
            group, version = module_path.split("/")
            group = {"core": "core", "helm.sh": "helm"}.get(group, group.split(".")[0])
            module = f"pulumi_kubernetes.{group}.{version}"
        elif package == "pulumi" and module_path == "providers":
            module, class_name = f"pulumi_{class_name}", "Provider"
        else:
            continue
        if (module, class_name) not in seen:
            seen.add((module, class_name))
            lines.append(f"getattr(importlib.import_module({module!r}), {class_name!r})")
    return "\n".join(lines)


def paired(runs: dict[str, list[tuple[float, float]]], a: str, b: str) -> float:
    """Median over rounds of a's wall time over b's in the same round."""
    return statistics.median(x[0] / y[0] for x, y in zip(runs[a], runs[b], strict=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stacks", default="dev,staging,prod")
    args = parser.parse_args()
    untuned_env = {**os.environ, "MLOPS_NO_GC_TUNING": "1"}
    print(f"{'stack':8} {'floor s':>8} {'program s':>10} {'prog/floor':>10} {'full s':>7} {'untuned s':>10} {'full/untuned':>12}"
          f" {'MiB floor/program/full/untuned':>31}")
    for stack in args.stacks.split(","):
        code = floor_code(stack)
        preview = [sys.executable, "-m", "mlopsctl", "preview", "--stack", stack, "--format", "json"]
        variants = {
            "floor": ([sys.executable, "-c", code], None),
            "program": ([*preview, "--no-policy"], None),
            "full": (preview, None),
            "untuned": (preview, untuned_env),
        }
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(args.repeat):  # interleaved: A B C D A B C D ...
            for name, (argv, env) in variants.items():
                runs[name].append(measure(argv, env))
        wall = {name: statistics.median(w for w, _ in r) for name, r in runs.items()}
        rss = {name: max(m for _, m in r) for name, r in runs.items()}

        mib = "/".join(f"{rss[n]:.0f}" for n in variants)
        print(f"{stack:8} {wall['floor']:8.2f} {wall['program']:10.2f} {paired(runs, 'program', 'floor'):9.2f}x {wall['full']:7.2f}"
              f" {wall['untuned']:10.2f} {paired(runs, 'full', 'untuned'):11.2f}x {mib:>31}")
    print(
        f"\n(median of {args.repeat} interleaved runs; ratios: median of per-round ratios; peak RSS is the max)\n"
        "floor:   a bare interpreter loading the resource classes the stack registers\n"
        "program: the offline preview without the policy pack (the program under the mock runtime + pricing)\n"
        "full:    the default preview: program, policy pack over gRPC, pricing\n"
        "untuned: full with MLOPS_NO_GC_TUNING=1 (Python's collector defaults and shutdown)"
    )


if __name__ == "__main__":
    main()
