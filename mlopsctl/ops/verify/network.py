"""The VPC's checks: its range, one private subnet per zone, the NAT gateways and the flow log."""

from __future__ import annotations

from mlopsctl.ops.verify.checks import Checks, compared, memo


def verify_network(v: Checks, section: dict) -> None:
    ec2 = v.clients.client("ec2")
    network = v.config.network
    vpc_id, private = section["vpcId"], section["privateSubnetIds"]
    resource = f"vpc {vpc_id}"
    vpc = memo(lambda: ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0])

    def cidr():
        actual = vpc().get("CidrBlock")
        return compared(actual, network.vpc_cidr, f"CIDR {actual}", f", config says {network.vpc_cidr}")

    def subnets():
        if not private:
            return False, "the outputs list no privateSubnetIds"
        found = ec2.describe_subnets(SubnetIds=list(private))["Subnets"]
        outside = sorted(s["SubnetId"] for s in found if s.get("VpcId") != vpc_id)
        if outside:
            return False, f"private subnets {', '.join(outside)} are not in {vpc_id}"
        zones = sorted({s.get("AvailabilityZone") for s in found})
        if len(found) != network.az_count or len(zones) != network.az_count:
            return False, f"{len(found)} private subnet(s) in {len(zones)} zone(s) ({', '.join(zones)}); config says azCount {network.az_count}"
        if network.private_subnet_cidrs is not None:
            actual, wanted = sorted(s.get("CidrBlock") for s in found), sorted(network.private_subnet_cidrs)
            if actual != wanted:
                return False, f"private subnet CIDRs {', '.join(actual)}; config says {', '.join(wanted)}"
        return True, f"{len(found)} private subnets in {', '.join(zones)}"

    def nat_gateways():
        pages = ec2.get_paginator("describe_nat_gateways").paginate(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "state", "Values": ["available"]}])
        count = sum(len(page["NatGateways"]) for page in pages)
        wanted = 1 if network.nat_gateways == "single" else network.az_count
        return compared(count, wanted, f"{count} available NAT gateway(s)", f"; config natGateways {network.nat_gateways} wants {wanted}")

    def flow_log():
        logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
        active = [f for f in logs if f.get("FlowLogStatus") == "ACTIVE" and f.get("TrafficType") == "ALL"]
        if not active:
            shown = ", ".join(f"{f.get('FlowLogId')} {f.get('FlowLogStatus')}/{f.get('TrafficType')}" for f in logs) or "none"
            return False, f"no active flow log of ALL traffic (flow logs: {shown})"
        return True, f"flow log {active[0].get('FlowLogId')} (ALL traffic) to {active[0].get('LogDestination') or active[0].get('LogGroupName')}"

    v.check("network.vpc", resource, cidr)
    v.check("network.privateSubnets", resource, subnets)
    v.check("network.natGateways", resource, nat_gateways)
    v.check("network.flowLog", resource, flow_log)
