"""Layer 2's Kubernetes policies: Pod Security Admission labels on namespaces, no API tokens where none is needed."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest

from mlopsctl.offline.policycheck.config import config_path, load_config_file
from mlopsctl.offline.policycheck.process import PolicyPackProcess
from policies.awsfacts.resource_types import KUBERNETES_NAMESPACE, KUBERNETES_SERVICE_ACCOUNT
from tests.support.programs import run_component
from tests.support.stacks import STACKS, stack_preview

PSA = "k8s-namespace-pod-security"
TOKENS = "k8s-service-account-no-token-automount"
ENFORCE = "pod-security.kubernetes.io/enforce"


def analyze(pack, build, *, env: str = "prod", unknowns: bool = False):
    """Run ``build(opts)`` with an explicit Kubernetes provider, like layer 2's, and analyze it."""

    def program():
        provider = k8s.Provider("k8s", kubeconfig="{}", enable_server_side_apply=True)
        build(pulumi.ResourceOptions(provider=provider))

    return pack.analyze(run_component(program, stack=env, unknowns=unknowns))


def namespace(name: str, enforce: str | None):
    labels = {ENFORCE: enforce} if enforce else {}
    return lambda opts: k8s.core.v1.Namespace(f"ns-{name}", metadata={"name": name, "labels": labels}, opts=opts)


def service_account(namespace_name: str, name: str, automount: bool | None):
    return lambda opts: k8s.core.v1.ServiceAccount(
        f"sa-{name}", metadata={"name": name, "namespace": namespace_name}, automount_service_account_token=automount, opts=opts
    )


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (namespace("team-a", None), f"namespace team-a has no {ENFORCE} label, so the cluster's default applies, which on EKS is privileged"),
        (namespace("team-a", "privileged"), "namespace team-a enforces privileged; baseline is required here"),
        (namespace("team-a", "strict"), "is 'strict', not one of privileged, baseline, restricted"),
        (namespace("ml-serving", "baseline"), "namespace ml-serving enforces baseline; restricted is required here"),
    ],
    ids=["unlabelled", "privileged", "invalid", "serving-baseline"],
)
@pytest.mark.parametrize("unknowns", [False, True], ids=["known", "first-preview"])
def test_namespaces_below_their_pod_security_standard_fire(policy_pack, build, fragment, unknowns):
    [violation] = analyze(policy_pack("prod"), build, unknowns=unknowns).by_policy(PSA)
    assert fragment in violation.message and violation.level == "mandatory"


@pytest.mark.parametrize("build", [namespace("team-a", "baseline"), namespace("team-a", "restricted"), namespace("ml-serving", "restricted")],
                         ids=["baseline", "restricted", "serving-restricted"])
def test_namespaces_at_or_above_their_standard_pass(policy_pack, build):
    assert analyze(policy_pack("prod"), build).by_policy(PSA) == []


def test_which_namespaces_must_be_restricted_is_configured_per_environment(policy_pack):
    assert [v.level for v in analyze(policy_pack("dev"), namespace("team-a", None), env="dev").by_policy(PSA)] == ["advisory"]
    config = load_config_file(config_path("prod"))
    config[PSA] = {**config[PSA], "restrictedNamespaces": ["ml-serving", "team-a"]}
    with PolicyPackProcess() as pack:
        pack.configure(config)
        [violation] = analyze(pack, namespace("team-a", "baseline")).by_policy(PSA)
        assert "restricted is required here" in violation.message


@pytest.mark.parametrize(
    ("automount", "fragment"),
    [(None, "automountServiceAccountToken is unset (Kubernetes default: true)"), (True, "automountServiceAccountToken is True")],
    ids=["unset", "true"],
)
def test_service_accounts_that_mount_an_api_token_fire(policy_pack, automount, fragment):
    [violation] = analyze(policy_pack("prod"), service_account("ml-training", "training", automount)).by_policy(TOKENS)
    assert f"service account ml-training/training: {fragment}, so every pod using it gets a Kubernetes API token" in violation.message
    assert violation.level == "mandatory"
    assert analyze(policy_pack("prod"), service_account("ml-training", "training", False)).by_policy(TOKENS) == []


def test_service_accounts_listed_for_api_access_may_mount_tokens(policy_pack):
    # The Cluster Autoscaler watches pods and nodes: the real configs list it.
    assert analyze(policy_pack("prod"), service_account("kube-system", "cluster-autoscaler", None)).by_policy(TOKENS) == []
    assert analyze(policy_pack("prod"), service_account("ml-serving", "cluster-autoscaler", None)).by_policy(TOKENS)  # namespace and name
    config = load_config_file(config_path("staging"))
    config[TOKENS] = {**config[TOKENS], "apiAccessServiceAccounts": ["ml-training/operator"]}
    with PolicyPackProcess() as pack:
        pack.configure(config)
        assert analyze(pack, service_account("ml-training", "operator", None), env="staging").by_policy(TOKENS) == []
        assert analyze(pack, service_account("kube-system", "cluster-autoscaler", None), env="staging").by_policy(TOKENS)


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("unknowns", [False, True], ids=["known", "first-preview"])
def test_the_platforms_namespaces_and_service_accounts_pass(policy_pack, stack, unknowns):
    result = stack_preview(stack, unknowns=unknowns)
    namespaces = {n.inputs["metadata"]["name"]: n.inputs["metadata"]["labels"][ENFORCE] for n in result.recording.of_type(KUBERNETES_NAMESPACE)}
    # Not vacuous: both ML namespaces, serving among the restricted ones of every environment's config.
    assert namespaces == {"ml-training": "baseline", "ml-serving": "restricted"}
    assert load_config_file(config_path(result.config.environment))[PSA]["restrictedNamespaces"] == ["ml-serving"]
    assert len(result.recording.of_type(KUBERNETES_SERVICE_ACCOUNT)) == 2
    report = policy_pack(result.config.environment).analyze(result.recording)
    assert report.by_policy(PSA) == [] and report.by_policy(TOKENS) == []
