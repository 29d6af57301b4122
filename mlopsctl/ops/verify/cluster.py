"""The EKS cluster's checks and each configured node group's."""

from __future__ import annotations

from typing import Any

from components.config import GPU_TAINT_EFFECT, GPU_TAINT_KEY, GPU_TAINT_VALUE
from mlopsctl.ops.verify.checks import Checks, compared, memo

# Control-plane log types the platform enables at least; a stack may enable more.
REQUIRED_CLUSTER_LOG_TYPES = ("api", "audit", "authenticator")
GPU_TAINT = {"key": GPU_TAINT_KEY, "value": GPU_TAINT_VALUE, "effect": GPU_TAINT_EFFECT}


def verify_cluster(v: Checks, section: dict) -> None:
    eks = v.clients.client("eks")
    name = section["name"]
    resource = f"eks cluster {name}"
    cluster = memo(lambda: eks.describe_cluster(name=name)["cluster"])

    def status():
        s = cluster().get("status")
        return compared(s, "ACTIVE", f"status {s}", ", want ACTIVE")

    def version():
        actual, expected = cluster().get("version"), v.config.eks.version
        return compared(actual, expected, f"Kubernetes {actual}", f", config says {expected}")

    def logging():
        enabled = {t for entry in cluster().get("logging", {}).get("clusterLogging", []) if entry.get("enabled")
                   for t in entry.get("types", [])}
        missing = [t for t in REQUIRED_CLUSTER_LOG_TYPES if t not in enabled]
        return not missing, (f"control-plane logs {', '.join(sorted(enabled))}" if not missing
                             else f"control-plane log types off: {', '.join(missing)}")

    def encryption():
        for entry in cluster().get("encryptionConfig", []) or []:
            if "secrets" in entry.get("resources", []) and entry.get("provider", {}).get("keyArn"):
                return True, f"secrets envelope-encrypted with {entry['provider']['keyArn']}"
        return False, "Kubernetes secrets are not envelope-encrypted with a KMS key"

    v.check("cluster.status", resource, status)
    v.check("cluster.version", resource, version)
    v.check("cluster.logging", resource, logging)
    v.check("cluster.secretsEncryption", resource, encryption)
    _verify_node_groups(v, name, section["nodeGroups"])


def _expected_node_groups(v: Checks) -> dict[str, Any]:
    eks = v.config.eks
    return {"system": eks.system_node_group, **{g.name: g for g in eks.gpu_node_groups}}


def _verify_node_groups(v: Checks, cluster: str, physical: dict[str, str]) -> None:
    eks = v.clients.client("eks")
    expected = _expected_node_groups(v)
    for group in expected:
        if group not in physical:
            v.fail("nodegroup.present", f"node group {group}", f"configured node group {group!r} is not in the outputs' cluster.nodeGroups")
    for group, nodegroup_name in physical.items():
        resource = f"eks nodegroup {cluster}/{nodegroup_name} ({group})"
        want = expected.get(group)
        if want is None:
            v.fail("nodegroup.present", resource, f"node group {group!r} is not in the stack config")
            continue
        nodegroup = memo(lambda name=nodegroup_name: eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"])

        def status(nodegroup=nodegroup):
            s = nodegroup().get("status")
            return compared(s, "ACTIVE", f"status {s}", ", want ACTIVE")

        def ami(nodegroup=nodegroup, want=want):
            actual = nodegroup().get("amiType")
            return compared(actual, want.ami_type, f"AMI type {actual}", f", config says {want.ami_type}")

        def capacity(nodegroup=nodegroup, want=want):
            actual = nodegroup().get("capacityType")
            return compared(actual, want.capacity_type, f"capacity {actual}", f", config says {want.capacity_type}")

        def scaling(nodegroup=nodegroup, want=want):
            # desiredSize is owned by the autoscaler after creation; only the bounds are config's.
            s = nodegroup().get("scalingConfig", {})
            actual, wanted = (s.get("minSize"), s.get("maxSize")), (want.min_size, want.max_size)
            return compared(actual, wanted, f"min {actual[0]}, max {actual[1]}", f"; config says min {wanted[0]}, max {wanted[1]}")

        def taints(nodegroup=nodegroup, group=group):
            wanted = [] if group == "system" else [GPU_TAINT]
            actual = [{k: t.get(k) for k in ("key", "value", "effect")} for t in nodegroup().get("taints", []) or []]
            shown = ", ".join(sorted(map(_taint_text, actual))) or "none"
            return compared(sorted(map(_taint_text, actual)), sorted(map(_taint_text, wanted)), f"taints {shown}",
                            f"; want {', '.join(map(_taint_text, wanted)) or 'none'}")

        v.check("nodegroup.status", resource, status)
        v.check("nodegroup.amiType", resource, ami)
        v.check("nodegroup.capacityType", resource, capacity)
        v.check("nodegroup.scaling", resource, scaling)
        v.check("nodegroup.taints", resource, taints)


def _taint_text(taint: dict) -> str:
    return f"{taint.get('key')}={taint.get('value')}:{taint.get('effect')}"
