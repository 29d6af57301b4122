"""What the pack reports for one recorded run: violations (as the engine levels them) and remediations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlopsctl.offline.policycheck.config import level_name

UNKNOWN_DIAGNOSTIC = re.compile(r"^can't run policy '")
_SEVERITY_NAMES = {0: "", 1: "low", 2: "medium", 3: "high", 4: "critical"}


@dataclass
class Violation:
    policy: str
    level: str
    urn: str | None
    message: str
    severity: str = ""
    unknown: bool = False  # "can't run during preview": the policy read a value unknown until apply

    def to_json(self) -> dict[str, Any]:
        data = {"policy": self.policy, "level": self.level, "urn": self.urn, "message": self.message, "severity": self.severity}
        if self.unknown:
            data["unknownDuringPreview"] = True
        return data


@dataclass
class PolicyReport:
    pack: str
    version: str
    config: str | None
    policies: int
    violations: list[Violation] = field(default_factory=list)
    remediations: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    def by_policy(self, name: str) -> list[Violation]:
        return [v for v in self.violations if v.policy == name]

    def to_json(self) -> dict[str, Any]:
        return {
            "evaluated": True,
            "pack": {"name": self.pack, "version": self.version, "policies": self.policies, "config": self.config},
            # Resources are analyzed in parallel; a fixed order keeps two runs byte for byte equal.
            "violations": [v.to_json() for v in sorted(self.violations, key=lambda v: (v.urn or "", v.policy, v.message))],
            "remediations": self.remediations,
            "note": "The analyzer protocol carries no retainOnDelete; see each resource's retainOnDelete in `resources`.",
        }


def violation_of(diagnostic: Any, urn: str | None) -> Violation:
    level = level_name(diagnostic.enforcementLevel)
    if level == "remediate":  # the engine downgrades a violation that survived remediation
        level = "mandatory"
    return Violation(
        policy=diagnostic.policyName, level=level, urn=urn, message=diagnostic.message,
        severity=_SEVERITY_NAMES.get(diagnostic.severity, ""), unknown=bool(UNKNOWN_DIAGNOSTIC.match(diagnostic.message)),
    )
