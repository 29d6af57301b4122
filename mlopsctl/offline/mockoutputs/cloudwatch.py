"""Mock answers for CloudWatch: log groups (VPC flow logs, EKS control-plane logs, serving) and alarms."""

from __future__ import annotations

from mlopsctl.offline.mockoutputs.context import MockContext, physical_name, short_hash


def log_group(ctx: MockContext, name: str, inputs: dict) -> dict:
    group = inputs.get("name") if isinstance(inputs.get("name"), str) else f"{name}-{short_hash(name)}"
    # CloudWatch Logs ARNs name the group after "log-group:" (no trailing ":*" in the provider's arn).
    return {"id": group, "name": group, "arn": f"arn:{ctx.partition}:logs:{inputs.get('region', ctx.region)}:{ctx.account_id}:log-group:{group}",
            "tagsAll": inputs.get("tags") or {}}


def metric_alarm(ctx: MockContext, name: str, inputs: dict) -> dict:
    physical = physical_name(name, inputs)
    region = inputs.get("region", ctx.region)
    return {"name": physical, "arn": f"arn:{ctx.partition}:cloudwatch:{region}:{ctx.account_id}:alarm:{physical}"}
