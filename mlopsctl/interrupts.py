"""Ctrl-C and SIGTERM take one path: an exception that unwinds through every cleanup, then exit 130 or 143.

Python turns SIGINT into ``KeyboardInterrupt`` but lets SIGTERM kill the process outright, which
skipped the diff's cleanup (its temporary git worktree, the base preview's process group, the
policy pack). While a command runs (:func:`handled`), both signals raise :class:`Interrupted`, a
``KeyboardInterrupt``, so ``finally`` blocks and context managers run for either.

Two rules keep the cleanup whole: only the first signal raises (a second Ctrl-C, or CI's SIGTERM
after its SIGINT, does not cut the cleanup short, and every cleanup is bounded by timeouts), and a
signal that arrives inside :func:`deferred` is raised when that block ends, not in its middle.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The command was stopped by ``signum``; its exit code is the shell's 128 + signal number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


class _State:
    received: int | None = None  # the first signal, once it has been raised
    pending: int | None = None  # a signal that arrived inside deferred()
    deferring = 0


_state = _State()


def _handler(signum: int, _frame) -> None:
    if _state.received is not None:
        return  # already stopping: let the cleanup finish
    if _state.deferring:
        _state.pending = signum
        return
    _state.received = signum
    raise Interrupted(signum)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` inside this block (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _handler) for signum in SIGNALS}
    _state.received, _state.pending, _state.deferring = None, None, 0
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A cleanup step a signal must not interrupt: a signal that arrives inside is raised when it ends."""
    _state.deferring += 1
    try:
        yield
    finally:
        _state.deferring -= 1
        if not _state.deferring and _state.pending is not None and _state.received is None:
            _state.received, _state.pending = _state.pending, None
            raise Interrupted(_state.received)
