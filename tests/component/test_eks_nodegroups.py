"""Node groups: AMI types, taints, labels, launch templates, scaling, ignoreChanges, ASG tags."""

from __future__ import annotations

import pytest

from components import facts
from components.config import GpuNodeGroupConfig
from tests.support import eks
from tests.support.stacks import REQUIRED_TAG_KEYS, ROOT, STACKS, stack_config

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ASG_TAG = "aws:autoscaling/tag:Tag"


def _groups(stack):
    config, rec = eks.stack(stack)
    return [(config, rec, group) for group in config.eks.gpu_node_groups]


def _all_gpu_groups():
    return [(stack, group.name) for stack in STACKS for group in stack_config(stack).eks.gpu_node_groups]


def _template_of(rec, group):
    [urn] = group.propertyDependencies["launchTemplate"]
    return rec.by_urn(urn)


@pytest.mark.parametrize(("stack", "group_name"), _all_gpu_groups())
def test_gpu_group_ami_taint_labels_scaling_and_ignore_changes(stack, group_name):
    config, rec = eks.stack(stack)
    group_config = next(g for g in config.eks.gpu_node_groups if g.name == group_name)
    group = rec.one(NODE_GROUP, f"eks-{group_name}")
    inputs = group.inputs
    assert inputs["amiType"] == group_config.ami_type == "AL2023_x86_64_NVIDIA"
    assert inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert inputs["labels"] == {
        "mlops-platform/node-role": "gpu",
        "mlops-platform/gpu-group": group_name,
        "mlops-platform/accelerator": facts.gpu_accelerator(group_config.instance_types[0]),
        "k8s.amazonaws.com/accelerator": facts.gpu_accelerator(group_config.instance_types[0]),
        "mlops-platform/nvidia-device-plugin": "helm",
    }
    assert inputs["instanceTypes"] == group_config.instance_types
    assert inputs["capacityType"] == group_config.capacity_type
    assert inputs["scalingConfig"] == {"minSize": group_config.min_size, "desiredSize": group_config.desired_size, "maxSize": group_config.max_size}
    assert inputs["updateConfig"] == {"maxUnavailable": group_config.max_unavailable}
    # Exactly the camelCase path; "scaling_config.desired_size" would silently ignore nothing.
    assert group.ignoreChanges == ["scalingConfig.desiredSize"]
    # With a launch template, size lives in its block devices; EKS rejects disk_size.
    assert "diskSize" not in inputs and "remoteAccess" not in inputs
    assert inputs["subnetIds"] == eks.SUBNETS
    assert inputs["version"] == config.eks.version
    assert group.propertyDependencies["version"] == [rec.one("aws:eks/cluster:Cluster").urn]
    assert inputs["tags"]["node-group"] == group_name


def test_gpu_groups_scale_to_zero_outside_prod_and_keep_a_warm_node_in_prod():
    for stack in ("dev", "staging"):
        assert all(g.min_size == 0 for g in stack_config(stack).eks.gpu_node_groups)
    prod = {g.name: g.min_size for g in stack_config("prod").eks.gpu_node_groups}
    assert prod == {"g5": 1, "g6-batch": 0}
    assert GpuNodeGroupConfig(name="x", instance_types=["g5.xlarge"], max_size=1).min_size == 0


@pytest.mark.parametrize("stack", STACKS)
def test_every_group_has_its_own_hardened_launch_template(stack):
    config, rec = eks.stack(stack)
    groups = rec.of_type(NODE_GROUP)
    templates = {_template_of(rec, g).urn for g in groups}
    assert len(templates) == len(groups) == 1 + len(config.eks.gpu_node_groups)
    by_key = {"system": config.eks.system_node_group, **{g.name: g for g in config.eks.gpu_node_groups}}
    for group in groups:
        key = group.inputs["tags"]["node-group"]
        group_config = by_key[key]
        template = _template_of(rec, group).inputs
        assert group.inputs["launchTemplate"]["version"] == "1"  # the template's latest version
        assert template["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": group_config.imds_hop_limit,
            "instanceMetadataTags": "disabled",
        }
        assert template["blockDeviceMappings"] == [
            {
                "deviceName": "/dev/xvda",
                "ebs": {"volumeSize": group_config.disk_size_gib, "volumeType": "gp3", "encrypted": "true", "kmsKeyId": eks.EBS_KEY, "deleteOnTermination": "true"},
            }
        ]
        kinds = {spec["resourceType"]: spec["tags"] for spec in template["tagSpecifications"]}
        assert set(kinds) == {"instance", "volume"}
        for tags in kinds.values():
            assert REQUIRED_TAG_KEYS <= set(tags)
            assert tags["node-group"] == key
            assert tags["environment"] == stack and tags["cost-center"] == config.cost_center


def test_hop_limit_and_disk_size_come_from_config():
    base = stack_config("dev")
    group = {**base.eks.gpu_node_groups[0].model_dump(by_alias=True), "imdsHopLimit": 2, "diskSizeGib": 500}
    config = stack_config("dev", eks={**base.eks.model_dump(by_alias=True, exclude_none=True), "gpuNodeGroups": [group]})
    rec, _ = eks.build(config)
    template = _template_of(rec, rec.one(NODE_GROUP, "eks-g5-spot")).inputs
    assert template["metadataOptions"]["httpPutResponseHopLimit"] == 2
    assert template["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 500


@pytest.fixture(scope="module")
def bottlerocket():
    base = stack_config("dev")
    groups = [
        {**base.eks.gpu_node_groups[0].model_dump(by_alias=True), "name": "al2023"},
        {"name": "br", "instanceTypes": ["g6.xlarge"], "amiType": "BOTTLEROCKET_x86_64_NVIDIA", "maxSize": 2, "diskSizeGib": 300},
    ]
    config = stack_config("dev", eks={**base.eks.model_dump(by_alias=True, exclude_none=True), "gpuNodeGroups": groups})
    return eks.build(config)[0]


def test_bottlerocket_group_gets_a_small_os_volume_and_a_sized_data_volume(bottlerocket):
    group = bottlerocket.one(NODE_GROUP, "eks-br")
    assert group.inputs["amiType"] == "BOTTLEROCKET_x86_64_NVIDIA"
    assert group.inputs["labels"]["mlops-platform/nvidia-device-plugin"] == "ami"
    assert group.inputs["labels"]["mlops-platform/accelerator"] == "nvidia-l4"
    devices = {m["deviceName"]: m["ebs"] for m in _template_of(bottlerocket, group).inputs["blockDeviceMappings"]}
    assert {d: e["volumeSize"] for d, e in devices.items()} == {"/dev/xvda": 4, "/dev/xvdb": 300}
    assert all(e["encrypted"] == "true" and e["kmsKeyId"] == eks.EBS_KEY and e["volumeType"] == "gp3" for e in devices.values())


def test_device_plugin_runs_only_where_the_ami_lacks_it(bottlerocket):
    release = eks.incluster_of(bottlerocket, "dev").one("kubernetes:helm.sh/v3:Release", "nvidia-device-plugin")
    [term] = release.inputs["values"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]

    def selected(labels: dict) -> bool:
        return all(labels.get(e["key"]) in e["values"] for e in term["matchExpressions"] if e["operator"] == "In")

    labels = {g.name: g.inputs["labels"] for g in bottlerocket.of_type(NODE_GROUP)}
    assert selected(labels["eks-al2023"]) and not selected(labels["eks-br"]) and not selected(labels["eks-system"])


@pytest.mark.parametrize(("stack", "group_name"), _all_gpu_groups())
def test_asg_node_template_tags_match_the_group_labels_and_taints_exactly(stack, group_name):
    _, rec = eks.stack(stack)
    group = rec.one(NODE_GROUP, f"eks-{group_name}")
    tags = [t for t in rec.of_type(ASG_TAG) if t.propertyDependencies["autoscalingGroupName"] == [group.urn]]
    names = {t.inputs["autoscalingGroupName"] for t in tags}
    # The mock's ASG name of this node group (resources[0].autoscalingGroups[0].name).
    assert len(names) == 1 and names.pop().startswith("eks-")
    recorded = {t.inputs["tag"]["key"]: t.inputs["tag"]["value"] for t in tags}
    effects = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
    expected = {f"k8s.io/cluster-autoscaler/node-template/label/{k}": v for k, v in group.inputs["labels"].items()}
    expected.update({f"k8s.io/cluster-autoscaler/node-template/taint/{t['key']}": f"{t['value']}:{effects[t['effect']]}" for t in group.inputs["taints"]})
    expected.update({"k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{group.inputs['clusterName']}": "owned"})
    # The group's GPUs per node, from the facts file for each of its instance types (one count).
    [gpus] = {facts.nvidia_gpus(t) for t in group.inputs["instanceTypes"]}
    expected["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] = str(gpus)
    # The disk that holds images and pods' ephemeral storage (Bottlerocket's data volume, AL2023's root).
    disk_gib = max(int(m["ebs"]["volumeSize"]) for m in _template_of(rec, group).inputs["blockDeviceMappings"])
    expected["k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage"] = f"{disk_gib}Gi"
    assert recorded == expected
    assert recorded["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"] == "true:NoSchedule"
    assert len(tags) == len(recorded)  # no key tagged twice
    assert all(t.inputs["tag"]["propagateAtLaunch"] is False for t in tags)


def test_system_group_is_cpu_untainted_and_not_scale_from_zero_tagged():
    config, rec = eks.stack("prod")
    system = rec.one(NODE_GROUP, "eks-system")
    assert system.inputs["amiType"] == config.eks.system_node_group.ami_type
    assert "taints" not in system.inputs
    assert system.inputs["labels"] == {"mlops-platform/node-role": "system"}
    assert not [t for t in rec.of_type(ASG_TAG) if system.urn in t.dependencies]


def test_node_role_has_worker_and_ecr_pull_policies_but_not_the_cni_policy():
    _, rec = eks.stack("dev")
    role = rec.one("aws:iam/role:Role", "node-role")
    assert eks.policy(role)["Statement"][0]["Principal"] == {"Service": ["ec2.amazonaws.com"]}
    attached = {a.inputs["policyArn"] for a in rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if "-node-" in a.name}
    assert attached == {"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"}
    for group in rec.of_type(NODE_GROUP):
        assert group.inputs["nodeRoleArn"] == f"arn:aws:iam::{eks.ACCOUNT}:role/{role.id}"


def test_gpu_ami_types_are_real_eks_ami_types():
    from typing import get_args

    from components.config import SystemNodeGroupConfig

    for model in (GpuNodeGroupConfig, SystemNodeGroupConfig):
        assert set(get_args(model.model_fields["ami_type"].annotation)) <= facts.eks_ami_types()


def test_the_documented_training_pod_would_schedule_on_a_gpu_group():
    """docs/eks.md's example pod tolerates the recorded taint and selects a recorded label."""
    import re

    import yaml

    text = (ROOT / "docs" / "eks.md").read_text()
    pod = next(doc for doc in (yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)) if doc.get("kind") == "Pod")
    _, rec = eks.stack("dev")
    group = rec.one(NODE_GROUP, "eks-g5-spot")
    [taint] = group.inputs["taints"]
    assert {"key": taint["key"], "operator": "Exists", "effect": "NoSchedule"} in pod["spec"]["tolerations"]
    assert pod["spec"]["nodeSelector"].items() <= group.inputs["labels"].items()
    assert pod["metadata"]["namespace"] == "ml-training" and pod["spec"]["serviceAccountName"] == "training"
    assert pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
