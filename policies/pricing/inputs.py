"""What pricing reads: resources as the Pulumi engine sees them (type token + wire-format inputs).

Inputs arrive exactly as the engine receives them: from ``RecordedResource.inputs`` under the mock
runtime, or from a policy's ``props`` (see :func:`plain`). A value unknown at preview time stays
visible as its sentinel string (:func:`is_unknown`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Wire-format sentinels of values unknown at preview time (pulumi/sdk proto; pulumi_policy.proxy).
UNKNOWN_SENTINELS = frozenset(
    {
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


@dataclass(frozen=True)
class StackResource:
    """A resource as the engine sees it. ``region`` is the resource's own ``region`` input or its provider's."""

    urn: str
    type: str
    inputs: Mapping[str, Any]
    region: str | None = None
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    dependencies: Sequence[str] = ()

    @property
    def effective_region(self) -> str | None:
        own = self.inputs.get("region")
        if isinstance(own, str) and not is_unknown(own):
            return own
        return self.region

    def deps(self, key: str) -> list[str]:
        return list(self.property_dependencies.get(key, ())) or list(self.dependencies)


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def plain(value: Any) -> Any:
    """Plain dicts/lists from wire-format values: secrets unwrapped, policy-SDK proxies unpacked.

    ``pulumi_policy`` wraps props in read-only proxies that raise on unknown values; this reads the
    underlying containers instead (their ``"__target"`` item), so unknowns stay visible as sentinels.
    """
    if isinstance(value, Mapping):
        target = value["__target"] if type(value).__name__ == "_DictProxy" else value
        if target.get(_SIG_KEY) == _SECRET_SIG:
            return plain(target.get("value"))
        return {k: plain(target[k]) for k in target}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        target = value["__target"] if type(value).__name__ == "_ListProxy" else value  # type: ignore[index]
        return [plain(v) for v in target]
    secret_value = getattr(value, "value", None)
    if type(value).__name__ == "Secret" and secret_value is not None:
        return plain(secret_value)
    return value


def component_of(urn: str) -> str:
    """The capability a resource belongs to, from its URN's parent-type chain.

    ``...::mlops:index:MlopsPlatform$mlops:eks:EksCluster$aws:eks/nodeGroup:NodeGroup::name`` ->
    ``mlops:eks:EksCluster``: the outermost component below the root (``index`` module) platform.
    """
    parts = urn.split("::")
    qualified = parts[2] if len(parts) >= 4 else ""
    chain = qualified.split("$")[:-1]
    below_root = [t for t in chain if t.count(":") >= 2 and t.split(":")[1] != "index"]
    if below_root:
        return below_root[0]
    return chain[-1] if chain else "(stack)"


def tag_count(resource: StackResource, tag: str) -> int | None:
    """A whole number the program wrote in the resource's ``tag`` (a planned monthly volume); None when absent or unknown."""
    tags = resource.inputs.get("tags")
    value = tags.get(tag) if isinstance(tags, Mapping) else None
    if not isinstance(value, str) or is_unknown(value) or not value.isdigit():
        return None
    return int(value)


def as_int(value: Any) -> int | None:
    """An integer input, or ``None`` when it is absent, unknown or not a number."""
    if value is None or is_unknown(value):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
