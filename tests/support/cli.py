"""``mlopsctl`` as a user runs it (a subprocess of this checkout) and in this process."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from functools import cache

from tests.support.stacks import ROOT


def mlopsctl(*args: str, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python -m mlopsctl <args>`` in the project root; ``env`` is added to this environment."""
    return subprocess.run([sys.executable, "-m", "mlopsctl", *args], cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def run_in_process(*args: str) -> tuple[int, str]:
    """``mlopsctl.cli.main(args)`` here: its exit code and what it printed."""
    from mlopsctl import cli

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = cli.main(list(args))
    return code, stdout.getvalue()


@cache
def cached_in_process(*args: str) -> tuple[int, str]:
    """:func:`run_in_process`, once per worker for the same arguments (read-only callers only)."""
    return run_in_process(*args)
