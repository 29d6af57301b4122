"""The platform VPC: public and private subnets per AZ, NAT, VPC endpoints and flow logs.

Layout (``NetworkConfig.subnet_layout()``): one public and one private subnet in each of
``azCount`` availability zones. Private subnets hold the EKS nodes and pods (VPC CNI gives pods VPC
addresses, hence the large ranges) and reach the internet through NAT; public subnets hold only the
NAT gateways and internet-facing load balancers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import CONFIG_KEY, NetworkConfig
from components.iam.policy import Statement
from components.iam.roles import inline_policy, service_role
from components.scope import AwsScope

AZ_COUNT_KEY = f"{CONFIG_KEY}.network.azCount"
FLOW_LOGS_SERVICE = "vpc-flow-logs.amazonaws.com"
# Interface endpoints accept HTTPS only; nothing else needs to reach them.
HTTPS = 443


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of :class:`Network`.

    config: the stack's validated ``network`` section (required).
    scope: the stack's region, partition and account (endpoint service names, flow-log ARNs), name
        stem (``Name`` tags, the log group) and the boundary of the flow-log delivery role (required).
    cluster_name: EKS cluster whose load balancers and nodes may use the subnets; adds the
        ``kubernetes.io/cluster/<name>: shared`` tag. Default ``None`` (no cluster tag).
    flow_log_kms_key_arn: KMS key (ARN) that encrypts the flow-log log group; the key's policy must
        let ``logs.<region>.amazonaws.com`` use it. Default ``None`` (CloudWatch Logs' own encryption).
    """

    config: NetworkConfig
    scope: AwsScope
    cluster_name: str | None = None
    flow_log_kms_key_arn: pulumi.Input[str] | None = None


class AvailabilityZoneShortage(pulumi.RunError):
    """The region offers fewer availability zones than ``azCount`` asks for (one-line message)."""


def choose_zones(offered: list[str], az_count: int, region: str, stack_file: str) -> list[str]:
    """The first ``az_count`` zones the region offers, or a one-line error naming the stack file and key."""
    if len(offered) >= az_count:
        return sorted(offered)[:az_count]
    allowed = f"set it to {len(offered)}" if len(offered) >= 2 else "choose a region with at least 2"
    raise AvailabilityZoneShortage(
        f"{stack_file}: {AZ_COUNT_KEY}: {az_count} availability zones requested but {region} offers only "
        f"{len(offered)} available ({', '.join(sorted(offered)) or 'none'}); {allowed}"
    )


class Network(pulumi.ComponentResource):
    """A VPC across ``azCount`` AZs with NAT, an S3 gateway endpoint, optional interface endpoints and flow logs.

    Attributes for other components: ``vpc_id``, ``vpc_cidr``, ``private_subnet_ids``,
    ``public_subnet_ids``, ``endpoint_security_group_id`` (``None`` without interface endpoints),
    ``availability_zones``, and ``network`` (the ``network`` stack output).
    """

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:network:Network", name, None, opts)
        config, scope = args.config, args.scope
        stem = scope.name_stem
        child = pulumi.ResourceOptions(parent=self)

        # The zones come from the provider the resources are created with (through the parent).
        offered = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=self))
        zones = offered.names.apply(lambda names: choose_zones(list(names), config.az_count, scope.region, scope.stack_file))
        public_cidrs, private_cidrs = config.subnet_layout()

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            # Gated on the zone check: a region with too few AZs fails before the VPC (and so
            # anything in this component, which all depends on it) is created.
            cidr_block=zones.apply(lambda _: config.vpc_cidr),
            enable_dns_support=True,
            # Private DNS of interface endpoints and EKS node registration need both DNS settings.
            enable_dns_hostnames=True,
            tags={"Name": stem},
            opts=child,
        )
        # AWS creates every VPC with a default security group that lets members talk to each other
        # and reach anywhere. Adopting it with no rules removes them, so nothing can use it by accident.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags={"Name": f"{stem}-default-locked"},
            opts=child,
        )

        cluster_tags = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"} if args.cluster_name else {}
        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for index in range(config.az_count):
            zone = zones.apply(lambda names, i=index: names[i])
            public_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-public-{index + 1}",
                    vpc_id=vpc.id,
                    cidr_block=public_cidrs[index],
                    availability_zone=zone,
                    # Nothing here needs an automatic public IP: NAT gateways use their Elastic IP
                    # and load balancers get their own addresses. An instance launched here by
                    # mistake therefore stays unreachable from the internet.
                    map_public_ip_on_launch=False,
                    tags={"Name": zone.apply(lambda z: f"{stem}-public-{z}"), "kubernetes.io/role/elb": "1", **cluster_tags},
                    opts=child,
                )
            )
            private_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-private-{index + 1}",
                    vpc_id=vpc.id,
                    cidr_block=private_cidrs[index],
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={"Name": zone.apply(lambda z: f"{stem}-private-{z}"), "kubernetes.io/role/internal-elb": "1", **cluster_tags},
                    opts=child,
                )
            )

        internet_gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": stem}, opts=child)
        public_routes = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=vpc.id, tags={"Name": f"{stem}-public"}, opts=child)
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=internet_gateway.id,
            opts=child,
        )
        for index, subnet in enumerate(public_subnets):
            aws.ec2.RouteTableAssociation(f"{name}-public-{index + 1}", subnet_id=subnet.id, route_table_id=public_routes.id, opts=child)

        # single: one NAT in the first AZ for everyone (cheap; an AZ outage cuts egress for all).
        # perAz: one NAT per AZ, each AZ's private subnets use their own (no cross-AZ dependency).
        nat_count = 1 if config.nat_gateways == "single" else config.az_count
        # A NAT gateway's public side only works once the VPC has an internet gateway.
        after_igw = pulumi.ResourceOptions(parent=self, depends_on=[internet_gateway])
        nat_gateways: list[aws.ec2.NatGateway] = []
        for index in range(nat_count):
            elastic_ip = aws.ec2.Eip(f"{name}-nat-{index + 1}", domain="vpc", tags={"Name": f"{stem}-nat-{index + 1}"}, opts=after_igw)
            nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{index + 1}",
                    allocation_id=elastic_ip.allocation_id,
                    subnet_id=public_subnets[index].id,
                    connectivity_type="public",
                    tags={"Name": f"{stem}-nat-{index + 1}"},
                    opts=after_igw,
                )
            )

        # One private route table per AZ even with a single NAT: switching natGateways to perAz then
        # only repoints routes instead of replacing tables and re-associating subnets.
        private_route_tables: list[aws.ec2.RouteTable] = []
        for index, subnet in enumerate(private_subnets):
            table = aws.ec2.RouteTable(
                f"{name}-private-{index + 1}-rt",
                vpc_id=vpc.id,
                tags={"Name": subnet.availability_zone.apply(lambda z: f"{stem}-private-{z}")},
                opts=child,
            )
            private_route_tables.append(table)
            aws.ec2.Route(
                f"{name}-private-{index + 1}-default",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat_gateways[index % nat_count].id,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{name}-private-{index + 1}", subnet_id=subnet.id, route_table_id=table.id, opts=child)

        # The scope's partition prefix, so endpoint service names are right in every partition.
        def service_name(service: str) -> pulumi.Output[str]:
            return pulumi.Output.concat(scope.reverse_dns_prefix, ".", scope.region, ".", service)

        # Gateway endpoints are free: S3 traffic (artifacts, ECR image layers) bypasses NAT charges.
        self.s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=service_name("s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in private_route_tables],
            tags={"Name": f"{stem}-s3"},
            opts=child,
        )

        endpoint_security_group_id: pulumi.Output[str] | None = None
        self.interface_endpoints: dict[str, aws.ec2.VpcEndpoint] = {}
        if config.interface_endpoints:
            endpoint_sg = aws.ec2.SecurityGroup(
                f"{name}-endpoints-sg",
                name=f"{stem}-vpc-endpoints",
                description="Interface VPC endpoints: HTTPS from inside the VPC only",
                vpc_id=vpc.id,
                tags={"Name": f"{stem}-vpc-endpoints"},
                opts=child,
            )
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-endpoints-https",
                security_group_id=endpoint_sg.id,
                ip_protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
                cidr_ipv4=config.vpc_cidr,
                description="HTTPS from the VPC",
                opts=child,
            )
            endpoint_security_group_id = endpoint_sg.id
            for service in config.interface_endpoints:
                self.interface_endpoints[service] = aws.ec2.VpcEndpoint(
                    f"{name}-{service.replace('.', '-')}",
                    vpc_id=vpc.id,
                    service_name=service_name(service),
                    vpc_endpoint_type="Interface",
                    # Private DNS makes the standard SDK hostnames resolve to the endpoint, so
                    # workloads need no endpoint-specific configuration.
                    private_dns_enabled=True,
                    subnet_ids=[s.id for s in private_subnets],
                    security_group_ids=[endpoint_sg.id],
                    tags={"Name": f"{stem}-{service}"},
                    opts=child,
                )

        self._flow_logs(name, args, vpc)

        self.vpc = vpc
        self.vpc_id: pulumi.Output[str] = vpc.id
        self.vpc_cidr: str = config.vpc_cidr
        self.availability_zones: pulumi.Output[list[str]] = zones
        self.public_subnet_ids: pulumi.Output[list[str]] = pulumi.Output.all(*[s.id for s in public_subnets])
        self.private_subnet_ids: pulumi.Output[list[str]] = pulumi.Output.all(*[s.id for s in private_subnets])
        self.endpoint_security_group_id = endpoint_security_group_id
        self.nat_gateway_count = nat_count
        self.network: dict[str, pulumi.Input] = {
            "vpcId": self.vpc_id,
            "privateSubnetIds": self.private_subnet_ids,
            "publicSubnetIds": self.public_subnet_ids,
            "natGatewayCount": nat_count,
        }
        self.register_outputs(
            {
                **self.network,
                "vpcCidr": self.vpc_cidr,
                "availabilityZones": zones,
                "endpointSecurityGroupId": endpoint_security_group_id,
            }
        )

    def _flow_logs(self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc) -> None:
        scope = args.scope
        stem, region, partition, account_id = scope.name_stem, scope.region, scope.partition, scope.account_id
        # Flow logs exist for the VPC; wait for it so a failed zone check leaves nothing behind.
        child = pulumi.ResourceOptions(parent=self, depends_on=[vpc])
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=log_group_path(stem),
            retention_in_days=args.config.flow_log_retention_days,
            kms_key_id=args.flow_log_kms_key_arn,
            opts=child,
        )
        # aws:SourceArn pins the role to flow logs of this account and region (the flow log's own
        # id is not known before it exists, hence the wildcard on it).
        flow_log_arns = pulumi.Output.concat("arn:", partition, ":ec2:", region, ":", account_id, ":vpc-flow-log/*")
        role = service_role(
            f"{name}-flow-logs",
            scope,
            service=FLOW_LOGS_SERVICE,
            description=f"VPC flow log delivery for {stem} into {log_group_path(stem)}",
            extra_conditions={"ArnLike": {"aws:SourceArn": flow_log_arns}},
            opts=child,
        )
        all_log_groups = pulumi.Output.concat("arn:", partition, ":logs:", region, ":", account_id, ":log-group:*")
        policy = inline_policy(
            f"{name}-flow-logs",
            role,
            [
                # The log group exists already (created above), so no logs:CreateLogGroup. Log
                # streams are addressed as "<group arn>:log-stream:<name>", hence the ":*" form.
                Statement(
                    sid="WriteFlowLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[log_group.arn, pulumi.Output.concat(log_group.arn, ":*")],
                ),
                # DescribeLogGroups is a list call authorised against the account's log groups, not
                # one group; it is read-only and limited to this account and region.
                Statement(sid="FindLogGroup", actions=["logs:DescribeLogGroups"], resources=[all_log_groups]),
            ],
            opts=child,
        )
        self.flow_log_group = log_group
        self.flow_log_role = role
        self.flow_log = aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            tags={"Name": stem},
            # Delivery starts right away; without the policy in place the flow log sits in an
            # access error until it is recreated.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )


def log_group_path(stem: str) -> str:
    return f"/aws/vpc-flow-logs/{stem}"
