"""S3 security policies.

Cross-resource: pulumi-aws v7 splits a bucket's settings into separate resources, whose ``bucket``
input is unknown in a first preview, so most checks are stack policies that join them to their
bucket through ``propertyDependencies``.
"""

from __future__ import annotations

from typing import Any

from awsfacts.resource_types import ACCOUNT_PUBLIC_ACCESS_BLOCK
from packlib import (
    BUCKET_ACL_TYPES,
    BUCKET_LOGGING_TYPES,
    BUCKET_PAB_TYPES,
    BUCKET_POLICY_TYPES,
    BUCKET_SSE_TYPES,
    BUCKET_TYPES,
    BUCKET_VERSIONING_TYPES,
    MISSING,
    PolicyList,
    Severity,
    as_list,
    checkov,
    cis,
    dependents,
    each,
    is_set,
    is_true,
    json_input,
    lookup,
    matches_any,
    of_types,
    principals,
    resource_label,
    statement_values,
    statements,
)

POLICIES = PolicyList()

PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GRANTEE_URIS = ("http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
KMS_SSE_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def access_log_targets(resources: list) -> set[str]:
    """URNs of buckets that receive S3 server access logs (targets of a BucketLogging)."""
    targets: set[str] = set()
    for bucket in of_types(resources, BUCKET_TYPES):
        if dependents(bucket, resources, BUCKET_LOGGING_TYPES, key="targetBucket"):
            targets.add(bucket.urn)
        elif any(_inline_log_target(b, bucket) for b in of_types(resources, BUCKET_TYPES)):
            targets.add(bucket.urn)
    return targets


def _inline_log_target(source: Any, target: Any) -> bool:
    # Deprecated inline `logging` on a bucket; joined by its dependency or by literal name.
    if not is_set(source.props, "logging"):
        return False
    deps = source.property_dependencies.get("logging") or []
    return any(d.urn == target.urn for d in deps)


def _sse_rules(resource: Any) -> list:
    return as_list(lookup(resource.props, "rules"))


@POLICIES.stack(
    "s3-public-access-block",
    "Every S3 bucket has a public access block with all four settings on.",
    category="security", severity=Severity.CRITICAL,
    remediation="Add aws.s3.BucketPublicAccessBlock(bucket=bucket.id, block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True).",
    frameworks=[checkov("CKV_AWS_53", "Ensure S3 bucket has block public ACLS enabled")],
)
def _check_s3_public_access_block(args, report, cfg) -> None:
    account_level = [r for r in args.resources if r.resource_type == ACCOUNT_PUBLIC_ACCESS_BLOCK and all(is_true(lookup(r.props, f)) for f in PAB_FLAGS)]
    if account_level:
        return

    def check(bucket) -> None:
        blocks = dependents(bucket, args.resources, BUCKET_PAB_TYPES)
        if not blocks:
            report(f"{resource_label(bucket)} has no BucketPublicAccessBlock; add one with all four flags true.", bucket.urn)
        for block in blocks:
            off = [f for f in PAB_FLAGS if not is_true(lookup(block.props, f))]
            if off:
                report(f"{resource_label(bucket)}: public access block '{block.name}' leaves {', '.join(off)} unset or false (the AWS default is false).", bucket.urn)

    each(of_types(args.resources, BUCKET_TYPES), check)


def _public_policy_statements(document: Any) -> list[dict]:
    return [s for s in statements(document) if s.get("Effect") == "Allow" and "*" in principals(s) and not s.get("Condition")]


@POLICIES.resource(
    "s3-no-public-acl-or-policy",
    "No S3 bucket ACL or bucket policy grants access to everyone.",
    types=BUCKET_TYPES + BUCKET_ACL_TYPES + BUCKET_POLICY_TYPES, category="security", severity=Severity.CRITICAL,
    remediation="Remove public canned ACLs and AllUsers/AuthenticatedUsers grants; give bucket-policy statements specific principals or conditions.",
    frameworks=[checkov("CKV_AWS_20", "S3 Bucket has an ACL defined which allows public READ access")],
)
def _check_s3_no_public_access(args, report, cfg) -> None:
    props = args.props
    if args.resource_type in BUCKET_TYPES + BUCKET_ACL_TYPES:
        acl = lookup(props, "acl")
        if acl in PUBLIC_CANNED_ACLS:
            report(f"canned ACL '{acl}' makes the bucket's objects public; use private (or BucketOwnerEnforced ownership).")
        for grant in as_list(lookup(props, "accessControlPolicy", "grants")):
            uri = lookup(grant, "grantee", "uri")
            if uri in PUBLIC_GRANTEE_URIS:
                report(f"an ACL grant gives {lookup(grant, 'permission')} to {uri.rsplit('/', 1)[-1]}.")
    if args.resource_type in BUCKET_TYPES + BUCKET_POLICY_TYPES:
        document = json_input(props, "policy")
        for statement in _public_policy_statements(document):
            report(f"bucket policy statement {statement.get('Sid') or ''} allows {statement_values(statement, 'Action')} to any principal without a condition.".replace("  ", " "))


@POLICIES.stack(
    "s3-sse-kms-cmk",
    "Every S3 bucket (except access-log targets) defaults to SSE-KMS with a customer-managed key.",
    category="security", severity=Severity.HIGH,
    remediation="Add aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm='aws:kms', kms_master_key_id=<CMK ARN> and bucket_key_enabled=True.",
    frameworks=[checkov("CKV_AWS_145", "Ensure that S3 buckets are encrypted with KMS by default"), cis("1.4.0", "2.1.1", "Ensure all S3 buckets employ encryption-at-rest")],
)
def _check_s3_sse_kms(args, report, cfg) -> None:
    log_targets = access_log_targets(args.resources)

    def check(bucket) -> None:
        rules = [rule for sse in dependents(bucket, args.resources, BUCKET_SSE_TYPES) for rule in _sse_rules(sse)]
        inline = lookup(bucket.props, "serverSideEncryptionConfiguration", "rule")
        if inline is not MISSING:
            rules.append(inline)
        if not rules:
            report(f"{resource_label(bucket)} has no server-side encryption configuration with a customer-managed KMS key.", bucket.urn)
        for rule in rules:
            algorithm = lookup(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
            if algorithm not in KMS_SSE_ALGORITHMS:
                report(f"{resource_label(bucket)} uses default encryption {algorithm if algorithm is not MISSING else 'AES256'}; use aws:kms with a customer-managed key.", bucket.urn)
            elif not is_set(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"):
                report(f"{resource_label(bucket)} uses SSE-KMS with the AWS-managed aws/s3 key; set kmsMasterKeyId to a customer-managed key.", bucket.urn)

    # Access-log targets are judged by s3-access-log-target-sse-s3: log delivery cannot use SSE-KMS.
    each([b for b in of_types(args.resources, BUCKET_TYPES) if b.urn not in log_targets], check)


@POLICIES.stack(
    "s3-access-log-target-sse-s3",
    "Buckets that receive S3 server access logs use SSE-S3 (log delivery cannot write SSE-KMS objects).",
    category="security", severity=Severity.MEDIUM,
    remediation="Give the access-log bucket sse_algorithm='AES256'.",
)
def _check_s3_log_target_sse_s3(args, report, cfg) -> None:
    log_targets = access_log_targets(args.resources)

    def check(bucket) -> None:
        for sse in dependents(bucket, args.resources, BUCKET_SSE_TYPES):
            for rule in _sse_rules(sse):
                algorithm = lookup(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
                if algorithm in KMS_SSE_ALGORITHMS:
                    report(f"{resource_label(bucket)} receives S3 server access logs but uses {algorithm}; log delivery writes without KMS headers, so use AES256 (SSE-S3).", bucket.urn)

    each([b for b in of_types(args.resources, BUCKET_TYPES) if b.urn in log_targets], check)


@POLICIES.stack(
    "s3-versioning",
    "Every S3 bucket has versioning enabled.",
    category="security", severity=Severity.MEDIUM,
    config={"exemptAccessLogTargets": {"type": "boolean", "default": False, "description": "Skip buckets that only receive access logs."}},
    remediation="Add aws.s3.BucketVersioning(bucket=bucket.id, versioning_configuration={'status': 'Enabled'}).",
    frameworks=[checkov("CKV_AWS_21", "Ensure all data stored in the S3 bucket have versioning enabled")],
)
def _check_s3_versioning(args, report, cfg) -> None:
    exempt_logs = cfg("exemptAccessLogTargets")
    log_targets = access_log_targets(args.resources)

    def check(bucket) -> None:
        statuses = [lookup(v.props, "versioningConfiguration", "status") for v in dependents(bucket, args.resources, BUCKET_VERSIONING_TYPES)]
        if is_true(lookup(bucket.props, "versioning", "enabled")):
            statuses.append("Enabled")
        if "Enabled" not in statuses:
            found = ", ".join(str(s) for s in statuses if s is not MISSING) or "no BucketVersioning"
            report(f"{resource_label(bucket)} is not versioned ({found}); add a BucketVersioning with status Enabled.", bucket.urn)

    each([b for b in of_types(args.resources, BUCKET_TYPES) if not (exempt_logs and b.urn in log_targets)], check)


def _denies_insecure_transport(document: Any) -> bool:
    for statement in statements(document):
        if statement.get("Effect") != "Deny" or "*" not in principals(statement):
            continue
        if not set(statement_values(statement, "Action")) & {"s3:*", "*"}:
            continue
        condition = statement.get("Condition") or {}
        secure = (condition.get("Bool") or {}).get("aws:SecureTransport")
        if str(secure).lower() == "false":
            return True
    return False


@POLICIES.stack(
    "s3-tls-only",
    "Every S3 bucket policy denies requests that do not use TLS.",
    category="security", severity=Severity.HIGH,
    remediation="Add a Deny statement for Principal '*', Action 's3:*' on the bucket and its objects with Condition Bool aws:SecureTransport=false.",
    frameworks=[cis("3.0.0", "2.1.1", "Ensure S3 Bucket Policy is set to deny HTTP requests")],
)
def _check_s3_tls_only(args, report, cfg) -> None:

    def check(bucket) -> None:
        documents = [json_input(p.props, "policy") for p in dependents(bucket, args.resources, BUCKET_POLICY_TYPES)]
        inline = json_input(bucket.props, "policy")
        if inline is not MISSING:
            documents.append(inline)
        if not any(_denies_insecure_transport(d) for d in documents):
            report(f"{resource_label(bucket)} has no bucket policy denying requests with aws:SecureTransport=false.", bucket.urn)

    each(of_types(args.resources, BUCKET_TYPES), check)


@POLICIES.stack(
    "s3-access-logging",
    "Every S3 bucket (other than access-log targets) has server access logging.",
    category="security", severity=Severity.MEDIUM,
    config={"exemptNamePatterns": {"type": "array", "items": {"type": "string"}, "default": [], "description": "Regexes of resource names exempt from access logging."}},
    remediation="Add aws.s3.BucketLogging(bucket=bucket.id, target_bucket=<log bucket>.id, target_prefix='<bucket>/').",
    frameworks=[checkov("CKV_AWS_18", "Ensure the S3 bucket has access logging enabled")],
)
def _check_s3_access_logging(args, report, cfg) -> None:
    log_targets = access_log_targets(args.resources)
    exempt = cfg("exemptNamePatterns") or []
    for bucket in of_types(args.resources, BUCKET_TYPES):
        if bucket.urn in log_targets or matches_any(bucket.name, exempt):
            continue
        if dependents(bucket, args.resources, BUCKET_LOGGING_TYPES) or is_set(bucket.props, "logging"):
            continue
        report(f"{resource_label(bucket)} has no server access logging; add a BucketLogging to the access-log bucket.", bucket.urn)
