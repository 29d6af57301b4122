"""The ``inCluster`` output of layer 1: everything layer 2 needs, versioned.

Layer 1 validates the stack file and exports these facts; layer 2 reads them through a
StackReference and never parses layer 1's config itself, so both layers agree on what was deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

OUTPUT_NAME = "inCluster"
CONTRACT_VERSION = 1


class ContractError(ValueError):
    """The StackReference's ``inCluster`` output is missing or not what this code expects."""


@dataclass(frozen=True)
class ClusterFacts:
    environment: str
    region: str
    cluster_name: str
    endpoint: str
    certificate_authority: str
    kubernetes_version: str
    assume_role_arn: str | None
    gpu_quota: dict[str, int]  # namespace -> requests.nvidia.com/gpu


def layer1_output(
    *,
    environment: str,
    region: str,
    cluster: Any,
    kubernetes_version: str,
    assume_role_arn: str | None,
    gpu_quota: dict[str, int],
) -> dict[str, pulumi.Input]:
    """The ``inCluster`` stack output of layer 1 (``cluster`` is the ``aws.eks.Cluster``)."""
    return {
        "contract": CONTRACT_VERSION,
        "environment": environment,
        "region": region,
        "cluster": {
            "name": cluster.name,
            "endpoint": cluster.endpoint,
            "certificateAuthority": cluster.certificate_authority.apply(lambda ca: ca.data),
            "version": kubernetes_version,
        },
        "assumeRoleArn": assume_role_arn,
        "gpuQuota": dict(gpu_quota),
    }


def parse(value: Any, *, reference: str, stack: str) -> ClusterFacts:
    """Validate the referenced output; one-line :class:`ContractError` naming the reference."""

    def fail(message: str) -> ContractError:
        return ContractError(f"{reference}: output {OUTPUT_NAME}: {message}")

    if not isinstance(value, dict):
        raise fail("missing (deploy layer 1 first, with code that exports it)")
    if value.get("contract") != CONTRACT_VERSION:
        raise fail(f"contract {value.get('contract')!r}, this code reads contract {CONTRACT_VERSION}; deploy both layers from one commit")
    if value.get("environment") != stack:
        raise fail(f"belongs to environment {value.get('environment')!r}, not this stack {stack!r}")
    cluster = value.get("cluster") or {}
    try:
        return ClusterFacts(
            environment=value["environment"],
            region=value["region"],
            cluster_name=cluster["name"],
            endpoint=cluster["endpoint"],
            certificate_authority=cluster["certificateAuthority"],
            kubernetes_version=cluster["version"],
            assume_role_arn=value.get("assumeRoleArn"),
            gpu_quota={k: int(v) for k, v in value["gpuQuota"].items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise fail(f"malformed ({exc!r})") from None
