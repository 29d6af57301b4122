"""Kueue manifests are checked against the CRD facts read at the pinned tag (data/kueue_crds.json)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from components.eks import pins
from components.incluster.kueue_schema import kueue_object_problems, table
from mlopsctl.review import kueuefacts

API = "kueue.x-k8s.io/v1beta2"

FLAVOR = {
    "apiVersion": API,
    "kind": "ResourceFlavor",
    "metadata": {"name": "gpu-a10g"},
    "spec": {
        "nodeLabels": {"node.kubernetes.io/instance-type": "g5.xlarge"},
        "nodeTaints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    },
}
CLUSTER_QUEUE = {
    "apiVersion": API,
    "kind": "ClusterQueue",
    "metadata": {"name": "training"},
    "spec": {
        "namespaceSelector": {"matchLabels": {"mlops/queue": "training"}},
        "queueingStrategy": "BestEffortFIFO",
        "stopPolicy": "None",
        "preemption": {"withinClusterQueue": "LowerPriority", "reclaimWithinCohort": "Never", "borrowWithinCohort": {"policy": "Never"}},
        "resourceGroups": [
            {
                "coveredResources": ["cpu", "memory", "nvidia.com/gpu"],
                "flavors": [{"name": "gpu-a10g", "resources": [{"name": "cpu", "nominalQuota": 16}, {"name": "memory", "nominalQuota": "64Gi"}, {"name": "nvidia.com/gpu", "nominalQuota": 4}]}],
            }
        ],
    },
}
LOCAL_QUEUE = {"apiVersion": API, "kind": "LocalQueue", "metadata": {"name": "training", "namespace": "team-a"}, "spec": {"clusterQueue": "training"}}


@pytest.mark.parametrize("manifest", [FLAVOR, CLUSTER_QUEUE, LOCAL_QUEUE], ids=lambda m: m["kind"])
def test_valid_manifests_pass(manifest):
    assert kueue_object_problems(manifest) == []


def _with(manifest: dict, change) -> dict:
    changed = copy.deepcopy(manifest)
    change(changed)
    return changed


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (_with(LOCAL_QUEUE, lambda m: m.update(apiVersion="kueue.x-k8s.io/v1beta1")), "apiVersion: 'kueue.x-k8s.io/v1beta1', expected kueue.x-k8s.io/v1beta2"),
        (_with(LOCAL_QUEUE, lambda m: m.update(kind="Workload")), "kind: 'Workload' is not one of ResourceFlavor, ClusterQueue, LocalQueue"),
        (_with(LOCAL_QUEUE, lambda m: m["metadata"].pop("name")), "metadata.name: required, a non-empty string"),
        (_with(LOCAL_QUEUE, lambda m: m["metadata"].pop("namespace")), "metadata.namespace: required, LocalQueue is namespaced"),
        (_with(FLAVOR, lambda m: m["metadata"].update(namespace="x")), "metadata.namespace: ResourceFlavor is cluster-scoped, set no namespace"),
        (_with(LOCAL_QUEUE, lambda m: m.pop("spec")), "spec: required"),
        (_with(LOCAL_QUEUE, lambda m: m["spec"].update(clusterQueue="Training_Q")), "spec.clusterQueue: 'Training_Q' does not match"),
        (_with(LOCAL_QUEUE, lambda m: m["spec"].update(clusterQueue="a" * 254)), "spec.clusterQueue: 254 characters, at most 253"),
        (_with(LOCAL_QUEUE, lambda m: m["spec"].update(queue="x")), "spec.queue: not a field of LocalQueue; known: clusterQueue, fairSharing, stopPolicy"),
        (_with(LOCAL_QUEUE, lambda m: m["spec"].update(fairSharing={"weight": 1})), "spec.fairSharing: a LocalQueue field kueue_crds.json does not cover"),
        (_with(CLUSTER_QUEUE, lambda m: m["spec"].update(queueingStrategy="FIFO")), "spec.queueingStrategy: 'FIFO' is not one of StrictFIFO, BestEffortFIFO"),
        (_with(CLUSTER_QUEUE, lambda m: m["spec"].update(stopPolicy="Stop")), "spec.stopPolicy: 'Stop' is not one of None, Hold, HoldAndDrain"),
        (_with(CLUSTER_QUEUE, lambda m: m["spec"]["preemption"].update(withinClusterQueue="Any")), "spec.preemption.withinClusterQueue: 'Any' is not one of Never, LowerPriority, LowerOrNewerEqualPriority"),
        (_with(CLUSTER_QUEUE, lambda m: m["spec"]["resourceGroups"][0]["flavors"][0]["resources"][1].update(nominalQuota="64 GiB")), "spec.resourceGroups[0].flavors[0].resources[1].nominalQuota: '64 GiB' does not match"),
        (_with(CLUSTER_QUEUE, lambda m: m["spec"]["resourceGroups"][0]["flavors"][0]["resources"][0].update(nominalQuota=1.5)), "spec.resourceGroups[0].flavors[0].resources[0].nominalQuota: expected int-or-string, got float"),
        (_with(CLUSTER_QUEUE, lambda m: m["spec"]["resourceGroups"][0]["flavors"][0]["resources"][0].pop("nominalQuota")), "spec.resourceGroups[0].flavors[0].resources[0].nominalQuota: required"),
        (_with(CLUSTER_QUEUE, lambda m: m["spec"]["resourceGroups"][0].update(coveredResources=[])), "spec.resourceGroups[0].coveredResources: 0 items, at least 1"),
        (_with(CLUSTER_QUEUE, lambda m: m["spec"]["resourceGroups"][0].update(coveredResources=[f"r{i}" for i in range(65)])), "spec.resourceGroups[0].coveredResources: 65 items, at most 64"),
        (_with(CLUSTER_QUEUE, lambda m: m["spec"]["resourceGroups"][0]["flavors"][0].update(name="GPU")), "spec.resourceGroups[0].flavors[0].name: 'GPU' does not match"),
        (
            _with(CLUSTER_QUEUE, lambda m: m["spec"]["resourceGroups"][0]["flavors"][0]["resources"].pop()),
            "spec.resourceGroups[0]: flavors must have the same number of resources as the coveredResources",
        ),
        (_with(CLUSTER_QUEUE, lambda m: m["spec"].update(resourceGroups={"cpu": 1})), "spec.resourceGroups: expected array, got dict"),
        (_with(CLUSTER_QUEUE, lambda m: m["spec"]["preemption"]["borrowWithinCohort"].update(maxPriorityThreshold=True)), "spec.preemption.borrowWithinCohort.maxPriorityThreshold: expected integer, got bool"),
        (_with(FLAVOR, lambda m: m["spec"]["nodeTaints"][0].update(effect="NoRun")), "spec.nodeTaints[0].effect: 'NoRun' is not one of NoSchedule, PreferNoSchedule, NoExecute"),
        (_with(FLAVOR, lambda m: m["spec"]["nodeTaints"][0].pop("key")), "spec.nodeTaints[0].key: required"),
        (_with(FLAVOR, lambda m: m["spec"]["nodeTaints"][0].update(timeAdded="2026-12-08T00:00:00Z")), "spec.nodeTaints[0].timeAdded: a ResourceFlavor field kueue_crds.json does not cover"),
        (_with(FLAVOR, lambda m: m["spec"]["tolerations"][0].update(operator="In")), "spec.tolerations[0].operator: 'In' is not one of Equal, Exists"),
        (_with(FLAVOR, lambda m: m["spec"]["nodeLabels"].update({f"l{i}": "x" for i in range(8)})), "spec.nodeLabels: 9 entries, at most 8"),
        (_with(FLAVOR, lambda m: m["spec"]["nodeLabels"].update(gpus=1)), "spec.nodeLabels.gpus: expected string values, got int"),
    ],
)
def test_each_violation_is_named(manifest, expected):
    problems = kueue_object_problems(manifest)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_table_records_its_source_at_the_pinned_tag():
    source = table()["source"]
    assert source["repo"] == "kubernetes-sigs/kueue" and source["tag"] == f"v{pins.kueue().version}"
    assert len(source["commit"]) == 40 and source["readOn"] == "2026-12-08"
    assert sorted(Path(p).name for p in source["paths"]) == sorted(kueuefacts.CRD_FILES.values())
    assert {k["version"] for k in table()["kinds"].values()} == {"v1beta2"}


def test_every_covered_field_and_its_parents_are_in_the_table():
    for kind, covered in kueuefacts.COVERED.items():
        fields = table()["kinds"][kind]["fields"]
        for path in covered:
            parts = path.split(".")
            for depth in range(1, len(parts) + 1):
                assert ".".join(parts[:depth]) in fields, (kind, path)


def _write_crds(directory: Path, change=None) -> None:
    """Minimal CRDs rebuilt from the table itself, so check can be exercised without upstream files."""
    for kind, name in kueuefacts.CRD_FILES.items():
        facts = table()["kinds"][kind]
        root: dict = {}
        for path, field in facts["fields"].items():
            node = {"properties": root}
            parts = path.split(".")
            for part in parts[:-1]:
                node = node["properties"].setdefault(part.removesuffix("[]"), {"properties": {}})
                if part.endswith("[]"):
                    node = node.setdefault("items", {"properties": {}})
            last = parts[-1]
            target = node["properties"].setdefault(last.removesuffix("[]"), {"properties": {}})
            if last.endswith("[]"):
                target = target.setdefault("items", {"properties": {}})
            _schema_of(field, target)
        if change:
            change(kind, root)
        versions = [{"name": v, "served": True, "storage": v == facts["version"], **({"deprecated": True} if v in facts["deprecatedVersions"] else {})} for v in facts["servedVersions"]]
        for version in versions:
            version["schema"] = {"openAPIV3Schema": {"type": "object", "properties": root}}
        crd = {"spec": {"group": facts["group"], "names": {"kind": kind, "plural": facts["plural"]}, "scope": facts["scope"], "versions": versions}}
        (directory / name).write_text(yaml.safe_dump(crd))


def _schema_of(field: dict, target: dict) -> None:
    target.clear()
    if field["type"] == "int-or-string":
        target["x-kubernetes-int-or-string"] = True
    elif field["type"] == "map":
        target.update(type="object", additionalProperties={"type": field["values"]})
    else:
        target["type"] = field["type"]
    for key in kueuefacts._COPIED:
        if key in field and not (key == "enum" and field.get("enumFrom")):
            target[key] = field[key]
    if "properties" in field:
        target["properties"] = {name: {"type": "string"} for name in field["properties"]}  # covered ones are rebuilt next
        target["required"] = field["required"]
    rules = [{"message": m, "rule": "true"} for m in field.get("celRules", [])]
    if rules:
        target["x-kubernetes-validations"] = rules


def test_check_is_equal_on_matching_crds_and_names_a_changed_enum(tmp_path, capsys):
    # CEL-derived enums cannot be rebuilt from messages alone: patch the rules back in.
    def cel(kind, root):
        if kind == "ResourceFlavor":
            spec = root["spec"]["properties"]
            spec["nodeTaints"]["x-kubernetes-validations"][0]["rule"] = "self.all(x, x.effect in ['NoSchedule', 'PreferNoSchedule', 'NoExecute'])"
            rules = spec["tolerations"]["x-kubernetes-validations"]
            rules[2]["rule"] = "self.all(x, !has(x.operator) || x.operator in ['Equal', 'Exists'])"
            rules[4]["rule"] = "self.all(x, !has(x.effect) || x.effect in ['NoSchedule', 'PreferNoSchedule', 'NoExecute'])"

    _write_crds(tmp_path, cel)
    assert kueuefacts.main(["check", "--crd-dir", str(tmp_path)]) == 0

    def changed(kind, root):
        cel(kind, root)
        if kind == "ClusterQueue":
            root["spec"]["properties"]["queueingStrategy"]["enum"] = ["StrictFIFO"]

    _write_crds(tmp_path, changed)
    capsys.readouterr()
    assert kueuefacts.main(["check", "--crd-dir", str(tmp_path)]) == 1
    assert "ClusterQueue spec.queueingStrategy: table" in capsys.readouterr().out


def test_check_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert kueuefacts.main(["check", "--crd-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "kueue.x-k8s.io_resourceflavors.yaml" in err


def test_table_is_plain_json_with_an_about():
    data = json.loads(kueuefacts.TABLE_FILE.read_text())
    assert data["_about"] and set(data["kinds"]) == set(kueuefacts.CRD_FILES)
