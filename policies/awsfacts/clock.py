"""The one clock of the platform: every date-dependent decision asks :func:`today`.

``MLOPS_TODAY`` (an ISO date, ``YYYY-MM-DD``) overrides the machine's date. It reaches the policy
pack the way the engine allows, through the environment the Pulumi CLI passes to its plugins, so
the program, ``mlopsctl``, the pack and the cost model decide on the same day. Tests pin it.
"""

from __future__ import annotations

import datetime as _dt
import os
import re

TODAY_ENV = "MLOPS_TODAY"


class ClockError(ValueError):
    """``MLOPS_TODAY`` is set to something that is not an ISO date (the message says what it holds)."""


def today() -> _dt.date:
    """``MLOPS_TODAY`` when set, else today's date in UTC."""
    pinned = os.environ.get(TODAY_ENV, "").strip()
    if not pinned:
        return _dt.datetime.now(_dt.UTC).date()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", pinned):
            raise ValueError(pinned)
        return _dt.date.fromisoformat(pinned)
    except ValueError:
        raise ClockError(f"{pinned!r} is not an ISO date (YYYY-MM-DD); unset it to use today's date") from None
