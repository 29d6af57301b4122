"""Mock answers for IAM: role and managed-policy ARNs, and inline-policy ids."""

from __future__ import annotations

from mlopsctl.offline.mockoutputs.context import MockContext, physical_name, short_hash


def role_or_policy(ctx: MockContext, name: str, inputs: dict) -> dict:
    physical = physical_name(name, inputs)
    kind = "role" if "assumeRolePolicy" in inputs else "policy"
    path = inputs.get("path", "/")
    return {"name": physical, "arn": f"arn:{ctx.partition}:iam::{ctx.account_id}:{kind}{path}{physical}", "uniqueId": f"AROA{short_hash(name, length=17).upper()}"}


def role_policy(ctx: MockContext, name: str, inputs: dict) -> dict:
    # AWS's id of an inline policy is "<role name>:<policy name>".
    policy_name = physical_name(name, inputs)
    return {"id": f"{inputs.get('role', 'role')}:{policy_name}", "name": policy_name}
