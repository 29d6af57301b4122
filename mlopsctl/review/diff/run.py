"""The two previews of a diff: the base ref's own code in a temporary worktree (a subprocess), the working tree here.

The base preview runs in its own process group, with the policy pack it starts: stopping the diff
(an error, Ctrl-C or SIGTERM, see mlopsctl/interrupts.py) stops that whole group and removes the
worktree, so neither a pack process nor a worktree is left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from components.config import ConfigError
from mlopsctl import ROOT
from mlopsctl.interrupts import deferred
from mlopsctl.offline.policycheck.config import PolicyPackError
from mlopsctl.offline.preview import preview_stack
from mlopsctl.offline.stackfile import StackFileError, available_stacks
from mlopsctl.review.diff.compare import Side, StackDiff, compare

PREVIEW_TIMEOUT_S = 900
# How long the base preview gets to stop its policy pack after SIGTERM before its group is killed.
STOP_TIMEOUT_S = 10


class DiffError(Exception):
    """Bad input (unknown ref or stack, not a git repository, a preview that failed). One line."""


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise DiffError("git is not installed") from None
    if check and result.returncode != 0:
        message = (result.stderr.strip().splitlines() or [f"git {' '.join(args)} failed"])[-1]
        raise DiffError(message)
    return result


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # The child must import the package in its own cwd (the base worktree), not ours.
    for name in ("PYTHONPATH", "PYTHONSAFEPATH", "PYTHONHOME"):
        env.pop(name, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _start_preview(project_dir: Path, stack: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mlopsctl", "preview", "--stack", stack, "--format", "json"],
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
        process_group=0,  # its own group: a terminal's Ctrl-C reaches only us, and we stop the group
    )


def _stop_preview(proc: subprocess.Popen) -> None:
    """Stop the base preview's process group (the preview and its policy pack): SIGTERM, then SIGKILL."""
    with deferred():
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)  # the preview's own handler then closes its pack
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)  # the preview is not reaped yet, so its group id is still its own
        proc.communicate()


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


def _finish_preview(proc: subprocess.Popen, where: str) -> dict[str, Any]:
    try:
        stdout, stderr = proc.communicate(timeout=PREVIEW_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _stop_preview(proc)
        raise DiffError(f"{where}: preview did not finish within {PREVIEW_TIMEOUT_S} s") from None
    if proc.returncode in (0, 1):  # 1: the preview ran and found mandatory violations
        try:
            return json.loads(stdout)
        except json.JSONDecodeError:
            pass
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    reason = lines[-1].removeprefix("error: ") if lines else f"exit code {proc.returncode}"
    raise DiffError(f"{where}: preview failed: {reason}")


def run_diff(stack: str, base_ref: str, head_label: str = "working tree") -> StackDiff:
    """Preview ``stack`` at ``base_ref`` and at this checkout's working tree and compare them.

    ``head_label`` names the head in the output: CI passes the pull request's head commit.
    """
    repo_dir = ROOT
    probe = _git(repo_dir, "rev-parse", "--show-toplevel", check=False)
    if probe.returncode != 0:
        raise DiffError(f"{repo_dir} is not inside a git repository")
    toplevel = Path(probe.stdout.strip()).resolve()
    prefix = repo_dir.relative_to(toplevel)
    stacks = available_stacks(repo_dir / "stacks")
    if stack not in stacks:
        raise DiffError(f"stacks/Pulumi.{stack}.yaml: no such stack {stack!r}; available stacks: {', '.join(stacks) or 'none'}")
    resolved = _git(repo_dir, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}", check=False)
    if resolved.returncode != 0:
        raise DiffError(f"unknown git ref {base_ref!r}")
    commit = resolved.stdout.strip()
    stack_path = (prefix / "stacks" / f"Pulumi.{stack}.yaml").as_posix()
    base_stack = _git(repo_dir, "show", f"{commit}:{stack_path}", check=False)
    base_label = f"{base_ref} ({commit[:7]})"
    head_text = (repo_dir / "stacks" / f"Pulumi.{stack}.yaml").read_text()

    if base_stack.returncode != 0:  # a stack new in this change: everything is a create
        base = Side(base_label, {"stack": stack, "resources": [], "policy": {"evaluated": True, "violations": []},
                                 "cost": {"evaluated": True, "monthly": {"idle": 0, "expected": 0, "ceiling": 0}}},
                    None, exists=False)
        head_preview, environment = _preview_here(stack)
        head = Side(head_label, head_preview, head_text)
    else:
        with _base_worktree(toplevel, commit) as worktree:
            base_proc = _start_preview(worktree / prefix, stack)  # the base's own code, in parallel with ...
            try:
                head_preview, environment = _preview_here(stack)  # ... the head, in this process
                head = Side(head_label, head_preview, head_text)
                base = Side(base_label, _finish_preview(base_proc, base_label), base_stack.stdout)
            finally:
                if base_proc.returncode is None:
                    _stop_preview(base_proc)
    return compare(stack, base, head, environment=environment)


def _preview_here(stack: str) -> tuple[dict[str, Any], str]:
    """The working tree's preview (the same document the base's CLI prints) and its environment."""
    try:
        result = preview_stack(stack, policy=True)
    except (ConfigError, StackFileError, PolicyPackError) as exc:
        raise DiffError(f"working tree: preview failed: {exc}") from None
    # Through JSON, so both sides compare as the same plain types.
    return json.loads(json.dumps(result.to_json())), result.config.environment


@contextlib.contextmanager
def _base_worktree(toplevel: Path, commit: str) -> Iterator[Path]:
    """A temporary detached worktree of ``commit``, removed afterwards, also on failure."""
    scratch = Path(tempfile.mkdtemp(prefix="mlopsctl-diff-"))
    worktree = scratch / "base"
    try:
        _git(toplevel, "worktree", "add", "--detach", "--quiet", str(worktree), commit)
        yield worktree
    finally:
        with deferred():
            removed = _git(toplevel, "worktree", "remove", "--force", str(worktree), check=False).returncode == 0
            shutil.rmtree(scratch, ignore_errors=True)
            if not removed:  # e.g. `worktree add` failed half-way: drop its administrative entry
                _git(toplevel, "worktree", "prune", check=False)
