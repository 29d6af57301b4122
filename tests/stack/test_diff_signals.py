"""Ctrl-C or SIGTERM during ``mlopsctl diff`` leaves no policy-pack process and no git worktree behind.

The real CLI runs as a subprocess on a throwaway copy of this project (its own session, so its
process group is ours to signal). The copy's program holds each preview, once its policy pack is
running, by opening a FIFO that no one ever writes (it blocks until a signal interrupts it), after
leaving a marker file. The test waits, polling the markers, ``git worktree list`` and /proc in a
loop bounded by a deadline (waiting on the diff's own process between polls, never a sleep), until
both previews are held, the base worktree exists and both policy packs run: the head's, a child of
the diff, and the base's, a grandchild in the base preview's own process group. Then it signals:

- SIGINT to the diff's whole process group, as a terminal's Ctrl-C does (the head's pack gets it
  too; the base preview's group does not, so the diff must stop that group itself);
- SIGTERM to the diff alone, as ``kill`` or a CI runner does (nothing else is signalled).

Afterwards no process refers to the copy (by command line or working directory), the worktree is
gone from ``git worktree list`` and from disk, and the exit code is 130 or 143 with one line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.gitrepo import copy_project, git, init_repo

pytestmark = pytest.mark.xdist_group("diff-signals")  # one module fixture: the copy is made once

DEADLINE_S = 180.0  # two previews start on a loaded 2-core machine
PACK = "policies/__main__.py"
HOLD = "MLOPS_TEST_HOLD_DIR"

# In both the base commit and the working tree: the previews hold where the program starts, after
# preview_stack has launched the policy pack.
PROGRAM_HOLD = f'''

# --- signal test fixture: hold the preview, its policy pack running, until a signal ---
_build_unheld = build


def build(config):
    import os
    from pathlib import Path

    hold = os.environ.get("{HOLD}")
    if hold:
        Path(hold, f"held-{{os.getpid()}}").touch()
        with open(Path(hold, "fifo")):  # blocks: no one opens it for writing
            pass
    return _build_unheld(config)
'''


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("diff-signals") / "repo"
    copy_project(repo)
    program = repo / "components" / "program.py"
    program.write_text(program.read_text() + PROGRAM_HOLD)
    init_repo(repo, "base")
    return repo


def _processes_under(root: Path) -> dict[int, str]:
    """Live processes whose command line or working directory is under ``root``: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            cwd = os.readlink(entry / "cwd")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if cmdline and (str(root) in cmdline or cwd == str(root) or cwd.startswith(f"{root}/")):
            found[int(entry.name)] = cmdline
    return found


def _worktrees(repo: Path) -> list[str]:
    return [line.removeprefix("worktree ") for line in git(repo, "worktree", "list", "--porcelain").splitlines()
            if line.startswith("worktree ")]


def _wait_until_both_packs_run(proc: subprocess.Popen, repo: Path, scratch: Path, root: Path, hold: Path) -> dict[int, str]:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        running = _processes_under(root)
        head_pack = [c for c in running.values() if f"{repo}/{PACK}" in c]
        base_pack = [c for c in running.values() if str(scratch) in c and c.endswith(PACK)]
        held = list(hold.glob("held-*"))
        if len(held) == 2 and head_pack and base_pack and len(_worktrees(repo)) == 2:
            assert f"held-{proc.pid}" in {h.name for h in held}  # the head, in the diff itself; the other is the base preview
            return running
        try:
            proc.wait(timeout=0.05)  # waits on the diff; returns only if it ended early
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"the diff ended before both packs ran: exit {proc.returncode}, {proc.stderr.read()}")
    raise AssertionError(f"both packs and the base worktree did not appear within {DEADLINE_S:.0f}s: {_processes_under(root)}")


@pytest.mark.parametrize(("signum", "whole_group"), [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "sigterm"])
def test_a_signal_during_diff_leaves_no_pack_and_no_worktree(repo, tmp_path, tmp_path_factory, signum, whole_group):
    root = tmp_path_factory.getbasetemp()  # holds the copy and this test's TMPDIR
    scratch, hold = tmp_path / "tmp", tmp_path / "hold"  # the diff's TMPDIR (its worktree goes there); the previews' markers
    scratch.mkdir()
    hold.mkdir()
    os.mkfifo(hold / "fifo")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    proc = subprocess.Popen([sys.executable, "-m", "mlopsctl", "diff", "--stack", "dev", "--base", "HEAD"], cwd=repo,
                            env={**env, "TMPDIR": str(scratch), HOLD: str(hold)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        running = _wait_until_both_packs_run(proc, repo, scratch, root, hold)
        assert any(c.startswith(sys.executable) and "mlopsctl preview" in c for c in running.values())  # the base preview
        if whole_group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert (proc.returncode, out) == (128 + signum, "")
    assert err == f"error: interrupted by {signal.Signals(signum).name}; stopped after cleaning up\n"
    assert _processes_under(root) == {}
    assert _worktrees(repo) == [str(repo)]
    assert list(scratch.iterdir()) == []
