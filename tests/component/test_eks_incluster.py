"""In-cluster resources (layer 2): Helm releases, namespaces and quotas; and the Pod Identity roles
layer 1 binds to their service accounts."""

from __future__ import annotations

import json

import pytest

from mlopsctl.offline.wire import SECRET_SIG, SIG_KEY
from tests.support import eks
from tests.support.stacks import STACKS

RELEASE = "kubernetes:helm.sh/v3:Release"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_resource_is_layer_2s_and_uses_its_provider_built_from_layer_1(stack):
    config, layer1 = eks.stack(stack)
    layer2 = eks.incluster(stack)
    assert not [r for r in layer1.resources if r.type.startswith("kubernetes:") or r.type == "pulumi:providers:kubernetes"]
    provider = layer2.one("pulumi:providers:kubernetes")
    kubernetes = [r for r in layer2.resources if r.type.startswith("kubernetes:")]
    assert len(kubernetes) == 10
    for resource in kubernetes:
        assert resource.provider and resource.provider.rsplit("::", 1)[0] == provider.urn, resource.name
    # The kubeconfig is a secret, aimed at layer 1's cluster endpoint, authenticating with get-token.
    kubeconfig = provider.inputs["kubeconfig"]
    assert kubeconfig[SIG_KEY] == SECRET_SIG
    document = json.loads(kubeconfig["value"])
    cluster = layer1.one("aws:eks/cluster:Cluster")
    assert document["clusters"][0]["name"] == eks.CLUSTER_NAMES[stack]
    assert document["clusters"][0]["cluster"]["server"].endswith(".eks.amazonaws.com")
    assert document["users"][0]["user"]["exec"]["args"][:4] == ["--region", config.region, "eks", "get-token"]
    assert cluster.inputs["name"] == eks.CLUSTER_NAMES[stack]
    [read] = layer2.reads
    assert (read["type"], read["name"], read["id"]) == ("pulumi:pulumi:StackReference", *[f"organization/mlops-platform/{stack}"] * 2)


def test_nvidia_device_plugin_release_is_pinned_tolerates_the_gpu_taint_and_targets_helm_labelled_nodes():
    release = eks.incluster("dev").one(RELEASE, "nvidia-device-plugin")
    inputs = release.inputs
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == ("nvidia-device-plugin", "0.20.0", "https://nvidia.github.io/k8s-device-plugin")
    assert inputs["namespace"] == "kube-system"
    assert inputs["values"]["tolerations"] == [GPU_TOLERATION]
    [term] = inputs["values"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term == {"matchExpressions": [{"key": "mlops-platform/nvidia-device-plugin", "operator": "In", "values": ["helm"]}]}


@pytest.mark.parametrize("stack", STACKS)
def test_cluster_autoscaler_release_matches_the_cluster_and_discovers_its_groups(stack):
    config, rec = eks.stack(stack)
    release = eks.incluster(stack).one(RELEASE, "cluster-autoscaler")
    inputs, values = release.inputs, release.inputs["values"]
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == ("cluster-autoscaler", "9.59.0", "https://kubernetes.github.io/autoscaler")
    assert values["image"]["tag"] == "v1.35.2"
    assert inputs["namespace"] == "kube-system"
    # Same Kubernetes minor as the cluster.
    assert values["image"]["tag"].lstrip("v").split(".")[:2] == config.eks.version.split(".")
    assert values["awsRegion"] == config.region
    assert values["cloudProvider"] == "aws"
    assert values["autoDiscovery"] == {"clusterName": eks.CLUSTER_NAMES[stack]}
    assert values["rbac"]["serviceAccount"] == {"create": True, "name": "cluster-autoscaler"}
    assert values["nodeSelector"] == {"mlops-platform/node-role": "system"}
    # A cached GPU node without nvidia.com/gpu must not outlive scale-to-zero (#8123/#8799): the
    # template is rebuilt from the ASG tags within minutes, and the chart passes it as a flag.
    assert values["extraArgs"]["node-info-cache-expire-time"] == "10m"
    assert values["extraArgs"]["expander"] == "least-waste" and values["extraArgs"]["balance-similar-node-groups"] is True
    # The discovery tag the chart looks for by default is the one the ASG tags carry.
    tag_keys = {t.inputs["tag"]["key"] for t in rec.of_type("aws:autoscaling/tag:Tag")}
    assert f"k8s.io/cluster-autoscaler/{eks.CLUSTER_NAMES[stack]}" in tag_keys and "k8s.io/cluster-autoscaler/enabled" in tag_keys
    # Its nodes, policy and Pod Identity binding are layer 1's, deployed before layer 2 starts.
    binding = rec.one(ASSOCIATION, "cluster-autoscaler")
    assert (binding.inputs["namespace"], binding.inputs["serviceAccount"]) == ("kube-system", "cluster-autoscaler")
    assert binding.inputs["roleArn"].endswith("/" + rec.one("aws:iam/role:Role", "eks-cluster-autoscaler").id)


def test_cluster_autoscaler_policy_is_least_privilege():
    config, rec = eks.stack("prod")
    cluster = "mlops-prod"
    statements = {s["Sid"]: s for s in eks.policy(rec.one("aws:iam/rolePolicy:RolePolicy", "eks-cluster-autoscaler"))["Statement"]}
    assert set(statements) == {"Discover", "ScaleOwnGroupsOnly", "ReadManagedNodeGroups"}
    mutate = statements["ScaleOwnGroupsOnly"]
    assert mutate["Action"] == ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    assert mutate["Resource"] == [f"arn:aws:autoscaling:us-east-1:{eks.ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*"]
    assert mutate["Condition"] == {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}}
    assert statements["ReadManagedNodeGroups"] == {
        "Sid": "ReadManagedNodeGroups",
        "Effect": "Allow",
        "Action": ["eks:DescribeNodegroup"],
        "Resource": [f"arn:aws:eks:us-east-1:{eks.ACCOUNT}:nodegroup/{cluster}/*/*"],
    }
    assert all(a.split(":")[1].startswith(("Describe", "Get")) for a in statements["Discover"]["Action"])
    role = rec.one("aws:iam/role:Role", "eks-cluster-autoscaler")
    [trust] = eks.policy(role)["Statement"]
    assert trust["Principal"] == {"Service": ["pods.eks.amazonaws.com"]}
    assert trust["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert trust["Condition"]["StringEquals"] == {
        "aws:SourceAccount": eks.ACCOUNT,
        "aws:RequestTag/eks-cluster-name": cluster,
        "aws:RequestTag/kubernetes-namespace": "kube-system",
        "aws:RequestTag/kubernetes-service-account": "cluster-autoscaler",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_ml_namespaces_have_gpu_quotas_from_config_and_default_limits(stack):
    config, _ = eks.stack(stack)
    rec = eks.incluster(stack)
    namespaces = {n.inputs["metadata"]["name"] for n in rec.of_type("kubernetes:core/v1:Namespace")}
    assert namespaces == {"ml-training", "ml-serving"}
    quotas = {q.inputs["metadata"]["namespace"]: q.inputs["spec"]["hard"] for q in rec.of_type("kubernetes:core/v1:ResourceQuota")}
    assert quotas == {
        "ml-training": {"requests.nvidia.com/gpu": str(config.eks.gpu_quota.training)},
        "ml-serving": {"requests.nvidia.com/gpu": str(config.eks.gpu_quota.serving)},
    }
    limits = {r.inputs["metadata"]["namespace"]: r.inputs["spec"]["limits"] for r in rec.of_type("kubernetes:core/v1:LimitRange")}
    assert set(limits) == {"ml-training", "ml-serving"}
    for [limit] in limits.values():
        assert limit["type"] == "Container" and limit["default"] and limit["defaultRequest"]


@pytest.mark.parametrize("stack", STACKS)
def test_ml_namespaces_enforce_pod_security_and_audit_and_warn_at_restricted(stack):
    labels = {n.inputs["metadata"]["name"]: n.inputs["metadata"]["labels"] for n in eks.incluster(stack).of_type("kubernetes:core/v1:Namespace")}
    audit_and_warn = {"pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/warn": "restricted"}
    # Serving's model servers need no root: restricted. Training runs teams' framework images: baseline.
    assert labels == {
        "ml-serving": {"pod-security.kubernetes.io/enforce": "restricted", **audit_and_warn},
        "ml-training": {"pod-security.kubernetes.io/enforce": "baseline", **audit_and_warn},
    }


@pytest.mark.parametrize("stack", STACKS)
def test_workload_service_accounts_mount_no_kubernetes_api_token(stack):
    accounts = {(s.inputs["metadata"]["namespace"], s.inputs["metadata"]["name"]): s.inputs for s in eks.incluster(stack).of_type("kubernetes:core/v1:ServiceAccount")}
    assert set(accounts) == {("ml-training", "training"), ("ml-serving", "serving")}
    # Pod Identity brings the AWS credentials through its own projected token; neither calls the API.
    assert {key: inputs["automountServiceAccountToken"] for key, inputs in accounts.items()} == dict.fromkeys(accounts, False)


def _workload(rec, namespace, service_account):
    [association] = [a for a in rec.of_type(ASSOCIATION) if (a.inputs["namespace"], a.inputs["serviceAccount"]) == (namespace, service_account)]
    [role] = [r for r in rec.of_type("aws:iam/role:Role") if association.inputs["roleArn"] == f"arn:aws:iam::{eks.ACCOUNT}:role/{r.id}"]
    grants = [p for p in rec.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]
    return association, role, grants


@pytest.mark.parametrize(
    ("namespace", "service_account", "reads", "writes"),
    [("ml-training", "training", ["datasets/"], ["models/"]), ("ml-serving", "serving", ["models/"], [])],
)
def test_workload_service_accounts_are_bound_by_pod_identity_to_roles_with_store_grants_only(namespace, service_account, reads, writes):
    config, rec = eks.stack("staging")
    association, role, grants = _workload(rec, namespace, service_account)
    assert association.inputs["clusterName"] == "mlops-staging"
    [trust] = eks.policy(role)["Statement"]
    assert trust["Principal"] == {"Service": ["pods.eks.amazonaws.com"]}
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-namespace"] == namespace
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == service_account
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-name"] == "mlops-staging"
    # Every permission the role has came from the store's grant_* (policies parented by the store).
    store = rec.one("mlops:storage:ArtifactStore")
    assert grants and all(g.parent == store.urn for g in grants)
    assert not [a for a in rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.inputs["role"] == role.id]
    bucket = rec.one("aws:s3/bucket:Bucket", "artifacts-bucket")
    reachable = {"read": set(), "write": set()}
    for grant in grants:
        for statement in eks.policy(grant)["Statement"]:
            for resource in statement["Resource"]:
                prefix = resource.split(":::", 1)[-1].partition("/")[2].rstrip("*")
                if "s3:GetObject" in statement["Action"]:
                    reachable["read"].add(prefix)
                if "s3:PutObject" in statement["Action"]:
                    reachable["write"].add(prefix)
                if resource.startswith("arn:aws:s3"):
                    assert resource.split(":::", 1)[1].split("/")[0] == bucket.id
    assert reachable == {"read": set(reads), "write": set(writes)}
    accounts = [s for s in eks.incluster("staging").of_type("kubernetes:core/v1:ServiceAccount") if s.inputs["metadata"]["namespace"] == namespace]
    assert [s.inputs["metadata"]["name"] for s in accounts] == [service_account]


def test_without_an_artifact_store_no_workload_roles_are_made():
    config, _ = eks.stack("dev")
    rec, _ = eks.build(config)
    assert {a.inputs["serviceAccount"] for a in rec.of_type(ASSOCIATION)} == {"cluster-autoscaler"}
    assert not [r for r in rec.of_type("aws:iam/role:Role") if "ml-" in r.name]
