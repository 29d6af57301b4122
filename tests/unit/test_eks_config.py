"""Bad EKS config fails at parse time with one line naming the key; nothing is registered."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError, parse_platform_config
from components.eks import pins
from tests.support.stacks import assert_one_line_config_error, stack_raw_config


def _with(stack: str, **eks_changes):
    raw = stack_raw_config(stack)
    raw["eks"] = {**raw["eks"], **eks_changes}
    return raw


def _gpu(stack: str, index: int = 0, **changes):
    raw = stack_raw_config(stack)
    raw["eks"]["gpuNodeGroups"][index] = {**raw["eks"]["gpuNodeGroups"][index], **changes}
    return raw


CASES = [
    ("cpu-type-in-gpu-group", "dev", _gpu("dev", instanceTypes=["g5.xlarge", "m6i.large"]), "eks.gpuNodeGroups[0].instanceTypes", "GPU families"),
    ("min-gt-max", "prod", _gpu("prod", minSize=5, desiredSize=5, maxSize=4), "eks.gpuNodeGroups[0].minSize", "minSize <= desiredSize <= maxSize"),
    ("desired-lt-min", "prod", _gpu("prod", 1, minSize=2, desiredSize=1), "eks.gpuNodeGroups[1].minSize", "minSize <= desiredSize <= maxSize"),
    (
        "world-open-endpoint-in-prod",
        "prod",
        _with("prod", endpointPublicAccess=True, publicAccessCidrs=["0.0.0.0/0"], allowPublicEndpointFromAnywhere=True),
        "eks.endpointPublicAccess",
        "must be false in prod",
    ),
    ("world-open-endpoint-without-flag", "dev", _with("dev", publicAccessCidrs=["0.0.0.0/0"]), "eks.publicAccessCidrs", "0.0.0.0/0"),
    ("public-endpoint-in-staging", "staging", _with("staging", endpointPublicAccess=True, publicAccessCidrs=["198.51.100.0/24"]), "eks.endpointPublicAccess", "must be false in staging"),
    ("public-endpoint-without-cidrs", "dev", _with("dev", publicAccessCidrs=[]), "eks.publicAccessCidrs", "needs publicAccessCidrs"),
    ("unsupported-version", "dev", _with("dev", version="1.29"), "eks.version", "not in EKS standard or extended support on 2026-12-03"),
    ("unknown-version", "dev", _with("dev", version="2.0"), "eks.version", "not in EKS standard or extended support on 2026-12-03"),
    ("mixed-gpu-models", "dev", _gpu("dev", instanceTypes=["g5.xlarge", "g6.xlarge"]), "eks.gpuNodeGroups[0].instanceTypes", "same GPU model"),
    ("mixed-gpu-counts", "dev", _gpu("dev", instanceTypes=["g5.xlarge", "g5.12xlarge"]), "eks.gpuNodeGroups[0].instanceTypes",
     "same number of GPUs (g5.xlarge: 1, g5.12xlarge: 4); a node template advertises one count"),
    ("gpu-count-unknown", "dev", _gpu("dev", instanceTypes=["g6e.xlarge"]), "eks.gpuNodeGroups[0].instanceTypes",
     "g6e.xlarge: no GPU count in policies/awsfacts/aws_facts.json nvidiaGpusPerInstanceType"),
    ("cpu-ami-on-gpu-group", "dev", _gpu("dev", amiType="AL2023_x86_64_STANDARD"), "eks.gpuNodeGroups[0].amiType", "AL2023_x86_64_NVIDIA"),
    ("hop-limit-3", "dev", _gpu("dev", imdsHopLimit=3), "eks.gpuNodeGroups[0].imdsHopLimit", "1 or 2"),
    ("zero-max-unavailable", "dev", _gpu("dev", maxUnavailable=0), "eks.gpuNodeGroups[0].maxUnavailable", "greater than or equal to 1"),
    ("bad-capacity-type", "dev", _gpu("dev", capacityType="RESERVED"), "eks.gpuNodeGroups[0].capacityType", "ON_DEMAND"),
    ("bad-group-name", "dev", _gpu("dev", name="G5_Spot"), "eks.gpuNodeGroups[0].name", "pattern"),
    ("negative-quota", "dev", _with("dev", gpuQuota={"training": -1}), "eks.gpuQuota.training", "greater than or equal to 0"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_eks_config_names_the_key(case):
    _, stack, raw, key_path, words = case
    assert_one_line_config_error(raw, key_path, words, stack=stack)


def test_supported_version_without_pins_is_rejected():
    # 1.33 is within EKS (extended) support on the pinned test date but has no pinned addon/chart versions.
    from policies.awsfacts import eks_versions

    assert "1.33" in eks_versions.supported() and "1.33" not in pins.pinned_versions()
    with pytest.raises(ConfigError) as caught:
        parse_platform_config(_with("dev", version="1.33"), "us-east-1", "stacks/Pulumi.dev.yaml")
    assert f"eks.version: no pinned addon/chart versions for Kubernetes '1.33' in eks_addons.json; pinned: {', '.join(pins.pinned_versions())}" in str(caught.value)


def test_pinned_minors_are_supported_and_consecutive():
    # 1.34 -> 1.35 -> 1.36: a stack can move up one minor at a time without leaving the pins.
    from policies.awsfacts import eks_versions

    assert pins.pinned_versions() == ["1.34", "1.35", "1.36"]
    assert set(pins.pinned_versions()) <= set(eks_versions.supported())


def test_every_pinned_version_has_every_pin():
    data = pins._data()
    assert data["asOf"] and data["sources"]
    for version in pins.pinned_versions():
        assert set(data["kubernetes"][version]["addons"]) == {"vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-ebs-csi-driver"}
        assert pins.addon_version(version, "kube-proxy").startswith(f"v{version}.")
        assert pins.cluster_autoscaler(version).image_tag.startswith(f"v{version}.")
        assert pins.nvidia_device_plugin(version).version
        entry = data["kubernetes"][version]
        for pin in (entry["clusterAutoscaler"], entry["nvidiaDevicePlugin"]):
            assert pin["sources"] and set(pin["sources"]) <= set(data["sources"]), version


def test_kueue_pin_is_the_oci_chart_its_crd_facts_were_read_from():
    data = pins._data()
    pin = pins.kueue()
    assert (pin.chart, pin.repository) == ("kueue", "oci://registry.k8s.io/kueue/charts")
    assert data["charts"]["kueue"]["sources"] and set(data["charts"]["kueue"]["sources"]) <= set(data["sources"])
    # The CRD fact table is read at the tag of the pinned chart: bump both together.
    facts = json.loads((pins.PINS_FILE.parent / "kueue_crds.json").read_text())
    assert facts["source"]["tag"] == f"v{pin.version}"


def test_bottlerocket_nvidia_is_accepted():
    config = parse_platform_config(_gpu("dev", amiType="BOTTLEROCKET_x86_64_NVIDIA"), "us-east-1", "x")
    assert config.eks.gpu_node_groups[0].ami_type == "BOTTLEROCKET_x86_64_NVIDIA"
    assert config.eks.gpu_node_groups[0].accelerator == "nvidia-a10g"
