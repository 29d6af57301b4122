"""EKS worker-node policies: node groups and their EC2 launch templates (version skew, IMDSv2, encrypted volumes, GPU AMIs, SSH)."""

from __future__ import annotations

from awsfacts import eks_versions
from awsfacts.instances import is_gpu_ec2_type
from packlib import (
    EKS_CLUSTER,
    EKS_NODE_GROUP,
    LAUNCH_TEMPLATE,
    LAUNCH_TEMPLATE_TYPES,
    MISSING,
    PolicyList,
    Severity,
    UnknownValueError,
    as_list,
    checkov,
    each,
    eks_gpu_ami_types,
    is_set,
    is_true,
    lookup,
    of_types,
    resource_label,
)

POLICIES = PolicyList()


@POLICIES.stack(
    "eks-node-group-version",
    "No EKS node group runs a newer Kubernetes minor than its cluster.",
    category="reliability", severity=Severity.HIGH,
    remediation="Upgrade the control plane first, then addons, then node groups; leave a node group's version unset or equal to the cluster's.",
)
def _check_node_group_not_newer_than_cluster(args, report, cfg) -> None:
    clusters = {c.urn: c for c in of_types(args.resources, (EKS_CLUSTER,))}

    def check(node_group) -> None:
        version = lookup(node_group.props, "version")
        if version is MISSING:
            return  # unset: EKS uses the cluster's version
        for dep in node_group.property_dependencies.get("clusterName") or []:
            cluster = clusters.get(dep.urn)
            if cluster is None:
                continue
            cluster_version = lookup(cluster.props, "version")
            if cluster_version is MISSING:
                continue
            if eks_versions.minor_key(str(version)) > eks_versions.minor_key(str(cluster_version)):
                report(
                    f"{resource_label(node_group)} runs Kubernetes {version}, newer than its cluster's {cluster_version}; "
                    "a node group may lag the control plane, never lead it.",
                    node_group.urn,
                )

    each(of_types(args.resources, (EKS_NODE_GROUP,)), check)


@POLICIES.resource(
    "eks-node-imdsv2",
    "EKS worker nodes require IMDSv2 (node groups use a launch template with httpTokens=required).",
    types=LAUNCH_TEMPLATE_TYPES + (EKS_NODE_GROUP,), category="security", severity=Severity.HIGH,
    remediation="Give the node group a launch template with metadata_options={'http_tokens': 'required', 'http_put_response_hop_limit': 1 or 2}.",
    frameworks=[checkov("CKV_AWS_79", "Ensure Instance Metadata Service Version 1 is not enabled")],
)
def _check_node_imdsv2(args, report, cfg) -> None:
    if args.resource_type == EKS_NODE_GROUP:
        if not is_set(args.props, "launchTemplate"):
            report("the node group has no launch template, so IMDSv2 and root-volume encryption are not enforced; attach one.")
        return
    tokens = lookup(args.props, "metadataOptions", "httpTokens")
    if tokens != "required":
        report(f"metadataOptions.httpTokens is {tokens if tokens is not MISSING else 'unset (AWS default: optional)'}; set it to required (IMDSv2).")


@POLICIES.resource(
    "eks-node-root-volume-encrypted",
    "Node launch templates encrypt every EBS volume, including the root volume.",
    types=LAUNCH_TEMPLATE_TYPES, category="security", severity=Severity.HIGH,
    remediation="Map the root device (/dev/xvda) in block_device_mappings with ebs={'encrypted': 'true', 'kms_key_id': <CMK ARN>}.",
)
def _check_node_root_volume_encrypted(args, report, cfg) -> None:
    mappings = as_list(lookup(args.props, "blockDeviceMappings"))
    if not mappings:
        report("no blockDeviceMappings: the root volume takes the AMI's default, which is unencrypted; map the root device with ebs.encrypted=true.")
    for mapping in mappings:
        if lookup(mapping, "ebs") is MISSING:
            continue
        if not is_true(lookup(mapping, "ebs", "encrypted")):
            report(f"EBS volume {lookup(mapping, 'deviceName')} is not encrypted (ebs.encrypted).")


@POLICIES.resource(
    "eks-gpu-ami-type",
    "GPU instance types run only on GPU AMI types (with the NVIDIA driver).",
    types=(EKS_NODE_GROUP,), category="security", severity=Severity.MEDIUM,
    remediation="Set ami_type to AL2023_x86_64_NVIDIA or BOTTLEROCKET_x86_64_NVIDIA for GPU node groups.",
)
def _check_gpu_ami_type(args, report, cfg) -> None:
    gpu_types = [t for t in as_list(lookup(args.props, "instanceTypes")) if isinstance(t, str) and is_gpu_ec2_type(t)]
    if not gpu_types:
        return
    ami_type = lookup(args.props, "amiType")
    if ami_type == "CUSTOM":
        return  # the launch template's AMI decides
    if ami_type not in eks_gpu_ami_types():
        report(f"GPU instance types {gpu_types} run on amiType {ami_type if ami_type is not MISSING else 'unset (AL2023 standard)'}, which has no NVIDIA driver; use one of {sorted(eks_gpu_ami_types())}.")


def _launch_templates(node_group, templates) -> list:
    """The launch template(s) a node group starts its nodes from, joined through propertyDependencies.

    A template given by literal id or name (no dependency recorded) is matched by that value.
    """
    linked = [d for d in node_group.property_dependencies.get("launchTemplate") or [] if d.resource_type == LAUNCH_TEMPLATE]
    if linked:
        return linked
    wanted = {lookup(node_group.props, "launchTemplate", key) for key in ("id", "name")} - {MISSING}
    return [t for t in templates if {lookup(t.props, "id"), lookup(t.props, "name")} & wanted]


@POLICIES.stack(
    "eks-node-no-ssh",
    "EKS node groups allow no SSH: no remoteAccess, and no key pair in the launch template their nodes start from.",
    category="security", severity=Severity.HIGH,
    remediation="Drop remote_access from the node group and key_name from its launch template; reach nodes with SSM Session Manager (the node role's AmazonSSMManagedInstanceCore) or kubectl debug.",
)
def _check_node_ssh(args, report, cfg) -> None:
    templates = of_types(args.resources, LAUNCH_TEMPLATE_TYPES)

    def check(node_group) -> None:
        if is_set(node_group.props, "remoteAccess"):
            report(f"{resource_label(node_group)} sets remoteAccess: EKS opens SSH (RDP on Windows) to its nodes with an EC2 key pair.", node_group.urn)
        for template in _launch_templates(node_group, templates):
            if is_set(template.props, "keyName"):
                report(f"{resource_label(node_group)} starts its nodes from {resource_label(template)}, whose keyName installs an EC2 key pair "
                       "for SSH on every node; remove it.", node_group.urn)

    each(of_types(args.resources, (EKS_NODE_GROUP,)), check)


@POLICIES.resource(
    "eks-node-ssh-not-from-internet",
    "EKS node group remote access is never open to the internet (an ec2SshKey without sourceSecurityGroupIds).",
    types=(EKS_NODE_GROUP,), category="security", severity=Severity.CRITICAL,
    remediation="Remove remote_access; if SSH is unavoidable, list source_security_group_ids so that only those groups reach port 22.",
    frameworks=[checkov("CKV_AWS_100", "Ensure AWS EKS node group does not have implicit SSH access from 0.0.0.0/0")],
)
def _check_node_ssh_from_internet(args, report, cfg) -> None:
    if not is_set(args.props, "remoteAccess", "ec2SshKey"):
        return
    try:
        groups = lookup(args.props, "remoteAccess", "sourceSecurityGroupIds")
    except UnknownValueError:
        return  # a list computed in this update; the AWS default applies only to an absent or empty one
    if groups is not MISSING and len(groups):
        return
    report("remoteAccess.ec2SshKey is set without sourceSecurityGroupIds, so EKS opens port 22 (3389 on Windows) on every node "
           "to 0.0.0.0/0; remove remoteAccess, or list the security groups that may connect.")
