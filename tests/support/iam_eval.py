"""A small evaluator of IAM policy documents for tests (moto has no SimulatePrincipalPolicy).

It implements the parts of IAM's evaluation logic that bootstrap's policies use: explicit Deny
wins; otherwise an action is allowed only if the identity policies allow it AND the permissions
boundary allows it. Action patterns match case-insensitively, resource patterns case-sensitively,
``*`` and ``?`` as wildcards. Condition operators: StringEquals, StringNotEquals(IfExists), StringLike, ArnEquals,
ArnLike, ArnNotLike, Bool, NumericLessThan, Null, and ForAllValues:StringEquals for multi-valued keys (a
context value given as a list); for a negated operator a missing context key matches, as in IAM, and so
does it for ForAllValues (an empty set), which is why policies pair it with Null. Any other
element or operator raises, so a policy using something this evaluator does not understand can
never pass silently. A request's context holds only the keys that request carries: a condition on
a key the action never sends (``kms:GrantIsForAWSResource`` on ``kms:DescribeKey``) never holds.

:func:`kms_is_allowed` adds the key policy, for principals of the key's own account;
:func:`service_is_allowed` evaluates a resource or key policy for an AWS service principal, which
no identity policy can grant anything to.
:func:`same_account_allowed` adds a resource policy (an ECR repository's) for a principal of the
resource's own account; :func:`cross_account_allowed` one (a bucket, key, repository or model
package group policy) for a principal of another account.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

SUPPORTED_KEYS = {"Sid", "Effect", "Action", "Resource", "Condition", "Principal"}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


@cache
def _pattern(glob: str, ignore_case: bool) -> re.Pattern:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{regex}$", re.IGNORECASE if ignore_case else 0)


def _matches(patterns: Any, value: str, ignore_case: bool) -> bool:
    return any(_pattern(p, ignore_case).match(value) for p in _as_list(patterns))


def _condition_holds(conditions: dict, context: dict[str, Any]) -> bool:
    for operator, pairs in conditions.items():
        for key, expected in pairs.items():
            expected, actual = [str(e) for e in _as_list(expected)], context.get(key)
            if operator == "StringEquals":
                ok = actual is not None and actual in expected
            elif operator in ("StringNotEquals", "StringNotEqualsIfExists"):
                # Negated: a missing key matches, which is also what IfExists says.
                ok = actual is None or actual not in expected
            elif operator == "StringLike":
                ok = actual is not None and _matches(expected, actual, ignore_case=False)
            elif operator == "ArnEquals":
                ok = actual is not None and actual in expected
            elif operator == "ArnLike":
                ok = actual is not None and _matches(expected, actual, ignore_case=False)
            elif operator == "ArnNotLike":
                ok = actual is None or not _matches(expected, actual, ignore_case=False)
            elif operator == "Bool":
                ok = actual is not None and str(actual).lower() == expected[0].lower()
            elif operator == "Null":
                ok = (actual is None) == (expected[0].lower() == "true")
            elif operator == "ForAllValues:StringEquals":
                ok = actual is None or all(str(v) in expected for v in _as_list(actual))
            elif operator == "NumericLessThan":
                ok = actual is not None and float(actual) < float(expected[0])
            else:
                raise NotImplementedError(f"condition operator {operator}")
            if not ok:
                return False
    return True


def _evaluate(document: dict, action: str, resource: str, context: dict[str, str]) -> str:
    """'deny', 'allow' or 'none' for one document."""
    result = "none"
    for statement in _as_list(document["Statement"]):
        unknown = set(statement) - SUPPORTED_KEYS
        if unknown:
            raise NotImplementedError(f"statement elements {sorted(unknown)}")
        if not _matches(statement["Action"], action, ignore_case=True):
            continue
        # Trust policies name no Resource: the role itself is the resource.
        if not _matches(statement.get("Resource", "*"), resource, ignore_case=False):
            continue
        if "Condition" in statement and not _condition_holds(statement["Condition"], context):
            continue
        if statement["Effect"] == "Deny":
            return "deny"
        result = "allow"
    return result


def is_allowed(identity_policies: list[dict], boundary: dict | None, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    context = context or {}
    decisions = [_evaluate(d, action, resource, context) for d in identity_policies]
    boundary_decision = _evaluate(boundary, action, resource, context) if boundary is not None else "allow"
    if "deny" in decisions or boundary_decision == "deny":
        return False
    return "allow" in decisions and boundary_decision == "allow"


def _aws_principals(statement: dict) -> set[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return {"*"}
    return set(_as_list((principal or {}).get("AWS", [])))


def _service_principals(statement: dict) -> set[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return {"*"}
    return set(_as_list((principal or {}).get("Service", [])))


def service_is_allowed(policy: dict, service: str, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """Whether ``service`` (``cloudwatch.amazonaws.com``) may call ``action`` on ``resource`` under a
    resource or key policy: a statement naming the service (or ``*``) allows it and none denies it."""
    statements = [s for s in _as_list(policy["Statement"]) if service in _service_principals(s) or "*" in _service_principals(s) or "*" in _aws_principals(s)]
    return _evaluate({**policy, "Statement": statements}, action, resource, context or {}) == "allow"


def _for_principal(key_policy: dict, principal: str) -> dict:
    return {**key_policy, "Statement": [s for s in _as_list(key_policy["Statement"]) if principal in _aws_principals(s) or "*" in _aws_principals(s)]}


def kms_is_allowed(
    key_policy: dict,
    identity_policies: list[dict],
    boundary: dict | None,
    *,
    principal: str,
    account_root: str,
    action: str,
    key_arn: str,
    context: dict[str, str] | None = None,
) -> bool:
    """Whether ``principal`` (a role of the key's account) may call ``action`` on the key.

    KMS's rule: an explicit Deny in the key policy or the identity policies wins; otherwise the key
    policy must allow the principal itself, or allow the account root (which lets IAM policies
    decide) while the identity policies, within the boundary, allow the call.
    """
    context = context or {}
    direct = _evaluate(_for_principal(key_policy, principal), action, key_arn, context)
    via_root = _evaluate(_for_principal(key_policy, account_root), action, key_arn, context)
    if "deny" in (direct, via_root) or any(_evaluate(d, action, key_arn, context) == "deny" for d in identity_policies):
        return False
    if direct == "allow":
        return True
    return via_root == "allow" and is_allowed(identity_policies, boundary, action, key_arn, context)


def same_account_allowed(identity_policies: list[dict], resource_policy: dict, *, principal: str, action: str, resource: str) -> bool:
    """Whether ``principal`` (a role of the resource's account) may call ``action`` on ``resource``.

    IAM's rule within one account: an explicit Deny in either policy wins; otherwise an Allow in the
    identity policies or one in the resource policy naming the principal itself suffices. A
    resource-policy Allow for the account root only hands the decision to IAM, so here such a
    statement allows nothing by itself; ``aws:PrincipalArn`` is the principal in the context.
    """
    context = {"aws:PrincipalArn": principal}
    # The statements naming the principal itself or everyone ("*").
    direct = _evaluate(_for_principal(resource_policy, principal), action, resource, context)
    if direct == "deny" or any(_evaluate(d, action, resource, context) == "deny" for d in identity_policies):
        return False
    return direct == "allow" or is_allowed(identity_policies, None, action, resource, context)


def _account_of(principal: str) -> str:
    return principal.split(":")[4]


def cross_account_allowed(
    identity_policies: list[dict],
    boundary: dict | None,
    resource_policy: dict,
    *,
    principal: str,
    action: str,
    resource: str,
    context: dict[str, str] | None = None,
) -> bool:
    """Whether ``principal`` (a role of another account than the resource's) may call ``action`` on ``resource``.

    IAM's rule across accounts: the identity policies of the principal's account (within its
    boundary) must allow the request, and so must the resource's policy (a bucket, repository or
    model package group policy, or a key policy), in a statement naming the principal itself, its
    account (root ARN or id) or everyone; an explicit Deny in either wins. ``aws:PrincipalArn`` and
    ``aws:PrincipalAccount`` are in the context.
    """
    account = _account_of(principal)
    context = {**(context or {}), "aws:PrincipalArn": principal, "aws:PrincipalAccount": account}
    names = {principal, f"arn:aws:iam::{account}:root", account, "*"}
    relevant = {**resource_policy, "Statement": [s for s in _as_list(resource_policy["Statement"]) if _aws_principals(s) & names]}
    resource_decision = _evaluate(relevant, action, resource, context)
    if resource_decision == "deny" or any(_evaluate(d, action, resource, context) == "deny" for d in identity_policies):
        return False
    return resource_decision == "allow" and is_allowed(identity_policies, boundary, action, resource, context)
