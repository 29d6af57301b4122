"""Kubernetes version changes between two previews of a stack, checked where both sides are visible.

The policy pack sees one snapshot, so it cannot tell an upgrade from a fresh cluster; the diff
can. EKS upgrades one minor at a time and never downgrades, so a change of ``version`` on an
``aws:eks/cluster:Cluster`` by more than one minor (or backwards) blocks the diff, and every
allowed change is explained in the order EKS and this program apply it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policies.awsfacts.eks_versions import minor_key
from policies.awsfacts.resource_types import EKS_CLUSTER


@dataclass(frozen=True)
class VersionChange:
    urn: str
    name: str
    old: str
    new: str

    @property
    def step(self) -> int:
        """Minors moved: +1 for one minor up, 0 for a patch-only change, negative for a downgrade."""
        (old_major, old_minor), (new_major, new_minor) = minor_key(self.old)[:2], minor_key(self.new)[:2]
        if old_major != new_major:
            return 99 if new_major > old_major else -99
        return new_minor - old_minor

    @property
    def problem(self) -> str | None:
        if self.step < 0:
            return f"Kubernetes {self.old} -> {self.new} on '{self.name}' is a downgrade, which EKS cannot do; keep {self.old} or recreate the cluster"
        if self.step > 1:
            return (f"Kubernetes {self.old} -> {self.new} on '{self.name}' skips {self.step - 1} minor(s); EKS upgrades one minor "
                    f"at a time: change version to the next minor, deploy, then continue")
        return None

    def explanation(self) -> str:
        if self.problem:
            return self.problem
        return (f"Kubernetes {self.old} -> {self.new} on '{self.name}': EKS upgrades the control plane first (about 10-30 minutes, "
                f"the API stays available), then the managed addons move to their {self.new} pins, then each node group rolls "
                f"its nodes to {self.new} (maxUnavailable at a time, pods drained); node groups never lead the control plane")

    def to_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "name": self.name, "old": self.old, "new": self.new, "allowed": self.problem is None,
                "explanation": self.explanation()}


def version_changes(old_by_urn: dict[str, dict], new_by_urn: dict[str, dict]) -> list[VersionChange]:
    """Every EKS cluster whose known ``version`` input differs between the two previews, in URN order."""
    found = []
    for urn, new in sorted(new_by_urn.items()):
        old = old_by_urn.get(urn)
        if old is None or new.get("type") != EKS_CLUSTER:
            continue
        before, after = (old.get("inputs") or {}).get("version"), (new.get("inputs") or {}).get("version")
        if isinstance(before, str) and isinstance(after, str) and before != after:
            try:
                minor_key(before), minor_key(after)
            except ValueError:
                continue  # not a numeric minor (cannot be a real EKS version): config validation refuses it
            found.append(VersionChange(urn, new.get("name", urn), before, after))
    return found
