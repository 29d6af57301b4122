"""Benchmark: wall time and peak RSS of the offline preview per stack, beside the import floor.

The floor is a bare Python process loading the same pulumi / pulumi_aws / pulumi_kubernetes
resource classes the stack's program registers. The gap between the two is this project's overhead.

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


def measure(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stacks", default="dev,staging,prod")
    args = parser.parse_args()
    print(f"{'stack':8} {'floor s':>8} {'program s':>10} {'overhead':>9} {'full s':>7} {'floor MiB':>10} {'program MiB':>12} {'full MiB':>9}")
    for stack in args.stacks.split(","):
        code = floor_code(stack)
        preview = [sys.executable, "-m", "mlopsctl", "preview", "--stack", stack, "--format", "json"]
        floors = [measure([sys.executable, "-c", code]) for _ in range(args.repeat)]
        programs = [measure([*preview, "--no-policy"]) for _ in range(args.repeat)]
        fulls = [measure(preview) for _ in range(args.repeat)]
        f_wall, p_wall, a_wall = (statistics.median(w for w, _ in runs) for runs in (floors, programs, fulls))
        f_rss, p_rss, a_rss = (max(r for _, r in runs) for runs in (floors, programs, fulls))
        overhead = (p_wall - f_wall) / f_wall * 100
        print(f"{stack:8} {f_wall:8.2f} {p_wall:10.2f} {overhead:8.0f}% {a_wall:7.2f} {f_rss:10.0f} {p_rss:12.0f} {a_rss:9.0f}")
    print(
        f"\n(median of {args.repeat} runs; peak RSS is the max)\n"
        "floor:   a bare interpreter loading the resource classes the stack registers\n"
        "program: the offline preview without the policy pack (the program under the mock runtime + pricing)\n"
        "full:    the default preview: program, policy pack over gRPC, pricing"
    )


if __name__ == "__main__":
    main()
