"""The one clock (MLOPS_TODAY) and the one EKS lifecycle source, and that nothing else reads the date."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from components.config import ConfigError, parse_platform_config
from policies.awsfacts import clock, eks_versions
from tests.support.clock import TEST_TODAY
from tests.support.stacks import ROOT, stack_raw_config


def test_the_suite_pins_the_clock():
    assert clock.today() == dt.date.fromisoformat(TEST_TODAY)


def test_unset_clock_is_todays_utc_date(monkeypatch):
    monkeypatch.delenv(clock.TODAY_ENV)
    assert clock.today() == dt.datetime.now(dt.UTC).date()


@pytest.mark.parametrize("value", ["2026-13-01", "tomorrow", "20261201", "2026-12-1"])
def test_a_clock_that_is_not_an_iso_date_is_refused(monkeypatch, value):
    monkeypatch.setenv(clock.TODAY_ENV, value)
    with pytest.raises(clock.ClockError, match="is not an ISO date"):
        clock.today()


def test_bad_clock_is_one_config_line_naming_the_variable(monkeypatch):
    monkeypatch.setenv(clock.TODAY_ENV, "2026-02-30")
    with pytest.raises(ConfigError) as caught:
        parse_platform_config(stack_raw_config("dev"), "us-east-1", "stacks/Pulumi.dev.yaml")
    assert str(caught.value) == "environment: MLOPS_TODAY: '2026-02-30' is not an ISO date (YYYY-MM-DD); unset it to use today's date"


def test_bad_clock_exits_2_from_the_cli_without_traceback():
    env = {"MLOPS_TODAY": "soon", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "mlopsctl", "preview", "--stack", "dev", "--no-policy"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: environment: MLOPS_TODAY: 'soon' is not an ISO date (YYYY-MM-DD); unset it to use today's date"]
    assert proc.stdout == ""


# --- the lifecycle: one file, one reader, one definition -------------------------------------


@pytest.mark.parametrize(
    ("minor", "day", "phase"),
    [
        ("1.36", "2026-06-01", eks_versions.UNRELEASED),
        ("1.36", "2026-06-02", eks_versions.STANDARD),
        ("1.34", "2026-12-01", eks_versions.STANDARD),
        ("1.34", "2026-12-02", eks_versions.EXTENDED),  # the end date is the first day without standard support
        ("1.34", "2027-12-01", eks_versions.EXTENDED),
        ("1.34", "2027-12-02", eks_versions.ENDED),
    ],
)
def test_support_phase_boundaries(minor, day, phase):
    assert eks_versions.phase(minor, dt.date.fromisoformat(day)) == phase


def test_supported_means_released_and_not_past_extended_support():
    assert eks_versions.supported(dt.date(2026, 6, 1)) == ["1.30", "1.31", "1.32", "1.33", "1.34", "1.35"]
    assert eks_versions.supported(dt.date(2026, 12, 3)) == ["1.32", "1.33", "1.34", "1.35", "1.36", "1.37"]
    assert "1.34" not in eks_versions.supported(dt.date(2027, 12, 2))


def test_unknown_minor_has_no_phase():
    assert eks_versions.phase("1.99", dt.date(2026, 12, 3)) is None


LIFECYCLE_KEYS = ("endOfStandardSupport", "endOfExtendedSupport")
SOURCE_SUFFIXES = {".py", ".json", ".yaml", ".yml", ".md", ".toml"}


def _tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / line for line in listed.stdout.splitlines() if Path(line).suffix in SOURCE_SUFFIXES and (ROOT / line).is_file()]


def test_eks_lifecycle_dates_live_in_one_file():
    holders = sorted(str(p.relative_to(ROOT)) for p in _tracked_files() if p.suffix == ".json" and any(k in p.read_text() for k in LIFECYCLE_KEYS))
    assert holders == ["policies/awsfacts/eks_versions.json"]


# Reads of the machine's date or time: datetime.now/today/utcnow, date.today, time.time.
_CLOCK_READ = re.compile(r"\b(?:datetime\.(?:now|today|utcnow)|date\.today|_dt\.date\.today|time\.time)\s*\(")


def test_only_the_clock_module_reads_the_date():
    offenders = []
    for path in _tracked_files():
        if path.suffix != ".py" or path.parts[len(ROOT.parts)] not in ("components", "mlopsctl", "policies"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if _CLOCK_READ.search(line) and path != ROOT / "policies" / "awsfacts" / "clock.py":
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_clock_scan_catches_a_date_read():
    assert _CLOCK_READ.search("x = _dt.date.today()") and _CLOCK_READ.search("datetime.datetime.now(tz)")
