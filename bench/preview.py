"""Benchmark: the offline preview's wall time per stack, as paired ratios of runs interleaved A B A B.

Two comparisons per stack, each from the same rounds:

- full preview (program, policy pack, cost) of this checkout vs the same command at a base
  revision (``--base``; default: the last commit before the garbage-collector tuning,
  mlopsctl/offline/gctuning.py, landed), run from a temporary ``git worktree`` of that revision
  with its own code on the path, as ``mlopsctl diff`` runs its base side;
- program only (``--no-policy``) vs its floor: a bare interpreter loading the same pulumi /
  pulumi_aws / pulumi_kubernetes resource classes the stack registers. The gap is this project's
  own overhead.

Each round runs floor, program, full and base once (the order is the same in every round), so a
change in the machine's load hits all four alike; a ratio is the median of the per-round ratios,
shown with their range. Peak RSS is the maximum over the rounds.

    .venv/bin/python bench/preview.py [--repeat N] [--stacks dev,staging,prod] [--base REV]

Prints figures; asserts nothing (timings on shared machines are not test material).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GC_TUNING = "mlopsctl/gctuning.py"  # the path it landed at; git log follows history, not the tree


def git(*args: str) -> str:
    result = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def default_base() -> str:
    """The parent of the commit that added the gc tuning (needs the history: not a shallow clone)."""
    added = git("log", "--diff-filter=A", "--format=%H", "--", GC_TUNING).splitlines()
    if not added:
        raise SystemExit(f"no commit adds {GC_TUNING} in this history (a shallow clone?); pass --base REV")
    return git("rev-parse", f"{added[-1]}^")


@contextlib.contextmanager
def base_worktree(commit: str) -> Iterator[Path]:
    scratch = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    worktree = scratch / "base"
    try:
        git("worktree", "add", "--detach", "--quiet", str(worktree), commit)
        yield worktree
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], capture_output=True, check=False)
        shutil.rmtree(scratch, ignore_errors=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], capture_output=True, check=False)


def base_env() -> dict[str, str]:
    """The base's own code first on the path (its cwd), none of ours."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONSAFEPATH", "PYTHONHOME"):
        env.pop(name, None)
    return env


def measure(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, rusage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} (in {cwd}) failed")
    return wall, rusage.ru_maxrss / 1024


def floor_code(preview_json: str) -> str:
    """Python that loads exactly the resource classes a preview registered.

    pulumi_aws and pulumi_kubernetes load submodules lazily, on first attribute access, so the
    floor touches each class instead of only importing its module.
    """
    lines = ["import importlib", "import pulumi", "import pulumi.runtime.mocks"]
    seen: set[tuple[str, str]] = set()
    for res in json.loads(preview_json)["resources"]:
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


def paired(runs: dict[str, list[tuple[float, float]]], a: str, b: str) -> str:
    """Median and range over rounds of a's wall time over b's in the same round."""
    ratios = [x[0] / y[0] for x, y in zip(runs[a], runs[b], strict=True)]
    return f"{statistics.median(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="rounds per stack (after one untimed warm-up round)")
    parser.add_argument("--stacks", default="dev,staging,prod")
    parser.add_argument("--base", help="git revision to compare the full preview with (default: the commit before the gc tuning)")
    args = parser.parse_args()
    commit = git("rev-parse", "--verify", f"{args.base or default_base()}^{{commit}}")
    label = git("log", "-1", "--format=%h (%cs)", commit) + ("" if args.base else ", the commit before the gc tuning")
    header = (f"{'stack':8} {'floor s':>8} {'program s':>10} {'program/floor':>20} {'full s':>7} {'base s':>7} {'full/base':>20}"
              f"  {'MiB floor/program/full/base':>28}")
    print(header, flush=True)
    with base_worktree(commit) as worktree:
        for stack in args.stacks.split(","):
            preview = [sys.executable, "-m", "mlopsctl", "preview", "--stack", stack, "--format", "json"]
            listed = subprocess.run([*preview, "--no-policy"], cwd=ROOT, capture_output=True, text=True, check=False)
            variants = {
                "floor": ([sys.executable, "-c", floor_code(listed.stdout)], ROOT, None),
                "program": ([*preview, "--no-policy"], ROOT, None),
                "full": (preview, ROOT, None),
                "base": (preview, worktree, base_env()),
            }
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
            for round_ in range(args.repeat + 1):  # round 0 warms the page cache and the base's bytecode
                for name, (argv, cwd, env) in variants.items():
                    figures = measure(argv, cwd, env)
                    if round_:
                        runs[name].append(figures)
            wall = {name: statistics.median(w for w, _ in r) for name, r in runs.items()}
            mib = "/".join(f"{max(m for _, m in runs[n]):.0f}" for n in variants)
            print(f"{stack:8} {wall['floor']:8.2f} {wall['program']:10.2f} {paired(runs, 'program', 'floor'):>20} {wall['full']:7.2f}"
                  f" {wall['base']:7.2f} {paired(runs, 'full', 'base'):>20}  {mib:>28}", flush=True)
    load = os.getloadavg()
    print(
        f"\n(medians of {args.repeat} interleaved rounds after a warm-up; ratio: median [min-max] of the per-round ratios;"
        f" peak RSS: the max)\n"
        f"floor:   a bare interpreter loading the resource classes the stack registers\n"
        f"program: the offline preview without the policy pack (program under the mock runtime + pricing)\n"
        f"full:    the default preview: program, policy pack over gRPC, pricing\n"
        f"base:    the default preview at {label}\n"
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)"
    )


if __name__ == "__main__":
    main()
