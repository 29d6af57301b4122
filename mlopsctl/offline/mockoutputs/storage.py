"""Mock answers for the artifact store's buckets and the platform's KMS keys."""

from __future__ import annotations

import hashlib

from mlopsctl.offline.mockoutputs.context import MockContext, physical_name


def bucket(ctx: MockContext, name: str, inputs: dict) -> dict:
    bucket_name = physical_name(name, inputs, key="bucket")
    region = inputs.get("region", ctx.region)
    return {"bucket": bucket_name, "arn": f"arn:{ctx.partition}:s3:::{bucket_name}", "bucketDomainName": f"{bucket_name}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{bucket_name}.s3.{region}.amazonaws.com", "region": region}


def kms_key(ctx: MockContext, name: str, inputs: dict) -> dict:
    digest = hashlib.sha256(name.encode()).hexdigest()
    key_id = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    region = inputs.get("region", ctx.region)
    return {"keyId": key_id, "arn": f"arn:{ctx.partition}:kms:{region}:{ctx.account_id}:key/{key_id}"}


def kms_alias(ctx: MockContext, name: str, inputs: dict) -> dict:
    alias = physical_name(name, inputs)
    region = inputs.get("region", ctx.region)
    key_id = inputs.get("targetKeyId", "")
    return {
        "name": alias,
        "arn": f"arn:{ctx.partition}:kms:{region}:{ctx.account_id}:{alias}",
        "targetKeyArn": f"arn:{ctx.partition}:kms:{region}:{ctx.account_id}:key/{key_id}",
    }
