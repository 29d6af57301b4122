"""The state bucket of the Pulumi backend: created with every setting, or checked setting by setting.

Versioned, SSE-KMS with the secrets key and the S3 bucket key, public access blocked, ACLs
disabled, TLS 1.2+ only, and a lifecycle rule that expires noncurrent state versions. Fixes
never delete: policy statements and lifecycle rules are replaced by Sid or rule ID, everyone
else's stay. A bucket an earlier run created and did not finish (``ownership``) gets the
settings it lacks without --fix; its location and object ownership are drift even then
(CreateBucket itself sets them).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from mlopsctl.ops.awsclients import default_encryption_rule, error_code, tag_list, unless_missing
from mlopsctl.ops.bootstrap.documents import canonical_policy, tls_only_statements
from mlopsctl.ops.bootstrap.names import Names
from mlopsctl.ops.bootstrap.ownership import COMPLETE, CREATING, STATE_TAG, half_built, with_state
from mlopsctl.ops.bootstrap.report import Step

LIFECYCLE_RULE_ID = "expire-noncurrent-state-versions"
# Overwritten or deleted state objects stay recoverable this long. Pulumi's self-managed backend
# also writes every checkpoint to .pulumi/history/ as a current object, so older states remain.
NONCURRENT_STATE_DAYS = 90
ABORT_MULTIPART_DAYS = 7
PUBLIC_ACCESS_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def _bucket_exists(s3, bucket: str) -> bool:
    """Whether this account has ``bucket``. S3 answers HeadBucket with 403 for a bucket of another account."""
    try:
        return unless_missing(lambda: s3.head_bucket(Bucket=bucket) is not None, ("404", "NoSuchBucket", "NotFound"), False)
    except ClientError as exc:
        if error_code(exc) in ("403", "Forbidden", "AccessDenied") and _listed(s3, bucket) is False:
            # S3's own code for "this name is taken by someone else", so the report says so.
            raise ClientError({"Error": {"Code": "BucketAlreadyExists", "Message": f"HeadBucket answered 403 and {bucket} is not among "
                                                                                  f"this account's buckets (ListBuckets)"}}, "HeadBucket") from exc
        raise


def _listed(s3, bucket: str) -> bool | None:
    """Whether ListBuckets names ``bucket``; ``None`` when these credentials may not list buckets either."""
    try:
        return any(b["Name"] == bucket for page in s3.get_paginator("list_buckets").paginate() for b in page.get("Buckets", []))
    except ClientError:
        return None


def _desired_encryption(key_arn: str) -> dict:
    return {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                       "BucketKeyEnabled": True}]}


def _desired_lifecycle_rule() -> dict:
    return {
        "ID": LIFECYCLE_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_STATE_DAYS},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
    }


def ensure_state_bucket(s3, names: Names, step: Step, key_arn: str, tags: dict[str, str]) -> None:
    """Create the bucket with every setting, or compare an existing one setting by setting (``step`` records it)."""
    bucket = names.state_bucket
    if not _bucket_exists(s3, bucket):
        create: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
        if names.region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": names.region}
        s3.create_bucket(**create)
        step.began = True
        # Tagged at once, so that a rerun after a failure below recognises its own unfinished bucket.
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list(with_state(tags, CREATING))})
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=_desired_encryption(key_arn))
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": tls_only_statements(names)}))
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [_desired_lifecycle_rule()]})
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list(with_state(tags, COMPLETE))})
        step.created("versioned, SSE-KMS, public access blocked, TLS-only, noncurrent versions expire")
        return

    current_tags = {t["Key"]: t["Value"] for t in unless_missing(lambda: s3.get_bucket_tagging(Bucket=bucket)["TagSet"], "NoSuchTagSet", [])}
    if half_built(current_tags, names.name):
        step.resume()
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    location = "eu-west-1" if location == "EU" else location
    if location != names.region:
        step.differs(f"bucket is in {location}, not {names.region}", None)

    status = s3.get_bucket_versioning(Bucket=bucket).get("Status", "never enabled")
    if status != "Enabled":
        step.differs(f"versioning is {status}, want Enabled",
                     lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}), resumable=True)

    _check_encryption(s3, names, step, key_arn)
    _check_public_access_block(s3, names, step)
    _check_ownership(s3, names, step)
    _check_policy(s3, names, step)
    _check_lifecycle(s3, names, step)
    if step.resumed():
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list({**current_tags, STATE_TAG: COMPLETE})})


def _check_encryption(s3, names: Names, step: Step, key_arn: str) -> None:
    bucket = names.state_bucket
    rule = default_encryption_rule(s3, bucket)
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    algorithm, key = default.get("SSEAlgorithm", "none"), default.get("KMSMasterKeyID")
    wrong = []
    if algorithm != "aws:kms":
        wrong.append(f"default encryption is {algorithm}, want aws:kms")
    elif key not in (key_arn, key_arn.rsplit("/", 1)[-1], names.key_alias, names.key_alias_arn):
        wrong.append(f"default encryption key is {key or 'the AWS-managed aws/s3 key'}, want {key_arn}")
    if algorithm == "aws:kms" and not rule.get("BucketKeyEnabled"):
        wrong.append("S3 bucket key is off, want on (fewer KMS requests)")
    if wrong:
        # Changes the default for new objects only; existing objects keep their encryption.
        step.differs("; ".join(wrong), lambda: s3.put_bucket_encryption(
            Bucket=bucket, ServerSideEncryptionConfiguration=_desired_encryption(key_arn)), resumable=True)


def _check_public_access_block(s3, names: Names, step: Step) -> None:
    bucket = names.state_bucket
    current = unless_missing(lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
                             "NoSuchPublicAccessBlockConfiguration", {})
    off = [flag for flag in PUBLIC_ACCESS_BLOCK if not current.get(flag)]
    if off:
        step.differs(f"public access block off: {', '.join(off)}",
                     lambda: s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK), resumable=True)


def _check_ownership(s3, names: Names, step: Step) -> None:
    bucket = names.state_bucket
    rules = unless_missing(lambda: s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"],
                           "OwnershipControlsNotFoundError", [])
    ownership = rules[0]["ObjectOwnership"] if rules else "none (ACLs enabled)"
    if ownership != "BucketOwnerEnforced":
        step.differs(f"object ownership is {ownership}, want BucketOwnerEnforced (ACLs disabled)",
                     lambda: s3.put_bucket_ownership_controls(
                         Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}))


def _check_policy(s3, names: Names, step: Step) -> None:
    bucket = names.state_bucket
    policy = unless_missing(lambda: json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]), "NoSuchBucketPolicy",
                            {"Version": "2012-10-17", "Statement": []})
    statements = policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    by_sid = {s.get("Sid"): s for s in statements}
    wanted = tls_only_statements(names)
    wrong = [s["Sid"] for s in wanted if s["Sid"] not in by_sid or canonical_policy({"Statement": [by_sid[s["Sid"]]]})
             != canonical_policy({"Statement": [s]})]
    if wrong:
        def merge() -> None:
            # Our statements replace theirs by Sid; everyone else's statements stay.
            kept = [s for s in statements if s.get("Sid") not in {w["Sid"] for w in wanted}]
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": kept + wanted}))

        step.differs(f"bucket policy lacks TLS-only statement(s) {', '.join(wrong)}", merge, resumable=True)


def _check_lifecycle(s3, names: Names, step: Step) -> None:
    bucket = names.state_bucket
    rules = unless_missing(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"], "NoSuchLifecycleConfiguration", [])
    wanted = _desired_lifecycle_rule()
    ours = next((r for r in rules if r.get("ID") == LIFECYCLE_RULE_ID), None)
    if ours is None or not _lifecycle_matches(ours, wanted):
        def merge() -> None:
            kept = [r for r in rules if r.get("ID") != LIFECYCLE_RULE_ID]
            s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": kept + [wanted]})

        what = "missing" if ours is None else "differs"
        step.differs(f"lifecycle rule {LIFECYCLE_RULE_ID} {what} (want noncurrent state versions to expire after "
                     f"{NONCURRENT_STATE_DAYS} days)", merge, resumable=True)
    for rule in rules:
        if rule.get("Status") == "Enabled" and rule.get("Expiration") and rule.get("ID") != LIFECYCLE_RULE_ID:
            step.differs(f"lifecycle rule {rule.get('ID')!r} expires current objects, which would delete live state; remove it", None)


def _lifecycle_matches(actual: dict, wanted: dict) -> bool:
    def shape(rule: dict) -> tuple:
        prefix = (rule.get("Filter") or {}).get("Prefix", rule.get("Prefix", ""))
        nve = rule.get("NoncurrentVersionExpiration") or {}
        abort = rule.get("AbortIncompleteMultipartUpload") or {}
        return (rule.get("Status"), prefix or "", nve.get("NoncurrentDays"), abort.get("DaysAfterInitiation"), bool(rule.get("Expiration")))

    return shape(actual) == shape(wanted)
