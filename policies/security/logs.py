"""CloudWatch Logs policies: a retention period on every log group, a customer-managed key where required."""

from __future__ import annotations

from packlib import (
    LOG_GROUP,
    MISSING,
    PolicyList,
    Severity,
    checkov,
    is_set,
    lookup,
    number,
)

POLICIES = PolicyList()


@POLICIES.resource(
    "log-group-retention",
    "CloudWatch log groups set a retention period (at least the configured minimum).",
    types=(LOG_GROUP,), category="security", severity=Severity.MEDIUM,
    config={"minRetentionDays": {"type": "integer", "minimum": 1, "default": 1, "description": "Minimum retentionInDays."}},
    remediation="Set retention_in_days to a CloudWatch-supported value at or above the minimum.",
    frameworks=[checkov("CKV_AWS_66", "Ensure that CloudWatch Log Group specifies retention days")],
)
def _check_log_retention(args, report, cfg) -> None:
    days = number(lookup(args.props, "retentionInDays"))
    minimum = cfg("minRetentionDays")
    if days is None or days <= 0:
        report("retentionInDays is unset or 0: logs never expire. Set a retention period.")
    elif days < minimum:
        report(f"retentionInDays is {days:g}; at least {minimum:g} days are required here.")


@POLICIES.resource(
    "log-group-kms",
    "CloudWatch log groups that require it are encrypted with a customer-managed KMS key.",
    types=(LOG_GROUP,), category="security", severity=Severity.MEDIUM,
    config={
        "requireKms": {"type": "boolean", "default": False, "description": "Require kmsKeyId on matching log groups."},
        "namePrefixes": {"type": "array", "items": {"type": "string"}, "default": [], "description": "Log-group name prefixes the requirement applies to (empty: all)."},
    },
    remediation="Set kms_key_id to a CMK whose key policy allows logs.<region>.amazonaws.com.",
    frameworks=[checkov("CKV_AWS_158", "Ensure that CloudWatch Log Group is encrypted by KMS")],
)
def _check_log_kms(args, report, cfg) -> None:
    if not cfg("requireKms"):
        return
    name = lookup(args.props, "name")
    if name is MISSING:
        name = lookup(args.props, "namePrefix")
    prefixes = cfg("namePrefixes") or []
    if prefixes and not (isinstance(name, str) and name.startswith(tuple(prefixes))):
        return
    if not is_set(args.props, "kmsKeyId"):
        report("the log group is not encrypted with a customer-managed KMS key (kmsKeyId).")
