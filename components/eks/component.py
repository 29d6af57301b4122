"""EksCluster, the EKS component: the platform's Kubernetes cluster for training and batch work
(docs/eks.md). It composes the control plane (``control_plane.py``), access entries, managed
addons, node groups and the workloads' AWS identities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import EksConfig
from components.eks import access, addons, kubeconfig, nodegroups, workloads
from components.eks.control_plane import control_plane
from components.incluster import contract
from components.keys import PlatformKey
from components.scope import AwsScope


@dataclass(frozen=True)
class EksClusterArgs:
    """Inputs of :class:`EksCluster`.

    config: the validated ``eks`` section (required).
    scope: the stack's account, partition and region (role trust, ARNs; Cluster Autoscaler and
        ``aws eks get-token`` are told the region explicitly), the boundary on every role created
        here, and the tags written onto EC2 instances and volumes via launch templates, where
        provider default tags never reach (required).
    environment: dev, staging or prod (required; layer 2 checks it reads its own environment).
    cluster_name: physical cluster name, e.g. ``mlops-dev`` (required; known at plan time
        because tag keys and IAM conditions embed it, and the network tags subnets for it).
    subnet_ids: private subnet ids for the control plane ENIs and nodes (required).
    vpc_id: the VPC of those subnets (required).
    secrets_key: KMS key for envelope encryption of Kubernetes secrets (required); the cluster
        role gets its grant.
    ebs_key: KMS key of node volumes and EBS CSI volumes (required); the EBS CSI driver gets its
        grant. Its key policy must let the AWSServiceRoleForAutoScaling service-linked role use
        it, or GPU nodes fail to launch.
    logs_kms_key_arn: KMS key of the control-plane log group (required; its key policy must allow
        ``logs.<region>.amazonaws.com``).
    private_api_cidrs: in-VPC ranges allowed to reach the private API endpoint on 443 (default none).
    assume_role_arn: role the stack's AWS provider assumes; the kubeconfig passes it to
        ``aws eks get-token --role-arn`` (default none).
    artifact_store: object with ``grant_read/grant_write(role, prefix=...)``; when given, the
        ml-training and ml-serving service accounts get Pod Identity roles with prefix grants
        (default none). The service accounts themselves are layer 2's (components/incluster).
    """

    config: EksConfig
    scope: AwsScope
    environment: str
    cluster_name: str
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    vpc_id: pulumi.Input[str]
    secrets_key: PlatformKey
    ebs_key: PlatformKey
    logs_kms_key_arn: pulumi.Input[str]
    private_api_cidrs: Sequence[str] = ()
    assume_role_arn: str | None = None
    artifact_store: workloads.ArtifactGrants | None = None


class EksCluster(pulumi.ComponentResource):
    """Control plane, access entries, pinned addons, system + GPU node groups and workload identities.

    Everything here talks only to AWS APIs (layer 1); the in-cluster objects are layer 2's, which
    reads this component's ``in_cluster`` facts through a StackReference.
    """

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:eks:EksCluster", name, None, opts)
        config, scope, cluster_name = args.config, args.scope, args.cluster_name
        child = pulumi.ResourceOptions(parent=self)

        plane = control_plane(
            name,
            scope,
            cluster_name=cluster_name,
            config=config,
            subnet_ids=args.subnet_ids,
            vpc_id=args.vpc_id,
            private_api_cidrs=args.private_api_cidrs,
            secrets_key=args.secrets_key,
            logs_kms_key_arn=args.logs_kms_key_arn,
            opts=child,
        )
        cluster = plane.cluster
        self.cluster = cluster
        self.api_security_group = plane.api_security_group

        self.access = access.cluster_access(
            name, scope, cluster=cluster, admin_role_arns=config.admin_role_arns, deploy_role_arn=config.deploy_role_arn, opts=child
        )

        roles = addons.addon_roles(name, scope, cluster_name=cluster_name, ebs_key=args.ebs_key, opts=child)
        addon_role = {"vpc-cni": (roles.vpc_cni, addons.VPC_CNI_SERVICE_ACCOUNT), "aws-ebs-csi-driver": (roles.ebs_csi, addons.EBS_CSI_SERVICE_ACCOUNT)}

        def addon(addon_name: str, opts: pulumi.ResourceOptions) -> aws.eks.Addon:
            role, service_account = addon_role.get(addon_name, (None, None))
            return addons.managed_addon(
                name, addon_name, scope, cluster=cluster, kubernetes_version=config.version, opts=opts, role=role, service_account=service_account
            )

        before_compute = [addon(a, child) for a in addons.BEFORE_COMPUTE]

        role, role_attachments = nodegroups.node_role(name, scope, opts=child)
        self.node_role = role  # the image repositories grant it pull (components/images)
        node_opts = pulumi.ResourceOptions(parent=self, depends_on=[*role_attachments, *before_compute])
        self.node_groups: dict[str, aws.eks.NodeGroup] = {}
        self.asg_tags: dict[str, list[aws.autoscaling.Tag]] = {}
        specs = [nodegroups.system_spec(config.system_node_group), *(nodegroups.gpu_spec(g) for g in config.gpu_node_groups)]
        for spec in specs:
            template = nodegroups.launch_template(name, spec, scope, cluster_name=cluster_name, ebs_kms_key_arn=args.ebs_key.arn, opts=child)
            group = nodegroups.node_group(name, spec, scope, cluster=cluster, role=role, subnet_ids=args.subnet_ids, template=template, opts=node_opts)
            self.node_groups[spec.key] = group
            if spec.is_gpu:
                self.asg_tags[spec.key] = nodegroups.scale_from_zero_tags(name, spec, group, cluster_name=cluster_name, opts=child)
        system_nodes = self.node_groups["system"]
        self.addons = [*before_compute, *(addon(a, pulumi.ResourceOptions(parent=self, depends_on=[system_nodes])) for a in addons.AFTER_COMPUTE)]

        self.kubeconfig = kubeconfig.kubeconfig(cluster, cluster_name=cluster_name, region=scope.region, assume_role_arn=args.assume_role_arn)
        self.identities = workloads.workload_identities(
            name, scope, cluster=cluster, cluster_name=cluster_name, artifact_store=args.artifact_store, opts=child
        )
        # Layer 2 starts only after this layer's `pulumi up` finished, so system nodes, addons and
        # Pod Identity associations exist before the Helm releases that need them.
        self.in_cluster = contract.layer1_output(
            environment=args.environment,
            region=scope.region,
            cluster=cluster,
            kubernetes_version=config.version,
            assume_role_arn=args.assume_role_arn,
            gpu_quota={workloads.TRAINING_NAMESPACE: config.gpu_quota.training, workloads.SERVING_NAMESPACE: config.gpu_quota.serving},
        )

        self.outputs: dict[str, pulumi.Input] = {
            "name": cluster.name,
            "version": cluster.version,
            "endpoint": cluster.endpoint,
            # EKS Pod Identity is the workload identity here; no IAM OIDC provider is created.
            "oidcProviderArn": None,
            "nodeGroups": {key: group.node_group_name for key, group in self.node_groups.items()},
        }
        self.register_outputs({"cluster": self.outputs, "kubeconfig": self.kubeconfig, "inCluster": self.in_cluster})
