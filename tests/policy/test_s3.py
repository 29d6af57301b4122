"""S3 policies through the real analyzer: pulumi-aws v7 split resources joined by propertyDependencies."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pulumi_aws as aws
import pytest

from components.iam.policy import Statement, policy_document
from tests.support.policy import evaluate, fired
from tests.support.stacks import stack_preview

S3_POLICIES = ("s3-public-access-block", "s3-sse-kms-cmk", "s3-access-log-target-sse-s3", "s3-versioning", "s3-tls-only", "s3-access-logging", "s3-no-public-acl-or-policy")


def tls_only(bucket: aws.s3.Bucket) -> pulumi.Output[str]:
    return policy_document([
        Statement(
            sid="DenyInsecureTransport", effect="Deny", actions=["s3:*"], principals={"AWS": "*"},
            resources=[bucket.arn, bucket.arn.apply(lambda arn: f"{arn}/*")],
            conditions={"Bool": {"aws:SecureTransport": "false"}},
        )
    ])


def secure_buckets(opts: pulumi.ResourceOptions, *, skip: frozenset[str] = frozenset(), bucket_cls=aws.s3.Bucket,
                   sse_cls=aws.s3.BucketServerSideEncryptionConfiguration, versioning_cls=aws.s3.BucketVersioning,
                   logging_cls=aws.s3.BucketLogging, log_sse: str = "AES256", pab_flags: dict | None = None) -> dict[str, aws.s3.Bucket]:
    """An artifact bucket and its access-log bucket, secured the way the storage component does it."""
    key = aws.kms.Key("key", enable_key_rotation=True, opts=opts)
    logs = bucket_cls("logs", opts=opts)
    data = bucket_cls("data", opts=opts)
    for name, bucket in (("logs", logs), ("data", data)):
        if "pab" not in skip:
            flags = {"block_public_acls": True, "block_public_policy": True, "ignore_public_acls": True, "restrict_public_buckets": True}
            if name == "data":
                flags.update(pab_flags or {})
            aws.s3.BucketPublicAccessBlock(f"{name}-pab", bucket=bucket.id, **flags, opts=opts)
        if "versioning" not in skip:
            versioning_cls(f"{name}-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=opts)
        if "tls" not in skip:
            aws.s3.BucketPolicy(f"{name}-policy", bucket=bucket.id, policy=tls_only(bucket), opts=opts)
    sse_cls("logs-sse", bucket=logs.id, rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": log_sse, **({"kms_master_key_id": key.arn} if log_sse != "AES256" else {})}}], opts=opts)
    if "sse" not in skip:
        algorithm = {"sse": "aws:kms", "sse-s3": "AES256", "sse-aws-key": "aws:kms"}
        default = {"sse_algorithm": "AES256"} if "sse-s3" in skip else {"sse_algorithm": algorithm["sse"], **({} if "sse-aws-key" in skip else {"kms_master_key_id": key.arn})}
        sse_cls("data-sse", bucket=data.id, rules=[{"apply_server_side_encryption_by_default": default, "bucket_key_enabled": True}], opts=opts)
    if "logging" not in skip:
        logging_cls("data-logging", bucket=data.id, target_bucket=logs.id, target_prefix="data/", opts=opts)
    return {"logs": logs, "data": data}


@pytest.mark.parametrize("unknowns", [False, True], ids=["known", "first-preview"])
def test_secure_buckets_pass_every_s3_policy(policy_pack, unknowns):
    report = evaluate(policy_pack, secure_buckets, unknowns=unknowns)
    for policy in S3_POLICIES:
        assert fired(report, policy) == [], policy
    # In a first preview the bucket policies embed the buckets' unknown ARNs: the SDK reports that
    # the policies reading them could not judge them (advisory), instead of passing silently.
    unknown = {v.policy for v in report.violations if v.unknown}
    assert unknown == ({"s3-tls-only", "s3-no-public-acl-or-policy"} if unknowns else set())


def test_deprecated_v7_twins_are_matched_too(policy_pack):
    def twins(opts):
        secure_buckets(opts, bucket_cls=aws.s3.BucketV2, sse_cls=aws.s3.BucketServerSideEncryptionConfigurationV2,
                       versioning_cls=aws.s3.BucketVersioningV2, logging_cls=aws.s3.BucketLoggingV2, skip=frozenset({"versioning"}))

    report = evaluate(policy_pack, twins)
    assert {v.urn.rsplit("::", 1)[-1] for v in report.by_policy("s3-versioning")} == {"data", "logs"}
    assert [v.urn.rsplit("::", 1)[-1] for v in report.by_policy("s3-access-logging")] == []
    assert report.by_policy("s3-sse-kms-cmk") == []


@pytest.mark.parametrize(
    ("skip", "policy", "fragment"),
    [
        ("pab", "s3-public-access-block", "has no BucketPublicAccessBlock"),
        ("sse", "s3-sse-kms-cmk", "no server-side encryption"),
        ("sse-s3", "s3-sse-kms-cmk", "default encryption AES256"),
        ("sse-aws-key", "s3-sse-kms-cmk", "AWS-managed aws/s3 key"),
        ("versioning", "s3-versioning", "is not versioned"),
        ("tls", "s3-tls-only", "aws:SecureTransport=false"),
        ("logging", "s3-access-logging", "has no server access logging"),
    ],
)
def test_each_missing_companion_resource_fires_its_policy_in_a_first_preview(policy_pack, skip, policy, fragment):
    # unknowns=True: bucket ids are unknown, so only propertyDependencies can join the resources.
    report = evaluate(policy_pack, lambda opts: secure_buckets(opts, skip=frozenset({skip})), unknowns=True)
    messages = fired(report, policy)
    assert messages and all(fragment in m for m in messages), report.by_policy(policy)
    assert all(v.level == "mandatory" for v in report.by_policy(policy))


def test_incomplete_public_access_block_names_the_flags_left_off(policy_pack):
    report = evaluate(policy_pack, lambda opts: secure_buckets(opts, pab_flags={"restrict_public_buckets": False, "ignore_public_acls": None}))
    [message] = fired(report, "s3-public-access-block")
    assert "ignorePublicAcls, restrictPublicBuckets" in message


def test_log_bucket_with_sse_kms_fires_because_log_delivery_cannot_use_it(policy_pack):
    report = evaluate(policy_pack, lambda opts: secure_buckets(opts, log_sse="aws:kms"))
    [message] = fired(report, "s3-access-log-target-sse-s3")
    assert "receives S3 server access logs" in message
    assert report.by_policy("s3-sse-kms-cmk") == []  # the log bucket is judged by its own rule


def test_public_acls_and_policies_fire_and_private_ones_pass(policy_pack):
    def public(opts):
        bucket = aws.s3.Bucket("site", opts=opts)
        aws.s3.BucketAcl("site-acl", bucket=bucket.id, acl="public-read", opts=opts)
        aws.s3.BucketPolicy("site-policy", bucket=bucket.id, policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}]}), opts=opts)

    def private(opts):
        bucket = aws.s3.Bucket("site", opts=opts)
        aws.s3.BucketAcl("site-acl", bucket=bucket.id, acl="private", opts=opts)
        aws.s3.BucketPolicy("site-policy", bucket=bucket.id, policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/reader"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}]}), opts=opts)

    bad = evaluate(policy_pack, public, env="dev")
    assert {v.urn.rsplit("::", 1)[-1] for v in bad.by_policy("s3-no-public-acl-or-policy")} == {"site-acl", "site-policy"}
    # Public data is critical: mandatory even in dev.
    assert all(v.level == "mandatory" for v in bad.by_policy("s3-no-public-acl-or-policy"))
    assert evaluate(policy_pack, private, env="dev").by_policy("s3-no-public-acl-or-policy") == []


def test_bucket_policy_unknown_in_preview_is_reported_not_passed(policy_pack):
    """A bucket policy document that embeds an unknown ARN cannot be judged: the SDK says so."""

    def program(opts):
        bucket = aws.s3.Bucket("data", opts=opts)
        aws.s3.BucketPolicy("data-policy", bucket=bucket.id, policy=tls_only(bucket), opts=opts)

    report = evaluate(policy_pack, program, unknowns=True)
    tls = report.by_policy("s3-tls-only")
    assert tls and all(v.unknown and v.level == "advisory" for v in tls)
    assert "can't be known during preview" in tls[0].message


def replicated(opts: pulumi.ResourceOptions, *, replica_logs: bool) -> None:
    """The secure buckets, with ``data`` replicated to a bucket in another region; that replica
    logs to its own SSE-S3 log bucket in its region when ``replica_logs``."""
    data = secure_buckets(opts)["data"]
    replica = aws.s3.Bucket("replica", region="us-west-2", opts=opts)
    role = aws.iam.Role("replication", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]}), opts=opts)
    aws.s3.BucketReplicationConfig("replication", bucket=data.id, role=role.arn, rules=[{"id": "all", "status": "Enabled", "filter": {}, "delete_marker_replication": {"status": "Disabled"}, "destination": {"bucket": replica.arn}}], opts=opts)
    if replica_logs:
        logs = aws.s3.Bucket("replica-logs", region="us-west-2", opts=opts)
        aws.s3.BucketServerSideEncryptionConfiguration("replica-logs-sse", bucket=logs.id, region="us-west-2", rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=opts)
        aws.s3.BucketLogging("replica-logging", bucket=replica.id, target_bucket=logs.id, target_prefix="artifacts/", region="us-west-2", opts=opts)


@pytest.mark.parametrize("unknowns", [False, True], ids=["known", "first-preview"])
@pytest.mark.parametrize(("env", "level"), [("dev", "advisory"), ("staging", "mandatory"), ("prod", "mandatory")])
def test_replication_destination_without_access_logging_fires_in_every_environment(policy_pack, env, level, unknowns):
    """No exemption for cross-region replicas (prod used to have one): they log in their own region."""
    report = evaluate(policy_pack, lambda opts: replicated(opts, replica_logs=False), env=env, unknowns=unknowns)
    violations = report.by_policy("s3-access-logging")
    assert [v.urn.rsplit("::", 1)[-1] for v in violations] == ["replica"]
    assert [v.level for v in violations] == [level]
    assert "has no server access logging" in violations[0].message


@pytest.mark.parametrize("unknowns", [False, True], ids=["known", "first-preview"])
def test_replication_destination_with_its_own_regional_log_bucket_passes(policy_pack, unknowns):
    report = evaluate(policy_pack, lambda opts: replicated(opts, replica_logs=True), unknowns=unknowns)
    assert report.by_policy("s3-access-logging") == []
    # The replica's log bucket is recognised as a log target: SSE-S3 is right for it, not a finding.
    assert report.by_policy("s3-access-log-target-sse-s3") == []
    assert "replica-logs" not in {v.urn.rsplit("::", 1)[-1] for v in report.by_policy("s3-sse-kms-cmk")}


def test_the_replication_destination_exemption_is_gone_from_the_pack(policy_pack):
    from mlopsctl.offline.policycheck.config import PolicyPackError, config_path, load_config_file, reconcile_config

    info = policy_pack("prod").info
    assert reconcile_config(info, load_config_file(config_path("prod")))["s3-access-logging"] == ("mandatory", {"exemptNamePatterns": []})
    with pytest.raises(PolicyPackError, match="s3-access-logging.exemptReplicationDestinations: Additional properties are not allowed"):
        reconcile_config(info, {"s3-access-logging": {"exemptReplicationDestinations": True}})


@pytest.mark.parametrize("unknowns", [False, True], ids=["known", "first-preview"])
def test_prod_passes_access_logging_because_the_replica_logs_and_fires_without_its_logging(policy_pack, unknowns):
    """The real prod stack: every bucket logs (or is a log target), with no exemption configured;
    take the replica's BucketLogging away and the pack blocks it."""
    recording = stack_preview("prod", unknowns=unknowns).recording
    assert policy_pack("prod").analyze(recording).by_policy("s3-access-logging") == []

    replica = next(r for r in recording.of_type("aws:s3/bucket:Bucket") if r.name == "mlops-platform-artifacts-replica")
    logging = [r for r in recording.of_type("aws:s3/bucketLogging:BucketLogging") if r.propertyDependencies.get("bucket") == [replica.urn]]
    assert [r.name for r in logging] == ["mlops-platform-artifacts-replica-logging"]
    without = dataclasses.replace(recording, resources=[r for r in recording.resources if r.urn != logging[0].urn])
    violations = policy_pack("prod").analyze(without).by_policy("s3-access-logging")
    # The replica is blocked; its log bucket, now receiving nothing, is no longer a log target.
    orphan = replica.urn.replace("::mlops-platform-artifacts-replica", "::mlops-platform-artifacts-replica-access-logs")
    assert sorted((v.urn, v.level) for v in violations) == [(replica.urn, "mandatory"), (orphan, "mandatory")]
