"""Mock answers for the approval dispatch: the EventBridge connection and API destination, and the SQS dead-letter queue."""

from __future__ import annotations

from mlopsctl.offline.mockoutputs.context import MockContext, physical_name, short_hash


def _region(ctx: MockContext, inputs: dict) -> str:
    return inputs.get("region", ctx.region)


def _uuid(name: str) -> str:
    digest = short_hash(name, length=32)
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def event_connection(ctx: MockContext, name: str, inputs: dict) -> dict:
    # A connection's ARN ends in its name and a UUID; EventBridge keeps its credentials in a
    # Secrets Manager secret named events!connection/<name>/<uuid>, plus Secrets Manager's 6-character suffix.
    connection = physical_name(name, inputs)
    region = _region(ctx, inputs)
    uuid = _uuid(name)
    return {
        "id": connection,
        "name": connection,
        "arn": f"arn:{ctx.partition}:events:{region}:{ctx.account_id}:connection/{connection}/{uuid}",
        "secretArn": f"arn:{ctx.partition}:secretsmanager:{region}:{ctx.account_id}:secret:events!connection/{connection}/{uuid}-{short_hash(name, 'secret', length=6)}",
    }


def event_api_destination(ctx: MockContext, name: str, inputs: dict) -> dict:
    destination = physical_name(name, inputs)
    return {"id": destination, "name": destination, "arn": f"arn:{ctx.partition}:events:{_region(ctx, inputs)}:{ctx.account_id}:api-destination/{destination}/{_uuid(name)}"}


def sqs_queue(ctx: MockContext, name: str, inputs: dict) -> dict:
    # A queue's id is its URL; its ARN names it after the account, with no resource type.
    queue = physical_name(name, inputs)
    region = _region(ctx, inputs)
    url = f"https://sqs.{region}.amazonaws.com/{ctx.account_id}/{queue}"
    return {"id": url, "url": url, "name": queue, "arn": f"arn:{ctx.partition}:sqs:{region}:{ctx.account_id}:{queue}", "tagsAll": inputs.get("tags") or {}}
