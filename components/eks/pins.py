"""Pinned addon, chart and image versions per Kubernetes minor (``data/eks_addons.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PINS_FILE = Path(__file__).resolve().parent.parent / "data" / "eks_addons.json"


@dataclass(frozen=True)
class HelmPin:
    chart: str
    repository: str
    version: str
    image_tag: str | None = None


@cache
def _data() -> dict:
    return json.loads(PINS_FILE.read_text())


def pinned_versions() -> list[str]:
    return sorted(_data()["kubernetes"])


def addon_version(kubernetes_version: str, addon: str) -> str:
    return _data()["kubernetes"][kubernetes_version]["addons"][addon]


def cluster_autoscaler(kubernetes_version: str) -> HelmPin:
    chart = _data()["charts"]["clusterAutoscaler"]
    pin = _data()["kubernetes"][kubernetes_version]["clusterAutoscaler"]
    return HelmPin(chart=chart["chart"], repository=chart["repository"], version=pin["chartVersion"], image_tag=pin["imageTag"])


def nvidia_device_plugin(kubernetes_version: str) -> HelmPin:
    chart = _data()["charts"]["nvidiaDevicePlugin"]
    pin = _data()["kubernetes"][kubernetes_version]["nvidiaDevicePlugin"]
    return HelmPin(chart=chart["chart"], repository=chart["repository"], version=pin["chartVersion"])


def kueue() -> HelmPin:
    """Kueue's chart: one version for every pinned Kubernetes minor (its Chart.yaml has no kubeVersion).

    An OCI chart: ``helm install kueue oci://registry.k8s.io/kueue/charts/kueue --version <version>``.
    """
    chart = _data()["charts"]["kueue"]
    return HelmPin(chart=chart["chart"], repository=chart["repository"], version=chart["chartVersion"])
