"""AWS tag rules on every tag the platform writes from config, and the keys ``extraTags`` may not use.

The provider's default tags (``PlatformConfig.default_tags``) reach every taggable resource, so
each key and value must pass the narrowest rules of the services tagged: lengths and characters
from botocore's service models (``components.facts.tag_rules``), and no ``aws:`` prefix in any
case (aws_facts.json). ``extraTags`` may not set a key the platform writes itself: a default tag
would silently replace it, and a resource's own tag (``Name``, ...) would override it on that
resource only, so the same key would mean two things.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from components import facts
from policies.awsfacts import (
    EVENTBRIDGE_CONNECTION_KEY_TAG,
    EXPECTED_DISPATCHES_TAG,
    EXPECTED_NOTIFICATIONS_TAG,
    EXPECTED_STORAGE_GB_TAG,
    EXPECTED_TRAINING_RUNS_TAG,
    ROLE_TAG,
)

# The platform's default tags, in the order the provider receives them (PlatformConfig.default_tags).
PLATFORM_TAG_KEYS: tuple[str, ...] = ("environment", "owner", "cost-center", "managed-by", "project")
# Tags components put on single resources, over the defaults: names, node groups, the store's
# bucket roles, the alert topic's, image repositories', dispatch rules' and pipelines' planned
# volumes for the cost model, the tag EventBridge requires of the dispatch key, and the keys EKS,
# load balancers and Cluster Autoscaler read.
RESOURCE_TAG_KEYS: tuple[str, ...] = (
    "Name", "node-group", ROLE_TAG, EXPECTED_NOTIFICATIONS_TAG, EXPECTED_STORAGE_GB_TAG, EXPECTED_DISPATCHES_TAG, EXPECTED_TRAINING_RUNS_TAG,
    EVENTBRIDGE_CONNECTION_KEY_TAG,
)
RESOURCE_TAG_PREFIXES: tuple[str, ...] = ("kubernetes.io/", "k8s.io/")


def _bad_characters(part: str, text: str) -> tuple[str, str] | None:
    """(the characters, the pattern's shape) of the first botocore pattern ``text`` fails, else None."""
    for shape, pattern in facts.tag_rules()[part]["patterns"].items():
        if not facts.matches_botocore_pattern(pattern, text):
            bad = sorted({c for c in text if not facts.matches_botocore_pattern(pattern, c)})
            return "".join(bad), f"{shape} {pattern}"
    return None


def _shown(text: str, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _problems(part: str, text: str) -> list[str]:
    rules = facts.tag_rules()
    limits = rules[part]
    problems = []
    if not limits["min"] <= len(text) <= limits["max"]:
        problems.append(f"is {len(text)} characters; AWS tag {part}s are {limits['min']}-{limits['max']}")
    bad = _bad_characters(part, text)
    if bad:
        problems.append(f"contains {bad[0]!r}, which AWS tags do not allow (Unicode letters, digits, spaces and _ . : / = + - @; botocore {bad[1]})")
    if text.lower().startswith(rules["reservedPrefix"]):
        problems.append(f"starts with {rules['reservedPrefix']!r}, which AWS reserves for its own tags (in any case)")
    return problems


def reserved_by_platform(key: str) -> str | None:
    """The platform's own tag key that ``key`` collides with (case-insensitively: IAM treats keys so), else None."""
    folded = key.casefold()
    for own in (*PLATFORM_TAG_KEYS, *RESOURCE_TAG_KEYS):
        if folded == own.casefold():
            return own
    return next((f"{prefix}*" for prefix in RESOURCE_TAG_PREFIXES if folded.startswith(prefix.casefold())), None)


def tag_issues(written: Mapping[str, str], origins: Mapping[str, str], extra: Mapping[str, str], unknown: Collection[str] = ()) -> list[str]:
    """``@<config key>: <problem>`` lines for every tag of ``written`` that AWS would refuse, and
    every ``extra`` key that collides with the platform's own. ``origins`` names the config key
    each default tag's value comes from (absent: a constant of the platform, or ``extraTags``);
    values from the config keys in ``unknown`` (secrets the offline preview cannot read) are not
    checked."""
    lines = []
    for key, own in ((k, reserved_by_platform(k)) for k in extra):
        if own is not None:
            lines.append(
                f"@extraTags.{key}: collides with the platform's own tag {own!r}; extraTags may not set "
                f"{', '.join(PLATFORM_TAG_KEYS)} (default tags), {', '.join(RESOURCE_TAG_KEYS)} or {', '.join(p + '*' for p in RESOURCE_TAG_PREFIXES)} (set on single resources)"
            )
    for key, value in written.items():
        where = origins.get(key, f"extraTags.{key}")
        if key in extra:
            lines += [f"@extraTags.{key}: tag key {_shown(key)} {problem}" for problem in _problems("key", key)]
        if where not in unknown:
            lines += [f"@{where}: the {key!r} tag's value {_shown(value)} {problem}" for problem in _problems("value", value)]
    return lines
