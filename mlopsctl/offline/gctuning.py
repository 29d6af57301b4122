"""Garbage-collector settings for one-shot ``python -m mlopsctl`` commands.

About half of an offline preview's time was the cyclic collector repeatedly scanning objects that
live until the process ends: the SDK's modules and classes while they import, the registered
resources, and everything once more at interpreter shutdown. A one-shot command does not need that:

- :func:`start` (before the first import of the command): the collector is off while modules load;
  imports make next to no cyclic garbage.
- :func:`checkpoint` (at the start of each program run, from :mod:`mlopsctl.offline.harness`): what is
  loaded so far is frozen (moved out of the collector's generations, so never scanned again) and
  the collector is back on with a higher first-generation threshold. Cyclic garbage made by the
  run (futures, tracebacks) is still collected, so memory stays bounded by what is live plus at
  most about ``THRESHOLD[0]`` uncollected container allocations; only garbage already made before
  a checkpoint is kept, which is one layer's at most.
- :func:`exit` (after the command): flushes stdout and stderr, runs the atexit handlers and ends the
  process with ``os._exit``, skipping the teardown that would deallocate every object and scan
  them all once more. Exit codes are those :func:`mlopsctl.cli.main` returns.

``MLOPS_NO_GC_TUNING=1`` leaves the collector and interpreter shutdown as Python has them (to
compare, or to rule the tuning out). Test processes never call :func:`start`, so
:func:`checkpoint` does nothing there.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys

DISABLE_ENV = "MLOPS_NO_GC_TUNING"
# Python's default is (700, 10, 10): a collection every 700 net container allocations.
THRESHOLD = (10_000, 10, 10)

_active = False


def start() -> bool:
    """Switch the collector off for the imports of a one-shot command (unless ``MLOPS_NO_GC_TUNING``)."""
    global _active
    if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return False
    gc.disable()
    _active = True
    return True


def checkpoint() -> None:
    """Freeze what is loaded and collect only what is made from here on, at a higher threshold."""
    if not _active:
        return
    gc.freeze()
    gc.set_threshold(*THRESHOLD)
    gc.enable()


def exit(code: int) -> None:  # noqa: A001 - mirrors sys.exit
    """End the process with ``code``: quickly (no teardown) when tuning is active, else ``sys.exit``."""
    if not _active:
        sys.exit(code)
    atexit._run_exitfuncs()  # e.g. weakref.finalize callbacks, logging.shutdown
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = 120  # what Python's own shutdown exits with when it cannot flush them
    os._exit(code)
