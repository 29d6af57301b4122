"""Mock answers for the network capability: EC2 ids shaped like AWS's.

Real EC2 ids carry a type prefix (``vpc-``, ``subnet-``, ``nat-`` ...) and a 17-hex-digit
suffix; tests and previews then read like a real stack and a wrong cross-reference (a subnet id
where a NAT gateway id belongs) is visible at a glance.
"""

from __future__ import annotations

import hashlib

from mlopsctl.offline.mockoutputs.context import MockContext


def ec2_id(prefix: str, name: str) -> str:
    return f"{prefix}-{hashlib.sha256(name.encode()).hexdigest()[:17]}"


def _ec2_arn(ctx: MockContext, inputs: dict, kind: str, resource_id: str) -> str:
    return f"arn:{ctx.partition}:ec2:{inputs.get('region', ctx.region)}:{ctx.account_id}:{kind}/{resource_id}"


def ec2_resource(prefix: str, kind: str | None = None):
    """Outputs of an EC2 resource whose answer is only its id (``<prefix>-<17 hex>``), owner, tags and ARN (of ``kind``)."""

    def outputs(ctx: MockContext, name: str, inputs: dict) -> dict:
        resource_id = ec2_id(prefix, name)
        out = {"id": resource_id, "ownerId": ctx.account_id, "tagsAll": inputs.get("tags") or {}}
        if kind:
            out["arn"] = _ec2_arn(ctx, inputs, kind, resource_id)
        return out

    return outputs


def vpc(ctx: MockContext, name: str, inputs: dict) -> dict:
    vpc_id = ec2_id("vpc", name)
    return {
        "id": vpc_id,
        "arn": _ec2_arn(ctx, inputs, "vpc", vpc_id),
        "ownerId": ctx.account_id,
        "defaultSecurityGroupId": ec2_id("sg", f"{name}/default"),
        "defaultRouteTableId": ec2_id("rtb", f"{name}/main"),
        "mainRouteTableId": ec2_id("rtb", f"{name}/main"),
        "defaultNetworkAclId": ec2_id("acl", f"{name}/default"),
        "tagsAll": inputs.get("tags") or {},
    }


def subnet(ctx: MockContext, name: str, inputs: dict) -> dict:
    subnet_id = ec2_id("subnet", name)
    return {"id": subnet_id, "arn": _ec2_arn(ctx, inputs, "subnet", subnet_id), "ownerId": ctx.account_id, "tagsAll": inputs.get("tags") or {}}


def eip(ctx: MockContext, name: str, inputs: dict) -> dict:
    allocation_id = ec2_id("eipalloc", name)
    octets = hashlib.sha256(name.encode()).digest()[:2]
    # 198.51.100.0/24 is TEST-NET-2 (RFC 5737): plausible, never a real address.
    return {"id": allocation_id, "allocationId": allocation_id, "publicIp": f"198.51.100.{octets[0] % 254 + 1}", "domain": "vpc", "tagsAll": inputs.get("tags") or {}}


def nat_gateway(ctx: MockContext, name: str, inputs: dict) -> dict:
    return {"id": ec2_id("nat", name), "networkInterfaceId": ec2_id("eni", f"{name}/nat"), "tagsAll": inputs.get("tags") or {}}


def security_group(ctx: MockContext, name: str, inputs: dict) -> dict:
    group_id = ec2_id("sg", name)
    return {
        "id": group_id,
        "arn": _ec2_arn(ctx, inputs, "security-group", group_id),
        "name": inputs.get("name") or "default",
        "ownerId": ctx.account_id,
        "tagsAll": inputs.get("tags") or {},
    }


def vpc_endpoint(ctx: MockContext, name: str, inputs: dict) -> dict:
    endpoint_id = ec2_id("vpce", name)
    out = {"id": endpoint_id, "arn": _ec2_arn(ctx, inputs, "vpc-endpoint", endpoint_id), "ownerId": ctx.account_id, "state": "available", "tagsAll": inputs.get("tags") or {}}
    if inputs.get("vpcEndpointType") == "Gateway":
        out["prefixListId"] = ec2_id("pl", name)[:11]
    else:
        out["networkInterfaceIds"] = [ec2_id("eni", f"{name}/{subnet}") for subnet in inputs.get("subnetIds") or []]
    return out
