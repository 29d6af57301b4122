"""The EKS Kubernetes version lifecycle (``eks_versions.json``): one reader, one meaning of "supported".

A minor is *supported* on a day when EKS has released it and its extended support has not ended:
``released <= day < endOfExtendedSupport``. It is in *standard* support while
``day < endOfStandardSupport`` and in *extended* support from that day on. Each end date is the
first day without that support, which is when EKS bills the extended rate (or, under the
``STANDARD`` upgrade policy, force-upgrades the control plane).
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from . import clock

VERSIONS_FILE = Path(__file__).with_name("eks_versions.json")

STANDARD, EXTENDED, UNRELEASED, ENDED = "standard", "extended", "unreleased", "ended"


@dataclass(frozen=True)
class EksVersion:
    minor: str
    released: _dt.date
    end_of_standard_support: _dt.date
    end_of_extended_support: _dt.date

    def phase(self, day: _dt.date) -> str:
        if day < self.released:
            return UNRELEASED
        if day < self.end_of_standard_support:
            return STANDARD
        if day < self.end_of_extended_support:
            return EXTENDED
        return ENDED

    def supported(self, day: _dt.date) -> bool:
        return self.phase(day) in (STANDARD, EXTENDED)


@cache
def document() -> dict:
    return json.loads(VERSIONS_FILE.read_text(encoding="utf-8"))


@cache
def versions() -> dict[str, EksVersion]:
    return {
        minor: EksVersion(
            minor=minor,
            released=_dt.date.fromisoformat(dates["released"]),
            end_of_standard_support=_dt.date.fromisoformat(dates["endOfStandardSupport"]),
            end_of_extended_support=_dt.date.fromisoformat(dates["endOfExtendedSupport"]),
        )
        for minor, dates in document()["versions"].items()
    }


def minor_key(minor: str) -> tuple[int, ...]:
    """'1.35' -> (1, 35), for ordering and for counting minors between two versions."""
    return tuple(int(part) for part in minor.split("."))


def lookup(minor: str) -> EksVersion | None:
    return versions().get(minor)


def supported(day: _dt.date | None = None) -> list[str]:
    """Minors in standard or extended support on ``day`` (default: the platform clock), oldest first."""
    day = day or clock.today()
    return sorted((v.minor for v in versions().values() if v.supported(day)), key=minor_key)


def phase(minor: str, day: _dt.date | None = None) -> str | None:
    """standard / extended / unreleased / ended on ``day``; None for a minor the file does not know."""
    version = lookup(minor)
    return None if version is None else version.phase(day or clock.today())
