"""Mock answers of the account-level data sources: who runs the program, in which partition, region and zones."""

from __future__ import annotations

from mlopsctl.offline.mockoutputs.context import MockContext


def caller_identity(ctx: MockContext, args: dict) -> dict:
    return {"accountId": ctx.account_id, "arn": ctx.caller_arn, "userId": "AROAEXAMPLEDEPLOYER:pulumi-session", "id": ctx.account_id}


def partition(ctx: MockContext, args: dict) -> dict:
    return {"partition": ctx.partition, "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws", "id": ctx.partition}


def availability_zones(ctx: MockContext, args: dict) -> dict:
    return {
        "names": [f"{ctx.region}{chr(ord('a') + i)}" for i in range(ctx.availability_zone_count)],
        "zoneIds": [f"use1-az{i + 1}" for i in range(ctx.availability_zone_count)],
        "groupNames": [ctx.region] * ctx.availability_zone_count,
        "id": ctx.region,
        "state": args.get("state", "available"),
    }
