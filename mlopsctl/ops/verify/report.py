"""verify's results as text and JSON, and the exit decision: failed when any check failed or none ran.

Warnings fail nothing and pass nothing; the text summary counts them when there are any.
"""

from __future__ import annotations

from typing import Any

from components.config import PlatformConfig
from mlopsctl.ops.verify.checks import ERROR, FAIL, PASS, SKIP, WARN, CheckResult


def summary(results: list[CheckResult]) -> dict[str, int]:
    return {status: sum(1 for r in results if r.status == status) for status in (PASS, FAIL, ERROR, SKIP, WARN)}


def failed(results: list[CheckResult]) -> bool:
    """Any failure or AWS error, or nothing passed (skips alone verify nothing)."""
    return any(r.status in (FAIL, ERROR) for r in results) or not any(r.status == PASS for r in results)


def to_json(stack: str, config: PlatformConfig, results: list[CheckResult]) -> dict[str, Any]:
    return {"stack": stack, "environment": config.environment, "region": config.region, "ok": not failed(results),
            "summary": summary(results), "checks": [r.to_json() for r in results]}


def render_text(stack: str, config: PlatformConfig, results: list[CheckResult]) -> str:
    out = [f"Verify stack '{stack}' ({config.environment}) in {config.region}", ""]
    width = max((len(r.check) for r in results), default=10)
    for r in results:
        out.append(f"  {r.status.upper():5} {r.check:{width}}  {r.resource}: {r.reason}")
    counts = summary(results)
    warnings = f", {counts[WARN]} warnings" if counts[WARN] else ""
    out += ["", f"{counts[PASS]} passed, {counts[FAIL]} failed, {counts[ERROR]} errors, {counts[SKIP]} skipped{warnings}"]
    return "\n".join(out) + "\n"
