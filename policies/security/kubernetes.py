"""Kubernetes policies (layer 2): Pod Security Admission on namespaces, no API tokens for service accounts that need none.

Both read the objects' own inputs. Objects a Helm release renders (Cluster Autoscaler's service
account, the device plugin's DaemonSet) are inside the release and not seen here.
"""

from __future__ import annotations

from awsfacts.resource_types import KUBERNETES_NAMESPACE, KUBERNETES_SERVICE_ACCOUNT
from packlib import MISSING, PolicyList, Severity, lookup

POLICIES = PolicyList()

# Pod Security Standards, least to most restrictive (the values PSA accepts for its labels).
POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")
ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"


def _name(args, key: str = "name") -> str | None:
    value = lookup(args.props, "metadata", key)
    return value if isinstance(value, str) else None


@POLICIES.resource(
    "k8s-namespace-pod-security",
    "Namespaces enforce a Pod Security Standard: at least baseline, restricted where configured.",
    types=(KUBERNETES_NAMESPACE,), category="security", severity=Severity.HIGH,
    config={"restrictedNamespaces": {"type": "array", "items": {"type": "string"}, "default": [],
                                     "description": "Namespaces whose workloads must meet the restricted standard."}},
    remediation=f"Label the namespace {ENFORCE_LABEL}: baseline (restricted where listed), and set audit and warn to restricted.",
)
def _check_namespace_pod_security(args, report, cfg) -> None:
    name = _name(args)
    required = "restricted" if name in cfg("restrictedNamespaces") else "baseline"
    level = lookup(args.props, "metadata", "labels", ENFORCE_LABEL)
    shown = f"namespace {name or args.name}"
    if level is MISSING:
        report(f"{shown} has no {ENFORCE_LABEL} label, so the cluster's default applies, which on EKS is privileged: any pod is "
               f"admitted, privileged or on the host's network; set it to {required}.")
    elif level not in POD_SECURITY_LEVELS:
        report(f"{shown}: {ENFORCE_LABEL} is {level!r}, not one of {', '.join(POD_SECURITY_LEVELS)}; set it to {required}.")
    elif POD_SECURITY_LEVELS.index(level) < POD_SECURITY_LEVELS.index(required):
        report(f"{shown} enforces {level}; {required} is required here.")


@POLICIES.resource(
    "k8s-service-account-no-token-automount",
    "Service accounts that need no Kubernetes API access set automountServiceAccountToken: false.",
    types=(KUBERNETES_SERVICE_ACCOUNT,), category="security", severity=Severity.MEDIUM,
    config={"apiAccessServiceAccounts": {"type": "array", "items": {"type": "string"}, "default": [],
                                         "description": "<namespace>/<name> of service accounts whose pods call the Kubernetes API."}},
    remediation="Set automount_service_account_token=False on the ServiceAccount (EKS Pod Identity brings its own token); "
                "a workload that calls the Kubernetes API is listed in apiAccessServiceAccounts in policies/config/<env>.json.",
)
def _check_service_account_token(args, report, cfg) -> None:
    namespace, name = _name(args, "namespace") or "default", _name(args) or args.name
    if f"{namespace}/{name}" in cfg("apiAccessServiceAccounts"):
        return
    automount = lookup(args.props, "automountServiceAccountToken")
    if automount is not False:
        value = "unset (Kubernetes default: true)" if automount is MISSING else repr(automount)
        report(f"service account {namespace}/{name}: automountServiceAccountToken is {value}, so every pod using it gets a "
               "Kubernetes API token; set it to false, or list the account in apiAccessServiceAccounts if its pods call the API.")
