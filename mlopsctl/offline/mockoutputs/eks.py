"""Mock computed outputs for EKS resources: what AWS returns once a cluster or node group exists.

Shapes follow the pulumi-aws v7 schema (wire format): the cluster's endpoint, CA data and OIDC
issuer; a node group's physical name and its Auto Scaling group (which the scale-from-zero tags
target); a launch template's id and latest version.
"""

from __future__ import annotations

import base64
import hashlib

from mlopsctl.offline.mockoutputs.context import MockContext, physical_name


def _hex(*parts: str, length: int = 32) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length].upper()


def cluster(ctx: MockContext, name: str, inputs: dict) -> dict:
    cluster = physical_name(name, inputs)
    region = inputs.get("region", ctx.region)
    oidc_id = _hex(cluster)
    vpc_config = dict(inputs.get("vpcConfig") or {})
    vpc_config.update({"clusterSecurityGroupId": f"sg-{_hex(cluster, 'sg', length=17).lower()}", "vpcId": vpc_config.get("vpcId") or "vpc-mock"})
    ca_pem = f"-----BEGIN CERTIFICATE-----\nmock CA of {cluster}\n-----END CERTIFICATE-----\n"
    return {
        "name": cluster,
        "arn": f"arn:{ctx.partition}:eks:{region}:{ctx.account_id}:cluster/{cluster}",
        "endpoint": f"https://{oidc_id}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": base64.b64encode(ca_pem.encode()).decode()},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{oidc_id}"}]}],
        "clusterId": _hex(cluster, "id", length=8).lower(),
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "vpcConfig": vpc_config,
    }


def node_group(ctx: MockContext, name: str, inputs: dict) -> dict:
    group = inputs.get("nodeGroupName") or f"{inputs.get('nodeGroupNamePrefix', name + '-')}{_hex(name, length=26).lower()}"
    cluster = inputs.get("clusterName", "cluster")
    uuid = _hex(cluster, group).lower()
    node_group_id = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:32]}"
    region = inputs.get("region", ctx.region)
    return {
        "nodeGroupName": group,
        "arn": f"arn:{ctx.partition}:eks:{region}:{ctx.account_id}:nodegroup/{cluster}/{group}/{node_group_id}",
        "resources": [{"autoscalingGroups": [{"name": f"eks-{group}-{node_group_id}"}], "remoteAccessSecurityGroupId": ""}],
        "status": "ACTIVE",
        "version": inputs.get("version") or "1.34",
        "releaseVersion": "mock",
        "id": f"{cluster}:{group}",
    }


def launch_template(ctx: MockContext, name: str, inputs: dict) -> dict:
    template_id = f"lt-{_hex(name, length=17).lower()}"
    region = inputs.get("region", ctx.region)
    return {
        "id": template_id,
        "name": physical_name(name, inputs),
        "arn": f"arn:{ctx.partition}:ec2:{region}:{ctx.account_id}:launch-template/{template_id}",
        "latestVersion": 1,
        "defaultVersion": 1,
    }


def pod_identity_association(ctx: MockContext, name: str, inputs: dict) -> dict:
    association_id = f"a-{_hex(name, length=17).lower()}"
    cluster = inputs.get("clusterName", "cluster")
    region = inputs.get("region", ctx.region)
    return {
        "id": association_id,
        "associationId": association_id,
        "associationArn": f"arn:{ctx.partition}:eks:{region}:{ctx.account_id}:podidentityassociation/{cluster}/{association_id}",
    }
