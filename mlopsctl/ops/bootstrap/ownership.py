"""How bootstrap tells its own half-built resources from drifted ones: the tags it writes.

Creating the state bucket, the secrets key or a CI role takes several calls (create, then
settings, alias or policy). Bootstrap tags the resource in or right after its create call with
``mlopsctl:bootstrap-state: creating`` and, once the last call succeeded, ``complete``. A rerun
that finds ``creating`` on a resource carrying this name's bootstrap tags knows the resource is
its own and unfinished (an earlier run stopped part-way: an AWS error, Ctrl-C, a lost
connection), and finishes it instead of reporting the missing settings as drift. Without the tag
(``complete``, or a resource made before bootstrap wrote it, or by hand) differences are drift.

A key whose alias was never created is found by its tags (an enabled customer key with this name's
``creating`` state) and finished, not created twice. The window this cannot cover is one call
wide: a bucket that exists but whose tagging call never ran is compared as drift (``--fix``
completes it).
"""

from __future__ import annotations

BOOTSTRAP_TAGS = {"managed-by": "mlopsctl-bootstrap"}
NAME_TAG = "mlopsctl:bootstrap-name"
STATE_TAG = "mlopsctl:bootstrap-state"
CREATING, COMPLETE = "creating", "complete"


def bootstrap_tags(name: str) -> dict[str, str]:
    """The tags on everything bootstrap creates for ``--name``."""
    return {**BOOTSTRAP_TAGS, NAME_TAG: name}


def with_state(tags: dict[str, str], state: str) -> dict[str, str]:
    return {**tags, STATE_TAG: state}


def half_built(current: dict[str, str], name: str) -> bool:
    """Whether tags ``current`` mark a resource this name's bootstrap began creating and did not finish."""
    ours = bootstrap_tags(name)
    return all(current.get(key) == value for key, value in ours.items()) and current.get(STATE_TAG) == CREATING
