"""KMS key policies: automatic rotation, a deletion window long enough to undo a mistake, and no lockout-check bypass."""

from __future__ import annotations

from packlib import (
    KMS_KEY,
    KMS_KEY_TYPES,
    KMS_REPLICA_KEY,
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


# Every pulumi-aws type that can set a key policy, and with it bypassPolicyLockoutSafetyCheck.
KEY_POLICY_TYPES = (
    KMS_KEY,
    KMS_REPLICA_KEY,
    "aws:kms/externalKey:ExternalKey",
    "aws:kms/replicaExternalKey:ReplicaExternalKey",
    "aws:kms/keyPolicy:KeyPolicy",
)


@POLICIES.resource(
    "kms-no-lockout-bypass",
    "KMS key policies are never applied with bypassPolicyLockoutSafetyCheck.",
    types=KEY_POLICY_TYPES, category="security", severity=Severity.CRITICAL,
    remediation="Remove bypass_policy_lockout_safety_check (or set it to False) and fix the key policy so the principal applying it keeps kms:PutKeyPolicy.",
)
def _check_kms_lockout_bypass(args, report, cfg) -> None:
    if is_true(lookup(args.props, "bypassPolicyLockoutSafetyCheck")):
        report("bypassPolicyLockoutSafetyCheck is true: KMS skips its check that the caller can still manage the key after this policy, "
               "so one wrong policy can leave the key, and what it encrypts, unmanageable by anyone in the account; remove it.")
