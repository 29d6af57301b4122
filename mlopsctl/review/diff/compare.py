"""Compare two previews of a stack: resources by URN, then cost, policy, secret config and Kubernetes upgrades.

Input paths are wire-format paths (``scalingConfig.desiredSize``); secrets are masked before any
value leaves this module.
"""

from __future__ import annotations

import json
import re
from typing import Any

from components.incluster.config import PROJECT as INCLUSTER_PROJECT
from mlopsctl.offline.preview import NOT_EVALUATED
from mlopsctl.offline.stackfile import SECRET_PLACEHOLDER, StackFileError, load_stack_document, map_secure
from mlopsctl.offline.wire import is_secret
from mlopsctl.review.diff.blast import blast_radius
from mlopsctl.review.diff.model import MASK, Cause, Change, InputChange, Side, StackDiff
from mlopsctl.review.diff.replace_rules import PathVerdict, ReplaceTable, covers, load_replace_table
from mlopsctl.review.upgrades import version_changes
from policies.awsfacts.resource_types import DATA_HOLDING_TYPES, EKS_CLUSTER

# Input names that hold credentials even when the program forgot to mark them secret.
_SENSITIVE_KEY = re.compile(r"password|secret|token|private_?key|access_?key|credential", re.IGNORECASE)
_IDENTIFIER = re.compile(r"^[A-Za-z_$][\w$]*$")
OPTION_FIELDS = ("protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges", "replaceOnChanges", "additionalSecretOutputs", "provider")


def _segment(key: str) -> str:
    return f".{key}" if _IDENTIFIER.match(key) else f"[{json.dumps(key)}]"


def _join(path: str, key: str) -> str:
    seg = _segment(key)
    return (seg[1:] if seg.startswith(".") else seg) if not path else path + seg


def _as_json_container(value: Any) -> Any:
    """A string holding a JSON object/array (provider defaultTags, IAM policies) as that container."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict | list) else None
    return None


def diff_values(old: Any, new: Any, path: str = "", *, masked: bool = False) -> list[InputChange]:
    """Leaf-level differences between two wire-format values, secrets masked.

    A container on one side only (an added or removed block) is compared with an empty one, so
    every leaf goes through the same masking; JSON held in strings is compared inside.
    """
    if is_secret(old) or is_secret(new):
        old_plain = old.get("value") if is_secret(old) else old
        new_plain = new.get("value") if is_secret(new) else new
        return [] if old_plain == new_plain else [InputChange(path, MASK, MASK, masked=True)]
    if old == new:
        return []
    if masked and not (_is_flag_or_number(old) and _is_flag_or_number(new)):
        return [InputChange(path, MASK if old is not None else None, MASK if new is not None else None, masked=True)]
    old_value, new_value = _container_or_value(old), _container_or_value(new)
    if isinstance(old_value, dict | list) or isinstance(new_value, dict | list):
        empty = type(old_value if isinstance(old_value, dict | list) else new_value)()
        old_value = empty if old_value is None else old_value
        new_value = empty if new_value is None else new_value
    if isinstance(old_value, dict) and isinstance(new_value, dict):
        changes: list[InputChange] = []
        for key in list(old_value) + [k for k in new_value if k not in old_value]:
            sensitive = bool(_SENSITIVE_KEY.search(key))
            changes += diff_values(old_value.get(key), new_value.get(key), _join(path, key), masked=sensitive)
        return changes
    if isinstance(old_value, list) and isinstance(new_value, list):
        changes = []
        for index in range(max(len(old_value), len(new_value))):
            changes += diff_values(old_value[index] if index < len(old_value) else None,
                                   new_value[index] if index < len(new_value) else None, f"{path}[{index}]")
        return changes
    if _contains_secret(old_value) or _contains_secret(new_value):  # a container replaced by a scalar or vice versa
        return [InputChange(path, MASK if old is not None else None, MASK if new is not None else None, masked=True)]
    return [InputChange(path, _scrub(_tidy(old_value)), _scrub(_tidy(new_value)))]


def _is_flag_or_number(value: Any) -> bool:
    """A value no credential can be (``automountServiceAccountToken: false``): shown even under a credential-like name."""
    return value is None or isinstance(value, bool | int | float)


def _scrub(value: Any) -> Any:
    """A whole container shown as one value (a block replaced by a scalar): credential-named keys masked."""
    if isinstance(value, dict):
        return {k: MASK if _SENSITIVE_KEY.search(k) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _container_or_value(value: Any) -> Any:
    container = _as_json_container(value)
    return value if container is None else container


def _tidy(value: Any) -> Any:
    """Wire numbers are protobuf doubles: show 3.0 as 3."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    return value


def _contains_secret(value: Any) -> bool:
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secret(v) for v in value)
    return False


def _compare_resource(old: dict, new: dict, table: ReplaceTable) -> Change | None:
    secret_outputs = set(new.get("additionalSecretOutputs") or []) | set(old.get("additionalSecretOutputs") or [])
    changes: list[InputChange] = []
    old_inputs, new_inputs = old.get("inputs") or {}, new.get("inputs") or {}
    for key in list(old_inputs) + [k for k in new_inputs if k not in old_inputs]:
        masked = key in secret_outputs or bool(_SENSITIVE_KEY.search(key))
        changes += diff_values(old_inputs.get(key), new_inputs.get(key), _join("", key), masked=masked)
    ignore = new.get("ignoreChanges") or []
    ignored = [c.path for c in changes if any(covers(p, c.path) for p in ignore)]
    changes = [c for c in changes if c.path not in ignored]
    options = [InputChange(name, old.get(name), new.get(name)) for name in OPTION_FIELDS if (old.get(name) or None) != (new.get(name) or None)]
    if not changes and not options:
        return None
    paths = [c.path for c in changes]
    facts = table.facts(new["type"])
    if facts is None:
        verdict = PathVerdict([], [f"{p} (no replace facts for {new['type']})" for p in paths])
    else:
        verdict = facts.classify(paths)
    may = list(verdict.may_replace)
    if any(o.path == "provider" for o in options):
        may.append("provider (the engine replaces a resource moved to another provider unless the provider says otherwise)")
    forced = [p for p in paths if any(covers(r, p) for r in new.get("replaceOnChanges") or [])]
    change = Change("update", new["urn"], new["type"], new["name"], changes, options, ignored, verdict.replaces, may, forced)
    return _with_resource_facts(change, new)


def _with_resource_facts(change: Change, resource: dict) -> Change:
    change.protect = bool(resource.get("protect"))
    change.retain_on_delete = bool(resource.get("retainOnDelete"))
    change.holds = DATA_HOLDING_TYPES.get(resource["type"]) if resource.get("custom", True) else None
    return change


def _residents(resources: dict[str, dict]) -> dict[str, tuple[list[str], str]]:
    """The in-cluster layer's objects live in layer 1's EKS cluster: a new cluster starts empty."""
    clusters = [urn for urn, r in resources.items() if r["type"] == EKS_CLUSTER]
    inside = sorted(urn for urn, r in resources.items()
                    if urn.split("::")[1] == INCLUSTER_PROJECT and r.get("custom", True) and r["type"].startswith("kubernetes:"))
    why = "the in-cluster layer's objects live in the cluster: a new cluster starts empty, so each is created again there"
    return {urn: (inside, why) for urn in clusters} if inside else {}


def compare(stack: str, base: Side, head: Side, table: ReplaceTable | None = None, environment: str | None = None) -> StackDiff:
    table = table if table is not None else load_replace_table()
    old_by_urn = {r["urn"]: r for r in base.preview.get("resources", [])}
    new_by_urn = {r["urn"]: r for r in head.preview.get("resources", [])}
    changes: dict[str, Change] = {}
    unchanged: set[str] = set()
    # Registration order varies between runs (resources register as their inputs resolve), so
    # changes are listed in URN order to keep the output stable.
    for urn, new in sorted(new_by_urn.items()):
        old = old_by_urn.get(urn)
        if old is None:
            changes[urn] = _with_resource_facts(Change("create", urn, new["type"], new["name"]), new)
            continue
        change = _compare_resource(old, new, table)
        if change is None:
            unchanged.add(urn)
        else:
            changes[urn] = change
    for urn, old in sorted(old_by_urn.items()):
        if urn not in new_by_urn:
            changes[urn] = _with_resource_facts(Change("delete", urn, old["type"], old["name"]), old)
    created = {urn for urn, c in changes.items() if c.op == "create"}
    direct = {urn: c.direct_effect for urn, c in changes.items() if c.op == "update"}
    blast = blast_radius(direct, new_by_urn, table, created, _residents(new_by_urn))
    for edge in blast.edges:
        if edge.dependent not in changes:  # unchanged in the program, changed by the replacement upstream
            unchanged.discard(edge.dependent)
            resource = new_by_urn[edge.dependent]
            changes[edge.dependent] = _with_resource_facts(Change("update", edge.dependent, resource["type"], resource["name"]), resource)
        changes[edge.dependent].caused_by.append(Cause(edge.cause, new_by_urn[edge.cause]["name"], edge.key, edge.effect, edge.cause_effect, edge.why))
    return StackDiff(
        stack=stack,
        base=base,
        head=head,
        changes=[changes[urn] for urn in sorted(changes, key=lambda u: (_OP_ORDER[changes[u].op], u))],
        unchanged=len(unchanged),
        cost=cost_delta(base.preview.get("cost") or {}, head.preview.get("cost") or {}),
        policy=policy_delta(base.preview.get("policy") or {}, head.preview.get("policy") or {}),
        secret_config=secret_config_changes(base.stack_text, head.stack_text),
        table_as_of=table.as_of,
        environment=environment,
        kubernetes_upgrades=version_changes(old_by_urn, new_by_urn),
        blast=blast,
    )


_OP_ORDER = {"create": 0, "update": 0, "delete": 1}


COST_FIGURES = ("idle", "expected", "ceiling")


def _monthly(cost: dict) -> dict | None:
    if not cost.get("evaluated"):
        return None
    monthly = cost.get("monthly")
    return monthly if isinstance(monthly, dict) and all(k in monthly for k in COST_FIGURES) else None


def _amount(value: Any) -> float | None:
    if isinstance(value, dict):  # {"amount": ..} or {"usd": ..}
        value = value.get("amount", value.get("usd"))
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def cost_delta(base: dict, head: dict) -> dict[str, Any]:
    base_monthly, head_monthly = _monthly(base), _monthly(head)
    if base_monthly is None or head_monthly is None:
        missing = [side for side, m in (("base", base_monthly), ("head", head_monthly)) if m is None]
        return {"evaluated": False, "note": f"{NOT_EVALUATED} ({_sides(missing)} no priced monthly cost)"}
    figures = {}
    for key in COST_FIGURES:
        old, new = _amount(base_monthly[key]), _amount(head_monthly[key])
        figures[key] = {"base": old, "head": new, "delta": None if old is None or new is None else round(new - old, 2)}
    return {"evaluated": True, "currency": head.get("currency", "USD"), "asOf": head.get("asOf"), "monthly": figures}


def _sides(missing: list[str]) -> str:
    return "the base and head previews have" if len(missing) == 2 else f"the {missing[0]} preview has"


def _violation_key(v: dict) -> tuple[str, str]:
    return (v.get("policy", ""), v.get("urn") or "")


def policy_delta(base: dict, head: dict) -> dict[str, Any]:
    head_violations = head.get("violations", []) if head.get("evaluated") else []
    mandatory = [v for v in head_violations if v.get("level") == "mandatory"]
    if not (base.get("evaluated") and head.get("evaluated")):
        missing = [side for side, p in (("base", base), ("head", head)) if not p.get("evaluated")]
        return {"evaluated": False, "note": f"{NOT_EVALUATED} ({_sides(missing)} no policy results)",
                "headMandatory": mandatory}
    base_keys = {_violation_key(v) for v in base.get("violations", [])}
    head_keys = {_violation_key(v) for v in head_violations}
    return {
        "evaluated": True,
        "new": [v for v in head_violations if _violation_key(v) not in base_keys],
        "fixed": [v for v in base.get("violations", []) if _violation_key(v) not in head_keys],
        "remaining": len(head_keys & base_keys),
        "headMandatory": mandatory,
    }


def _secure_values(text: str | None) -> dict[str, str]:
    """``{key path: ciphertext}`` of a stack file's ``secure:`` values (compared, never shown)."""
    if not text:
        return {}
    try:
        document = load_stack_document(text, "stack file") or {}
    except StackFileError:  # the side's own preview reported it
        return {}
    found: dict[str, str] = {}
    map_secure((document or {}).get("config") or {}, "", lambda path, ciphertext: found.__setitem__(path, str(ciphertext)))
    return found


def secret_config_changes(base_text: str | None, head_text: str | None) -> dict[str, list[str]]:
    old, new = _secure_values(base_text), _secure_values(head_text)
    return {
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "changed": sorted(k for k in set(old) & set(new) if old[k] != new[k]),
        "placeholder": [SECRET_PLACEHOLDER],
    }
