"""EKS control-plane policies: secrets encryption, audit logs, a private API endpoint, a supported Kubernetes version."""

from __future__ import annotations

from awsfacts import clock, eks_versions
from packlib import (
    EKS_CLUSTER,
    MISSING,
    PolicyList,
    Severity,
    as_list,
    checkov,
    is_set,
    is_true,
    lookup,
)
from pulumi_policy import EnforcementLevel

POLICIES = PolicyList()

WORLD_CIDRS = ("0.0.0.0/0", "::/0")


@POLICIES.resource(
    "eks-secrets-encryption",
    "EKS clusters envelope-encrypt Kubernetes secrets with a customer-managed KMS key.",
    types=(EKS_CLUSTER,), category="security", severity=Severity.CRITICAL,
    remediation="Set encryption_config={'resources': ['secrets'], 'provider': {'key_arn': <CMK ARN>}}.",
    frameworks=[checkov("CKV_AWS_58", "Ensure EKS Cluster has Secrets Encryption Enabled")],
)
def _check_eks_secrets_encryption(args, report, cfg) -> None:
    resources = as_list(lookup(args.props, "encryptionConfig", "resources"))
    if "secrets" not in resources or not is_set(args.props, "encryptionConfig", "provider", "keyArn"):
        report("Kubernetes secrets are not envelope-encrypted with a customer-managed KMS key (encryptionConfig.resources=['secrets'], provider.keyArn).")


@POLICIES.resource(
    "eks-control-plane-logging",
    "EKS control-plane audit (and API, authenticator) logs are enabled.",
    types=(EKS_CLUSTER,), category="security", severity=Severity.HIGH,
    config={"requiredLogTypes": {"type": "array", "items": {"type": "string", "enum": ["api", "audit", "authenticator", "controllerManager", "scheduler"]}, "default": ["api", "audit", "authenticator"]}},
    remediation="Set enabled_cluster_log_types to include the required types and give the /aws/eks/<cluster>/cluster log group a retention.",
    frameworks=[checkov("CKV_AWS_37", "Ensure Amazon EKS control plane logging enabled for all log types")],
)
def _check_eks_audit_logging(args, report, cfg) -> None:
    enabled = set(as_list(lookup(args.props, "enabledClusterLogTypes")))
    missing = [t for t in cfg("requiredLogTypes") if t not in enabled]
    if missing:
        report(f"control-plane log types {missing} are not enabled (enabledClusterLogTypes).")


@POLICIES.resource(
    "eks-no-public-endpoint",
    "The EKS API server is not reachable from 0.0.0.0/0 (and not public at all where configured).",
    types=(EKS_CLUSTER,), category="security", severity=Severity.HIGH,
    config={"allowPublicEndpoint": {"type": "boolean", "default": True, "description": "Permit a public endpoint restricted to specific CIDRs."}},
    remediation="Set vpc_config endpoint_public_access=False (endpoint_private_access=True), or list specific public_access_cidrs where a public endpoint is allowed.",
    frameworks=[checkov("CKV_AWS_38", "Ensure Amazon EKS public endpoint not accessible to 0.0.0.0/0"), checkov("CKV_AWS_39", "Ensure Amazon EKS public endpoint disabled")],
)
def _check_eks_public_endpoint(args, report, cfg) -> None:
    public = lookup(args.props, "vpcConfig", "endpointPublicAccess")
    if public is not MISSING and not is_true(public):
        return
    cidrs = lookup(args.props, "vpcConfig", "publicAccessCidrs")
    cidrs = list(WORLD_CIDRS[:1]) if cidrs is MISSING else as_list(cidrs)
    source = "" if public is not MISSING else " (endpointPublicAccess is unset: AWS makes the endpoint public)"
    if not cfg("allowPublicEndpoint"):
        report(f"the API server endpoint is public{source}; set vpcConfig.endpointPublicAccess=false and reach it through the VPC.")
    elif any(c in WORLD_CIDRS for c in cidrs):
        report(f"the public API server endpoint is open to {', '.join(c for c in cidrs if c in WORLD_CIDRS)}{source}; list specific publicAccessCidrs.")


@POLICIES.resource(
    "eks-supported-version",
    "EKS clusters run a Kubernetes version in EKS standard or extended support.",
    types=(EKS_CLUSTER,), category="security", severity=Severity.MEDIUM,
    remediation="Upgrade `version` one minor at a time to a supported release (policies/awsfacts/eks_versions.json lists the lifecycle).",
    frameworks=[checkov("CKV_AWS_339", "Ensure EKS clusters run on a supported Kubernetes version")],
)
def _check_eks_supported_version(args, report, cfg) -> None:
    version = lookup(args.props, "version")
    if version is MISSING:
        return  # EKS picks the current default version
    supported = eks_versions.supported()
    if version not in supported:
        report(f"Kubernetes {version} is not in EKS standard or extended support on {clock.today()}; supported: {', '.join(supported)}.")


STANDARD_SUPPORT_WARNING_DAYS = 60


@POLICIES.resource(
    "eks-standard-support-ending",
    "Under upgradePolicy STANDARD, warn before EKS force-upgrades the control plane at the end of standard support.",
    types=(EKS_CLUSTER,), category="reliability", severity=Severity.MEDIUM,
    level=EnforcementLevel.ADVISORY,
    config={"warningDays": {"type": "integer", "minimum": 0, "default": STANDARD_SUPPORT_WARNING_DAYS, "description": "Warn from this many days before the end of standard support."}},
    remediation="Bump eks.version by one minor (its pins must exist in components/data/eks_addons.json) before the date, or set eks.upgradePolicy to EXTENDED.",
)
def _check_eks_forced_upgrade(args, report, cfg) -> None:
    """Under ``upgradePolicy.supportType: STANDARD`` EKS upgrades the control plane itself when
    standard support ends, outside Pulumi: node groups, addons and pins are left behind."""
    version = lookup(args.props, "version")
    support_type = lookup(args.props, "upgradePolicy", "supportType")
    if version is MISSING or support_type != "STANDARD":
        return
    lifecycle = eks_versions.lookup(str(version))
    if lifecycle is None:
        return  # eks-supported-version reports it
    forced = lifecycle.end_of_standard_support
    days_left = (forced - clock.today()).days
    warning_days = int(cfg("warningDays"))
    if days_left > warning_days:
        return
    when = f"in {days_left} days, on {forced}" if days_left > 0 else f"since {forced}"
    report(
        f"Kubernetes {version} leaves EKS standard support {when}; with upgradePolicy STANDARD, EKS upgrades the control plane "
        f"itself then, outside Pulumi. Upgrade `version` one minor (control plane, then addons, then node groups) before {forced}, "
        "or choose EXTENDED support (billed at the extended rate)."
    )
