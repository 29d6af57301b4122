"""Tagging: required tags on every taggable AWS resource.

A resource's effective tags are its own ``tags`` merged over its provider's ``defaultTags``. The
provider's inputs reach the pack JSON-encoded (``args.provider.props["defaultTags"]`` is the string
``'{"tags": {...}}'``), so they are decoded here. Which types accept ``tags`` comes from
``data/taggable_types.json``, generated from the pinned pulumi-aws SDK
(``python -m mlopsctl.review.policydata``; a test keeps it in sync).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from packlib import (
    DATA_DIR,
    MISSING,
    PolicyList,
    Severity,
    contains_unknown,
    json_input,
    lookup,
    raw,
)
from pulumi_policy.proxy import UnknownValueError

POLICIES = PolicyList()


@cache
def taggable_types() -> frozenset[str]:
    return frozenset(json.loads((DATA_DIR / "taggable_types.json").read_text())["types"])


def provider_default_tags(args) -> dict[str, Any]:
    """The provider's defaultTags.tags; raises UnknownValueError if they are not known yet."""
    if args.provider is None:
        return {}
    decoded = json_input(args.provider.props, "defaultTags")
    if decoded is MISSING or not isinstance(decoded, dict):
        return {}
    tags = decoded.get("tags") or {}
    return dict(tags) if isinstance(tags, dict) else {}


def own_tags(props) -> dict[str, Any]:
    tags = lookup(props, "tags")
    return raw(tags) if tags is not MISSING else {}


def effective_tags(args) -> dict[str, Any]:
    return {**provider_default_tags(args), **own_tags(args.props)}


_REQUIRED = {"type": "array", "items": {"type": "string"}, "default": ["environment", "owner", "cost-center", "managed-by", "project"], "description": "Tag keys every taggable resource must carry."}


@POLICIES.resource(
    "tagging-required-tags",
    "Every taggable AWS resource carries the required tags (own tags or the provider's defaultTags).",
    types=tuple(sorted(taggable_types())), category="tagging", severity=Severity.MEDIUM,
    config={
        "requiredTags": _REQUIRED,
        "expectedValues": {"type": "object", "additionalProperties": {"type": "string"}, "default": {}, "description": "Tag values fixed in this environment, e.g. {\"environment\": \"prod\"}."},
    },
    remediation="Set the tags on the stack's aws.Provider default_tags (components/platform.py reads them from the stack config), or on the resource.",
)
def _check_required_tags(args, report, cfg) -> None:
    tags = effective_tags(args)
    missing = [key for key in cfg("requiredTags") if key not in tags or tags[key] in ("", None)]
    if missing:
        report(f"missing required tags {missing} (own tags and the provider's defaultTags combined).")
    for key, expected in (cfg("expectedValues") or {}).items():
        if key in tags and tags[key] != expected:
            report(f"tag {key}={tags[key]!r}, expected {expected!r} in this environment.")


@POLICIES.remediate(
    "tagging-default-tags-remediation",
    "Adds missing required tags whose value is fixed for the environment (remediation only).",
    types=tuple(sorted(taggable_types())), category="tagging", severity=Severity.LOW,
    config={
        "requiredTags": _REQUIRED,
        "defaults": {"type": "object", "additionalProperties": {"type": "string"}, "default": {"managed-by": "pulumi"}, "description": "Values added when a required tag is missing."},
    },
    remediation="Automatic: the missing tag is added to the resource's own tags.",
)
def _remediate_default_tags(args, cfg) -> dict[str, Any] | None:
    """Add missing required tags whose value is fixed per environment (e.g. managed-by: pulumi)."""
    # Remediate receives secret-preserving proxies that do not raise on unknowns: check explicitly.
    own = own_tags(args.props)
    if not isinstance(own, dict) or contains_unknown(own):
        return None  # never guess over values the engine has not resolved yet
    try:
        tags = {**provider_default_tags(args), **own}
    except UnknownValueError:
        return None
    defaults = cfg("defaults") or {}
    additions = {k: v for k, v in defaults.items() if k in cfg("requiredTags") and k not in tags}
    if not additions:
        return None
    props = dict(args.props["__target"])  # keeps Secret markers, which the SDK re-serializes
    props["tags"] = {**own, **additions}
    return props
