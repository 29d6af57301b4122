"""Mock answers for the alert topic and its feeds: SNS topics, topic policies and subscriptions, EventBridge rules and targets."""

from __future__ import annotations

from mlopsctl.offline.mockoutputs.context import MockContext, physical_name, short_hash


def _region(ctx: MockContext, inputs: dict) -> str:
    return inputs.get("region", ctx.region)


def sns_topic(ctx: MockContext, name: str, inputs: dict) -> dict:
    # SNS ARNs end in the topic's name after the account, with no resource type.
    topic = physical_name(name, inputs)
    arn = f"arn:{ctx.partition}:sns:{_region(ctx, inputs)}:{ctx.account_id}:{topic}"
    return {"id": arn, "name": topic, "arn": arn, "owner": ctx.account_id, "tagsAll": inputs.get("tags") or {}}


def sns_topic_policy(ctx: MockContext, name: str, inputs: dict) -> dict:
    # The policy's id is its topic's ARN; it has no ARN of its own.
    return {"id": inputs.get("arn", name), "owner": ctx.account_id}


def sns_topic_subscription(ctx: MockContext, name: str, inputs: dict) -> dict:
    # A subscription's ARN is its topic's plus a UUID; email and HTTPS ones stay pending until confirmed.
    topic = inputs.get("topic", f"arn:{ctx.partition}:sns:{_region(ctx, inputs)}:{ctx.account_id}:unknown")
    digest = short_hash(name, length=32)
    arn = f"{topic}:{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    return {"id": arn, "arn": arn, "ownerId": ctx.account_id, "pendingConfirmation": inputs.get("protocol") in ("email", "email-json", "http", "https")}


def event_rule(ctx: MockContext, name: str, inputs: dict) -> dict:
    rule = physical_name(name, inputs)
    bus = inputs.get("eventBusName") or "default"
    # Rules of the default bus are named alone in their id and ARN; others after their bus.
    path = rule if bus == "default" else f"{bus}/{rule}"
    return {"id": path, "name": rule, "arn": f"arn:{ctx.partition}:events:{_region(ctx, inputs)}:{ctx.account_id}:rule/{path}", "tagsAll": inputs.get("tags") or {}}


def event_target(ctx: MockContext, name: str, inputs: dict) -> dict:
    # The provider's id joins bus, rule and target id.
    return {"id": f"{inputs.get('eventBusName') or 'default'}-{inputs.get('rule', name)}-{inputs.get('targetId', name)}"}
