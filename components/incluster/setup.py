"""InClusterSetup: GPU device plugin, Cluster Autoscaler, ML namespaces with quotas and limits, and
the workload service accounts whose Pod Identity roles layer 1 made (docs/eks.md).

Every resource here goes through this layer's own Kubernetes provider, built from layer 1's
``inCluster`` facts: the API server is reached with ``aws eks get-token`` as the deploy role, from
the CI runner inside the VPC.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config import GPU_RESOURCE, GPU_TAINT_EFFECT, GPU_TAINT_KEY
from components.eks import kubeconfig, pins
from components.eks.nodegroups import DEVICE_PLUGIN_LABEL, KUBERNETES_TAINT_EFFECTS, NODE_ROLE_LABEL
from components.eks.workloads import AUTOSCALER_SERVICE_ACCOUNT, SERVING_NAMESPACE, SYSTEM_NAMESPACE, TRAINING_NAMESPACE, WORKLOADS
from components.incluster.contract import ClusterFacts

GPU_TOLERATION = {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": KUBERNETES_TAINT_EFFECTS[GPU_TAINT_EFFECT]}
# Defaults for containers that declare nothing, so quotas and bin-packing see real numbers.
DEFAULT_LIMITS = {"cpu": "2", "memory": "4Gi"}
DEFAULT_REQUESTS = {"cpu": "250m", "memory": "512Mi"}
ML_NAMESPACES = (TRAINING_NAMESPACE, SERVING_NAMESPACE)
# Pod Security Admission, enforced per namespace (docs/policies.md). Serving runs long-lived model
# servers that need neither root nor extra capabilities: restricted. Training runs images teams
# bring (framework images commonly run as root): baseline, which still refuses privileged pods,
# host namespaces and hostPath. Audit and warn stay at restricted in both, so a workload learns
# what restricted would refuse; warn also covers Deployments and Jobs, which enforce does not check.
POD_SECURITY_ENFORCE = {TRAINING_NAMESPACE: "baseline", SERVING_NAMESPACE: "restricted"}


def pod_security_labels(enforce: str) -> dict[str, str]:
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }


def device_plugin_values() -> dict:
    """Run the plugin only on GPU nodes whose AMI lacks it, tolerating the GPU taint."""
    return {
        "tolerations": [GPU_TOLERATION],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [{"key": DEVICE_PLUGIN_LABEL, "operator": "In", "values": ["helm"]}]}]
                }
            }
        },
    }


NODE_INFO_CACHE_EXPIRY = "10m"


def autoscaler_values(*, cluster_name: str, region: str, image_tag: str) -> dict:
    return {
        "cloudProvider": "aws",
        # Explicit, because IMDS hop limit 1 keeps pods from discovering the region themselves.
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        "image": {"tag": image_tag},
        "rbac": {"create": True, "serviceAccount": {"create": True, "name": AUTOSCALER_SERVICE_ACCOUNT}},
        "nodeSelector": {NODE_ROLE_LABEL: "system"},
        "extraArgs": {
            "balance-similar-node-groups": True,
            "expander": "least-waste",
            "skip-nodes-with-system-pods": False,
            # A GPU node that joined before its device plugin advertised nvidia.com/gpu is cached as
            # the group's template for the default 10 years, so after scaling to zero the group
            # never fits a GPU pod again (kubernetes/autoscaler #8123, #8799). Expired, the
            # template is rebuilt from the ASG's node-template tags, which carry the GPU count.
            "node-info-cache-expire-time": NODE_INFO_CACHE_EXPIRY,
        },
    }


def cluster_kubeconfig(facts: pulumi.Output[ClusterFacts]) -> pulumi.Output[str]:
    """A kubeconfig with exec auth (``aws eks get-token``), a secret like layer 1's ``kubeconfig`` output."""
    document = facts.apply(
        lambda f: kubeconfig.render_kubeconfig(
            cluster_name=f.cluster_name,
            endpoint=f.endpoint,
            ca_data=f.certificate_authority,
            token_args=kubeconfig.get_token_args(cluster_name=f.cluster_name, region=f.region, assume_role_arn=f.assume_role_arn),
        )
    )
    return pulumi.Output.secret(document)


@dataclass(frozen=True)
class InClusterSetupArgs:
    """Inputs of :class:`InClusterSetup`.

    facts: layer 1's ``inCluster`` output, parsed (required): cluster name, endpoint and CA,
        Kubernetes minor (which selects the chart pins), region, GPU quotas per ML namespace.
    """

    facts: pulumi.Output[ClusterFacts]


class InClusterSetup(pulumi.ComponentResource):
    """The Kubernetes provider of the cluster and every in-cluster object the platform manages."""

    def __init__(self, name: str, args: InClusterSetupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:incluster:InClusterSetup", name, None, opts)
        facts = args.facts
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=cluster_kubeconfig(facts), enable_server_side_apply=True, opts=pulumi.ResourceOptions(parent=self)
        )
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=self.provider)

        self.namespaces: dict[str, k8s.core.v1.Namespace] = {}
        self.quotas: dict[str, k8s.core.v1.ResourceQuota] = {}
        for namespace in ML_NAMESPACES:
            ns = k8s.core.v1.Namespace(
                f"{name}-ns-{namespace}",
                metadata={"name": namespace, "labels": pod_security_labels(POD_SECURITY_ENFORCE[namespace])},
                opts=k8s_opts,
            )
            self.namespaces[namespace] = ns
            in_ns = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[ns]))
            self.quotas[namespace] = k8s.core.v1.ResourceQuota(
                f"{name}-{namespace}-gpu-quota",
                metadata={"name": "gpu", "namespace": namespace},
                spec={"hard": {f"requests.{GPU_RESOURCE}": facts.apply(lambda f, ns=namespace: str(f.gpu_quota[ns]))}},
                opts=in_ns,
            )
            k8s.core.v1.LimitRange(
                f"{name}-{namespace}-defaults",
                metadata={"name": "container-defaults", "namespace": namespace},
                spec={"limits": [{"type": "Container", "default": DEFAULT_LIMITS, "defaultRequest": DEFAULT_REQUESTS}]},
                opts=in_ns,
            )

        def pinned_release(release: str, pin: pulumi.Output[pins.HelmPin], values: pulumi.Input[dict]) -> k8s.helm.v3.Release:
            return k8s.helm.v3.Release(
                f"{name}-{release}",
                name=release,
                namespace=SYSTEM_NAMESPACE,
                chart=pin.apply(lambda p: p.chart),
                version=pin.apply(lambda p: p.version),
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=pin.apply(lambda p: p.repository)),
                values=values,
                opts=k8s_opts,
            )

        # The Kubernetes minor, and with it the chart pins, comes from layer 1.
        self.device_plugin = pinned_release(
            "nvidia-device-plugin", facts.apply(lambda f: pins.nvidia_device_plugin(f.kubernetes_version)), device_plugin_values()
        )
        autoscaler = facts.apply(lambda f: pins.cluster_autoscaler(f.kubernetes_version))
        self.autoscaler = pinned_release(
            "cluster-autoscaler",
            autoscaler,
            pulumi.Output.all(facts, autoscaler).apply(
                lambda pair: autoscaler_values(cluster_name=pair[0].cluster_name, region=pair[0].region, image_tag=pair[1].image_tag or "")
            ),
        )

        self.service_accounts: dict[str, k8s.core.v1.ServiceAccount] = {}
        for workload in WORKLOADS:
            self.service_accounts[workload.namespace] = k8s.core.v1.ServiceAccount(
                f"{name}-{workload.namespace}-{workload.service_account}-sa",
                metadata={"name": workload.service_account, "namespace": workload.namespace, "labels": {"app.kubernetes.io/managed-by": "pulumi"}},
                # The workloads call AWS, not the Kubernetes API: EKS Pod Identity delivers their
                # credentials through its own projected token, so the API token stays unmounted.
                automount_service_account_token=False,
                opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.namespaces[workload.namespace]])),
            )

        self.outputs: dict[str, pulumi.Input] = {
            "cluster": facts.apply(lambda f: f.cluster_name),
            "namespaces": list(ML_NAMESPACES),
            "gpuQuota": facts.apply(lambda f: dict(f.gpu_quota)),
            "releases": {"nvidiaDevicePlugin": self.device_plugin.version, "clusterAutoscaler": self.autoscaler.version},
        }
        self.register_outputs(self.outputs)
