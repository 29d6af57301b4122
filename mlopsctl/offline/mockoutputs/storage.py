"""Mock answers for the artifact store and the platform's KMS keys."""

from __future__ import annotations

from mlopsctl.offline.harness import MockContext, _physical_name, computed_outputs


@computed_outputs("aws:kms/alias:Alias")
def _kms_alias_outputs(ctx: MockContext, name: str, inputs: dict) -> dict:
    alias = _physical_name(name, inputs)
    region = inputs.get("region", ctx.region)
    key_id = inputs.get("targetKeyId", "")
    return {
        "name": alias,
        "arn": f"arn:{ctx.partition}:kms:{region}:{ctx.account_id}:{alias}",
        "targetKeyArn": f"arn:{ctx.partition}:kms:{region}:{ctx.account_id}:key/{key_id}",
    }


@computed_outputs("aws:iam/rolePolicy:RolePolicy")
def _role_policy_outputs(ctx: MockContext, name: str, inputs: dict) -> dict:
    # AWS's id of an inline policy is "<role name>:<policy name>".
    policy_name = _physical_name(name, inputs)
    return {"id": f"{inputs.get('role', 'role')}:{policy_name}", "name": policy_name}
