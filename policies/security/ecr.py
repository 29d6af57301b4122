"""ECR repository policies: scan on push, immutable tags, a customer-managed key."""

from __future__ import annotations

from packlib import (
    ECR_REPOSITORY,
    MISSING,
    PolicyList,
    Severity,
    as_list,
    checkov,
    is_set,
    is_true,
    lookup,
)

POLICIES = PolicyList()


@POLICIES.resource(
    "ecr-scan-on-push",
    "ECR repositories scan images on push.",
    types=(ECR_REPOSITORY,), category="security", severity=Severity.MEDIUM,
    remediation="Set image_scanning_configuration={'scan_on_push': True}.",
    frameworks=[checkov("CKV_AWS_163", "Ensure ECR image scanning on push is enabled")],
)
def _check_ecr_scan_on_push(args, report, cfg) -> None:
    if not is_true(lookup(args.props, "imageScanningConfiguration", "scanOnPush")):
        report("imageScanningConfiguration.scanOnPush is not true.")


@POLICIES.resource(
    "ecr-immutable-tags",
    "ECR repositories use immutable image tags.",
    types=(ECR_REPOSITORY,), category="security", severity=Severity.MEDIUM,
    remediation="Set image_tag_mutability='IMMUTABLE'.",
    frameworks=[checkov("CKV_AWS_51", "Ensure ECR Image Tags are immutable")],
)
def _check_ecr_immutable(args, report, cfg) -> None:
    mutability = lookup(args.props, "imageTagMutability")
    if mutability not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
        report(f"imageTagMutability is {mutability if mutability is not MISSING else 'unset (AWS default: MUTABLE)'}; set IMMUTABLE.")


@POLICIES.resource(
    "ecr-kms-encryption",
    "ECR repositories are encrypted with a customer-managed KMS key.",
    types=(ECR_REPOSITORY,), category="security", severity=Severity.MEDIUM,
    remediation="Set encryption_configurations=[{'encryption_type': 'KMS', 'kms_key': <CMK ARN>}].",
    frameworks=[checkov("CKV_AWS_136", "Ensure that ECR repositories are encrypted using KMS")],
)
def _check_ecr_kms(args, report, cfg) -> None:
    configurations = as_list(lookup(args.props, "encryptionConfigurations"))
    if not any(lookup(c, "encryptionType") == "KMS" and is_set(c, "kmsKey") for c in configurations):
        report("the repository is not encrypted with a customer-managed KMS key (encryptionConfigurations: encryptionType KMS + kmsKey).")
