"""KMS key policies: automatic rotation and a deletion window long enough to undo a mistake."""

from __future__ import annotations

from packlib import (
    KMS_KEY_TYPES,
    MISSING,
    PolicyList,
    Severity,
    checkov,
    is_true,
    lookup,
    number,
)

POLICIES = PolicyList()


@POLICIES.resource(
    "kms-key-rotation",
    "Symmetric KMS keys rotate their key material automatically.",
    types=KMS_KEY_TYPES, category="security", severity=Severity.HIGH,
    remediation="Set enable_key_rotation=True on the aws.kms.Key.",
    frameworks=[checkov("CKV_AWS_7", "Ensure rotation for customer created CMKs is enabled")],
)
def _check_kms_rotation(args, report, cfg) -> None:
    spec = lookup(args.props, "customerMasterKeySpec")
    if spec is MISSING:
        spec = lookup(args.props, "keySpec")
    if spec not in (MISSING, "SYMMETRIC_DEFAULT"):
        return  # AWS rotates only symmetric encryption keys
    if not is_true(lookup(args.props, "enableKeyRotation")):
        report("enableKeyRotation is not true (AWS default: off); set enable_key_rotation=True.")


@POLICIES.resource(
    "kms-deletion-window",
    "KMS keys keep a deletion window long enough to undo a mistaken deletion.",
    types=KMS_KEY_TYPES, category="security", severity=Severity.MEDIUM,
    config={"minDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 7, "description": "Minimum deletionWindowInDays."}},
    remediation="Set deletion_window_in_days to at least the configured minimum (30 in staging and prod).",
)
def _check_kms_deletion_window(args, report, cfg) -> None:
    days = number(lookup(args.props, "deletionWindowInDays"))
    if days is None:
        return  # AWS default: 30 days
    minimum = cfg("minDays")
    if days < minimum:
        report(f"deletionWindowInDays is {days:g}; at least {minimum:g} days are required here (7..30 allowed by AWS).")
