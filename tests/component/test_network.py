"""The platform network under mocks: layout, NAT, routes, endpoints, flow logs, lock-down, AZ checks."""

from __future__ import annotations

import ipaddress
import json

import pulumi
import pulumi_aws as aws
import pytest

from components.config import CONFIG_KEY, NetworkConfig
from components.network import Network, NetworkArgs
from components.network.vpc import AvailabilityZoneShortage, choose_zones
from components.scope import AwsScope
from mlopsctl.offline import harness
from mlopsctl.offline.harness import ACCOUNT_ID, ProgramError, Recording
from mlopsctl.offline.wire import UNKNOWN
from tests.support.programs import run_component
from tests.support.stacks import STACK_ACCOUNTS, STACKS, assert_one_line_config_error, stack_config, stack_preview, stack_raw_config

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
IGW = "aws:ec2/internetGateway:InternetGateway"
NETWORK_TYPES = {IGW, VPC, SUBNET, NAT, EIP, ROUTE, ROUTE_TABLE, ASSOCIATION, ENDPOINT, SECURITY_GROUP, INGRESS_RULE, DEFAULT_SG, LOG_GROUP, ROLE, ROLE_POLICY, FLOW_LOG}
LOGS_KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"


def network_scope(**overrides) -> AwsScope:
    return AwsScope(**{"account_id": ACCOUNT_ID, "region": "us-east-1", "name_stem": "mlops-dev", "stack_file": "stacks/Pulumi.test.yaml", **overrides})


def network_args(network: dict | None = None, *, scope: AwsScope | None = None, **overrides) -> NetworkArgs:
    config = stack_config("dev", network=network or {}).network
    return NetworkArgs(**{"config": config, "scope": scope or network_scope(), "cluster_name": "mlops-dev", **overrides})


def run_network(args: NetworkArgs, *, availability_zone_count: int = 3, unknowns: bool = False) -> Recording:
    """Run the component alone, as the platform does: under an explicit provider passed through the parent."""

    def program():
        provider = aws.Provider("aws", region="us-east-1")
        Network("net", args, opts=pulumi.ResourceOptions(providers={"aws": provider}))

    return run_component(program, availability_zone_count=availability_zone_count, unknowns=unknowns)


def by_id(rec: Recording, token: str) -> dict:
    return {r.id: r for r in rec.of_type(token)}


def subnets(rec: Recording, kind: str) -> list:
    return sorted((s for s in rec.of_type(SUBNET) if f"-{kind}-" in s.name), key=lambda s: s.name)


def default_route(rec: Recording, table_id: str):
    routes = [r for r in rec.of_type(ROUTE) if r.inputs["routeTableId"] == table_id]
    assert len(routes) == 1, routes
    assert routes[0].inputs["destinationCidrBlock"] == "0.0.0.0/0"
    return routes[0]


def table_of(rec: Recording, subnet_id: str) -> str:
    tables = [a.inputs["routeTableId"] for a in rec.of_type(ASSOCIATION) if a.inputs["subnetId"] == subnet_id]
    assert len(tables) == 1, f"subnet {subnet_id} has {len(tables)} route table associations"
    return tables[0]


def policy(resource, key: str) -> dict:
    return json.loads(resource.inputs[key])


# ---------------------------------------------------------------------------------------------
# Layout per environment (the real stack files)

EXPECTED = {
    # stack: (AZs, NAT gateways, interface endpoints)
    "dev": (2, 1, set()),
    "staging": (2, 1, {"ecr.api", "ecr.dkr", "sts"}),
    "prod": (3, 3, {"ecr.api", "ecr.dkr", "sts", "sagemaker.runtime", "logs"}),
}


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_has_public_and_private_subnets_in_distinct_azs_from_the_layout(stack):
    preview = stack_preview(stack)
    rec, network = preview.recording, preview.config.network
    az_count, _, _ = EXPECTED[stack]
    assert network.az_count == az_count
    public, private = subnets(rec, "public"), subnets(rec, "private")
    expected_public, expected_private = network.subnet_layout()
    assert [s.inputs["cidrBlock"] for s in public] == expected_public
    assert [s.inputs["cidrBlock"] for s in private] == expected_private
    zones = [f"us-east-1{letter}" for letter in "abc"[:az_count]]
    assert [s.inputs["availabilityZone"] for s in public] == zones
    assert [s.inputs["availabilityZone"] for s in private] == zones
    vpc = rec.one(VPC)
    assert vpc.inputs["cidrBlock"] == network.vpc_cidr
    assert all(s.inputs["vpcId"] == vpc.id for s in public + private)
    blocks = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in public + private]
    assert all(b.subnet_of(ipaddress.ip_network(network.vpc_cidr)) for b in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])


@pytest.mark.parametrize("stack", STACKS)
def test_nat_gateways_per_environment_sit_in_public_subnets_with_their_own_elastic_ip(stack):
    rec = stack_preview(stack).recording
    _, nat_count, _ = EXPECTED[stack]
    nats, eips = rec.of_type(NAT), by_id(rec, EIP)
    assert len(nats) == nat_count and len(eips) == nat_count
    public_ids = [s.id for s in subnets(rec, "public")]
    assert sorted(n.inputs["subnetId"] for n in nats) == sorted(public_ids[:nat_count])
    assert sorted(n.inputs["allocationId"] for n in nats) == sorted(eips)
    assert all(e.inputs["domain"] == "vpc" for e in eips.values())
    assert all(n.inputs["connectivityType"] == "public" for n in nats)
    igw = rec.one(IGW)
    assert all(igw.urn in n.dependencies for n in nats), "NAT gateways must wait for the internet gateway"


@pytest.mark.parametrize("stack", STACKS)
def test_each_private_subnet_defaults_to_the_nat_in_its_own_az_or_the_shared_one(stack):
    rec = stack_preview(stack).recording
    nat_by_id = by_id(rec, NAT)
    subnet_az = {s.id: s.inputs["availabilityZone"] for s in rec.of_type(SUBNET)}
    private = subnets(rec, "private")
    tables = [table_of(rec, s.id) for s in private]
    assert len(set(tables)) == len(private), "one private route table per AZ"
    nat_azs = []
    for table in tables:
        route = default_route(rec, table)
        assert set(route.inputs) == {"routeTableId", "destinationCidrBlock", "natGatewayId"}
        nat = nat_by_id[route.inputs["natGatewayId"]]
        nat_azs.append(subnet_az[nat.inputs["subnetId"]])
    if stack_preview(stack).config.network.nat_gateways == "perAz":
        assert nat_azs == [s.inputs["availabilityZone"] for s in private]
    else:
        assert nat_azs == ["us-east-1a"] * len(private)


@pytest.mark.parametrize("stack", STACKS)
def test_public_subnets_route_to_the_internet_gateway_and_assign_no_public_ips(stack):
    rec = stack_preview(stack).recording
    igw = rec.one(IGW)
    assert igw.inputs["vpcId"] == rec.one(VPC).id
    public_tables = {table_of(rec, s.id) for s in subnets(rec, "public")}
    assert len(public_tables) == 1
    route = default_route(rec, public_tables.pop())
    assert route.inputs["gatewayId"] == igw.id and "natGatewayId" not in route.inputs
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in rec.of_type(SUBNET))


@pytest.mark.parametrize("stack", STACKS)
def test_subnets_carry_the_tags_eks_load_balancers_discover(stack):
    rec = stack_preview(stack).recording
    cluster_tag = f"kubernetes.io/cluster/mlops-{stack}"
    for subnet in subnets(rec, "public"):
        assert subnet.inputs["tags"]["kubernetes.io/role/elb"] == "1"
        assert "kubernetes.io/role/internal-elb" not in subnet.inputs["tags"]
        assert subnet.inputs["tags"][cluster_tag] == "shared"
        assert subnet.inputs["tags"]["Name"] == f"mlops-{stack}-public-{subnet.inputs['availabilityZone']}"
    for subnet in subnets(rec, "private"):
        assert subnet.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert "kubernetes.io/role/elb" not in subnet.inputs["tags"]
        assert subnet.inputs["tags"][cluster_tag] == "shared"


def test_subnets_have_no_cluster_tag_without_a_cluster():
    rec = run_network(network_args(cluster_name=None))
    assert rec.of_type(SUBNET)
    assert not any(k.startswith("kubernetes.io/cluster/") for s in rec.of_type(SUBNET) for k in s.inputs["tags"])


@pytest.mark.parametrize("stack", STACKS)
def test_vpc_resolves_names_and_locks_its_default_security_group(stack):
    rec = stack_preview(stack).recording
    vpc = rec.one(VPC)
    assert vpc.inputs["enableDnsSupport"] is True and vpc.inputs["enableDnsHostnames"] is True
    default_sg = rec.one(DEFAULT_SG)
    assert default_sg.inputs["vpcId"] == vpc.id
    # Adopting the default group with empty rule lists removes AWS's allow-all rules (and keeps them removed).
    assert default_sg.inputs["ingress"] == [] and default_sg.inputs["egress"] == []


# ---------------------------------------------------------------------------------------------
# Endpoints


@pytest.mark.parametrize("stack", STACKS)
def test_s3_gateway_endpoint_serves_every_private_route_table(stack):
    rec = stack_preview(stack).recording
    gateways = [e for e in rec.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway"]
    assert len(gateways) == 1
    s3 = gateways[0]
    assert s3.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    private_tables = sorted(table_of(rec, s.id) for s in subnets(rec, "private"))
    assert sorted(s3.inputs["routeTableIds"]) == private_tables


@pytest.mark.parametrize("stack", STACKS)
def test_interface_endpoints_match_config_with_private_dns_in_private_subnets(stack):
    preview = stack_preview(stack)
    rec = preview.recording
    _, _, expected = EXPECTED[stack]
    # Other capabilities (the EKS API security group) own security groups too; look at the network's.
    network = rec.one("mlops:network:Network").urn

    def owned(type_token):
        return [r for r in rec.of_type(type_token) if r.parent == network]

    interfaces = [e for e in rec.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]
    assert {e.inputs["serviceName"] for e in interfaces} == {f"com.amazonaws.us-east-1.{svc}" for svc in expected}
    if not expected:
        assert owned(SECURITY_GROUP) == [] and owned(INGRESS_RULE) == []
        return
    private_ids = sorted(s.id for s in subnets(rec, "private"))
    endpoint_sg = rec.one(SECURITY_GROUP, "endpoints-sg")
    for endpoint in interfaces:
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert sorted(endpoint.inputs["subnetIds"]) == private_ids
        assert endpoint.inputs["securityGroupIds"] == [endpoint_sg.id]
    assert endpoint_sg.inputs["vpcId"] == rec.one(VPC).id
    assert "ingress" not in endpoint_sg.inputs and "egress" not in endpoint_sg.inputs
    (rule,) = owned(INGRESS_RULE)
    assert {k: rule.inputs[k] for k in ("securityGroupId", "ipProtocol", "fromPort", "toPort", "cidrIpv4")} == {
        "securityGroupId": endpoint_sg.id,
        "ipProtocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
        "cidrIpv4": preview.config.network.vpc_cidr,
    }


def test_endpoint_service_names_follow_the_partition_and_region_of_the_scope():
    args = network_args({"interfaceEndpoints": ["sagemaker.api"]}, scope=network_scope(region="eu-west-1"))

    def program():
        provider = aws.Provider("aws", region="eu-west-1")
        Network("net", args, opts=pulumi.ResourceOptions(providers={"aws": provider}))

    rec = run_component(program, config={"aws:region": "eu-west-1"})
    assert sorted(e.inputs["serviceName"] for e in rec.of_type(ENDPOINT)) == ["com.amazonaws.eu-west-1.s3", "com.amazonaws.eu-west-1.sagemaker.api"]
    assert [s.inputs["availabilityZone"] for s in subnets(rec, "private")] == ["eu-west-1a", "eu-west-1b"]
    china = run_network(network_args(scope=network_scope(region="cn-north-1", partition="aws-cn", reverse_dns_prefix="cn.com.amazonaws")))
    assert [e.inputs["serviceName"] for e in china.of_type(ENDPOINT)] == ["cn.com.amazonaws.cn-north-1.s3"]
    assert policy(china.one(ROLE), "assumeRolePolicy")["Statement"][0]["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws-cn:ec2:cn-north-1:{ACCOUNT_ID}:vpc-flow-log/*"
    }


# ---------------------------------------------------------------------------------------------
# Flow logs


@pytest.mark.parametrize("stack", STACKS)
def test_flow_logs_go_to_a_retained_log_group_through_the_delivery_role(stack):
    preview = stack_preview(stack)
    rec = preview.recording
    group = rec.one(LOG_GROUP, "network")
    assert group.inputs["name"] == f"/aws/vpc-flow-logs/mlops-{stack}"
    assert group.inputs["retentionInDays"] == preview.config.network.flow_log_retention_days
    role, role_policy = rec.one(ROLE, "flow-logs"), rec.one(ROLE_POLICY, "flow-logs")
    flow_log = rec.one(FLOW_LOG)
    assert flow_log.inputs["vpcId"] == rec.one(VPC).id
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
    account = STACK_ACCOUNTS[stack]
    assert flow_log.inputs["logDestination"] == f"arn:aws:logs:us-east-1:{account}:log-group:/aws/vpc-flow-logs/mlops-{stack}"
    assert flow_log.inputs["iamRoleArn"].startswith(f"arn:aws:iam::{account}:role/")
    assert flow_log.propertyDependencies["iamRoleArn"] == [role.urn]
    assert flow_log.propertyDependencies["logDestination"] == [group.urn]
    # Delivery must not start before the role may write.
    assert role_policy.urn in flow_log.dependencies
    assert role_policy.inputs["role"] == role.id


def test_flow_log_role_trusts_only_this_accounts_flow_logs():
    rec = stack_preview("prod").recording
    trust = policy(rec.one(ROLE, "flow-logs"), "assumeRolePolicy")
    (statement,) = trust["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": ["vpc-flow-logs.amazonaws.com"]}
    assert statement["Action"] == ["sts:AssumeRole"]
    account = STACK_ACCOUNTS["prod"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:us-east-1:{account}:vpc-flow-log/*"},
    }


def test_flow_log_role_may_write_only_to_its_log_group():
    rec = stack_preview("prod").recording
    account = STACK_ACCOUNTS["prod"]
    group_arn = f"arn:aws:logs:us-east-1:{account}:log-group:/aws/vpc-flow-logs/mlops-prod"
    statements = policy(rec.one(ROLE_POLICY, "flow-logs"), "policy")["Statement"]
    granted = {action: statement["Resource"] for statement in statements for action in statement["Action"]}
    assert all(statement["Effect"] == "Allow" for statement in statements)
    assert granted == {
        # ":*" covers the group's log streams; without it CreateLogStream is denied and delivery stalls.
        "logs:CreateLogStream": [group_arn, f"{group_arn}:*"],
        "logs:PutLogEvents": [group_arn, f"{group_arn}:*"],
        "logs:DescribeLogStreams": [group_arn, f"{group_arn}:*"],
        "logs:DescribeLogGroups": [f"arn:aws:logs:us-east-1:{account}:log-group:*"],
    }
    assert "Condition" not in json.dumps(statements) and '"*"' not in json.dumps(statements)


def test_flow_log_group_uses_the_given_logs_key_and_role_the_boundary():
    boundary = f"arn:aws:iam::{ACCOUNT_ID}:policy/platform-boundary"
    rec = run_network(network_args(flow_log_kms_key_arn=LOGS_KEY_ARN, scope=network_scope(permissions_boundary_arn=boundary)))
    assert rec.one(LOG_GROUP).inputs["kmsKeyId"] == LOGS_KEY_ARN
    assert rec.one(ROLE).inputs["permissionsBoundary"] == boundary
    assert rec.of_type("aws:kms/key:Key") == [], "the network takes a key; it never creates one"


def test_flow_log_key_may_be_another_resources_output():
    """The logs key comes from another component; the log group must track it as a dependency."""
    seen = {}

    def program():
        provider = aws.Provider("aws", region="us-east-1")
        opts = pulumi.ResourceOptions(providers={"aws": provider})
        key = aws.kms.Key("logs-key", opts=opts)
        seen["key"] = key
        Network("net", network_args(flow_log_kms_key_arn=key.arn), opts=opts)

    rec = run_component(program)
    key = rec.one("aws:kms/key:Key")
    group = rec.one(LOG_GROUP)
    assert group.inputs["kmsKeyId"].startswith(f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/")
    assert group.propertyDependencies["kmsKeyId"] == [key.urn]


def test_without_a_key_the_log_group_sends_no_kms_key():
    assert "kmsKeyId" not in run_network(network_args()).one(LOG_GROUP).inputs


def test_stacks_encrypt_flow_logs_with_the_platform_logs_key():
    rec = stack_preview("dev").recording
    logs_key = rec.one("aws:kms/key:Key", "logs")
    assert rec.one(LOG_GROUP, "network").propertyDependencies["kmsKeyId"] == [logs_key.urn]


# ---------------------------------------------------------------------------------------------
# Availability zones are checked against the region at run time


def test_more_azs_than_the_region_offers_fails_with_one_line_naming_the_key():
    args = network_args({"azCount": 3})
    with pytest.raises(ProgramError) as caught:
        run_network(args, availability_zone_count=2)
    error = caught.value.cause
    assert isinstance(error, pulumi.RunError) and isinstance(error, AvailabilityZoneShortage)
    assert str(error) == (
        f"stacks/Pulumi.test.yaml: {CONFIG_KEY}.network.azCount: 3 availability zones requested but us-east-1 offers only 2 "
        "available (us-east-1a, us-east-1b); set it to 2"
    )
    assert "\n" not in str(error)
    # The check gates the VPC, so nothing of the network is created in a region that cannot hold it.
    assert [r.type for r in caught.value.recording.resources] == ["pulumi:providers:aws", "mlops:network:Network"]


def test_whole_prod_stack_in_a_two_az_region_fails_before_any_network_resource():
    from components.program import main

    config = {CONFIG_KEY: stack_raw_config("prod"), "aws:region": "us-east-1"}
    with pytest.raises(ProgramError) as caught:
        run_component(main, stack="prod", config=config, availability_zone_count=2)
    assert isinstance(caught.value.cause, pulumi.RunError)
    assert str(caught.value.cause).startswith(f"stacks/Pulumi.prod.yaml: {CONFIG_KEY}.network.azCount: 3 availability zones requested")
    # Storage registers IAM roles and log groups before the network; none of the network's own.
    assert not [r for r in caught.value.recording.resources if "mlops:network:Network$" in r.urn]


def test_the_az_check_reads_the_zones_through_the_platform_provider(monkeypatch):
    """Default providers are disabled, so the data source must go through the explicit provider.
    The zones are the network's only lookup: account, partition and region come from the scope."""
    invokes: list[tuple[str, str]] = []
    make_monitor = harness._recording_monitor_class

    def recording_invokes():
        base = make_monitor()

        class InvokeRecordingMonitor(base):
            def Invoke(self, request):
                invokes.append((request.tok, request.provider))
                return super().Invoke(request)

        return InvokeRecordingMonitor

    monkeypatch.setattr(harness, "_recording_monitor_class", recording_invokes)
    rec = run_network(network_args())
    provider = rec.one("pulumi:providers:aws")
    assert [tok for tok, _ in invokes] == ["aws:index/getAvailabilityZones:getAvailabilityZones"]
    assert all(ref == f"{provider.urn}::{provider.id}" for _, ref in invokes), invokes
    assert "aws:index/getAvailabilityZones:getAvailabilityZones" in rec.invokes


def test_choose_zones_explains_regions_with_too_few_zones():
    assert choose_zones(["us-east-1b", "us-east-1a", "us-east-1c"], 2, "us-east-1", "stacks/Pulumi.dev.yaml") == ["us-east-1a", "us-east-1b"]
    with pytest.raises(AvailabilityZoneShortage, match=r"^stacks/Pulumi\.dev\.yaml: .* offers only 1 available \(xx-1a\); choose a region with at least 2$"):
        choose_zones(["xx-1a"], 2, "xx-1", "stacks/Pulumi.dev.yaml")


# ---------------------------------------------------------------------------------------------
# Options, providers, outputs


def test_every_network_resource_is_a_child_on_the_explicit_provider():
    rec = run_network(network_args({"interfaceEndpoints": ["sts"]}))
    component = rec.one("mlops:network:Network")
    provider = rec.one("pulumi:providers:aws")
    children = rec.children_of(component.urn)
    assert {r.type for r in children} == NETWORK_TYPES
    assert {r.urn for r in rec.resources if r.type.startswith("aws:")} == {r.urn for r in children}
    assert all(r.provider == f"{provider.urn}::{provider.id}" for r in children)
    assert all(r.name.startswith("net-") for r in children)


def test_switching_to_nat_per_az_adds_gateways_without_replacing_tables_or_subnets():
    single = run_network(network_args({"natGateways": "single"}))
    per_az = run_network(network_args({"natGateways": "perAz"}))
    stable = (SUBNET, ROUTE_TABLE, ASSOCIATION, ROUTE, ENDPOINT)
    assert {(r.type, r.name) for r in single.resources if r.type in stable} == {(r.type, r.name) for r in per_az.resources if r.type in stable}
    assert len(single.of_type(NAT)) == 1 and len(per_az.of_type(NAT)) == 2
    assert {r.name for r in single.of_type(NAT)} < {r.name for r in per_az.of_type(NAT)}


def test_explicit_subnet_cidrs_are_used_as_given():
    rec = run_network(network_args({"vpcCidr": "10.50.0.0/16", "publicSubnetCidrs": ["10.50.0.0/24", "10.50.1.0/24"], "privateSubnetCidrs": ["10.50.16.0/20", "10.50.32.0/20"]}))
    assert [s.inputs["cidrBlock"] for s in subnets(rec, "public")] == ["10.50.0.0/24", "10.50.1.0/24"]
    assert [s.inputs["cidrBlock"] for s in subnets(rec, "private")] == ["10.50.16.0/20", "10.50.32.0/20"]


@pytest.mark.parametrize("stack", STACKS)
def test_network_stack_output_follows_the_contract(stack):
    rec = stack_preview(stack).recording
    output = rec.stack_outputs["network"]
    assert set(output) == {"vpcId", "privateSubnetIds", "publicSubnetIds", "natGatewayCount"}
    assert output["vpcId"] == rec.one(VPC).id and output["vpcId"].startswith("vpc-")
    assert output["privateSubnetIds"] == [s.id for s in subnets(rec, "private")]
    assert output["publicSubnetIds"] == [s.id for s in subnets(rec, "public")]
    assert output["natGatewayCount"] == EXPECTED[stack][1]


def test_component_attributes_for_other_components():
    seen: dict = {}

    def program():
        provider = aws.Provider("aws", region="us-east-1")
        network = Network("net", network_args({"interfaceEndpoints": ["ecr.api"]}), opts=pulumi.ResourceOptions(providers={"aws": provider}))
        bare = Network("bare", NetworkArgs(config=NetworkConfig(), scope=network_scope(name_stem="mlops-x")), opts=pulumi.ResourceOptions(providers={"aws": provider}))
        seen["bare_sg"] = bare.endpoint_security_group_id
        seen["vpc_cidr"] = network.vpc_cidr
        seen["nat_count"] = network.nat_gateway_count
        pulumi.Output.all(network.vpc_id, network.private_subnet_ids, network.public_subnet_ids, network.endpoint_security_group_id, network.availability_zones).apply(
            lambda values: seen.update(resolved=values)
        )

    rec = run_component(program)
    vpc_id, private_ids, public_ids, sg_id, zones = seen["resolved"]
    assert vpc_id == rec.one(VPC, "net-").id
    assert private_ids == [s.id for s in subnets(rec, "private") if s.name.startswith("net-")]
    assert public_ids == [s.id for s in subnets(rec, "public") if s.name.startswith("net-")]
    assert sg_id == rec.one(SECURITY_GROUP, "net-").id
    assert zones == ["us-east-1a", "us-east-1b"]
    assert seen["vpc_cidr"] == "10.10.0.0/16" and seen["nat_count"] == 1
    assert seen["bare_sg"] is None


def test_first_preview_with_unknown_ids_registers_the_same_network():
    known, unknown = stack_preview("prod").recording, stack_preview("prod", unknowns=True).recording
    shape = sorted((r.type, r.name) for r in known.resources if r.type in NETWORK_TYPES)
    assert shape == sorted((r.type, r.name) for r in unknown.resources if r.type in NETWORK_TYPES)
    # AZs come from a data source, which answers during preview; ids do not exist yet.
    assert [s.inputs["availabilityZone"] for s in subnets(unknown, "private")] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert all(r.inputs["natGatewayId"] == UNKNOWN for r in unknown.of_type(ROUTE) if "natGatewayId" in r.inputs)


# ---------------------------------------------------------------------------------------------
# Bad network config: one line naming file, key and what is allowed


@pytest.mark.parametrize(
    ("network", "key", "words"),
    [
        ({"azCount": 4}, "network.azCount", "less than or equal to 3"),
        ({"azCount": 1}, "network.azCount", "greater than or equal to 2"),
        ({"natGateways": "none"}, "network.natGateways", "'single' or 'perAz'"),
        ({"interfaceEndpoints": ["ec2messages"]}, "network.interfaceEndpoints[0]", "'ecr.api'"),
        ({"interfaceEndpoints": ["sts", "ecr.api", "sts"]}, "network.interfaceEndpoints", "repeated: ['sts']"),
        ({"flowLogRetentionDays": 0}, "network.flowLogRetentionDays", "allowed: 1, 3, 5"),
        ({"vpcCidr": "10.10.0.0/24"}, "network.vpcCidr", "use /20 or larger"),
        ({"publicSubnetCidrs": ["10.10.200.0/24"]}, "network.publicSubnetCidrs", "need exactly azCount=2"),
    ],
)
def test_bad_network_config_is_one_line_naming_the_key(network, key, words):
    raw = stack_raw_config("dev")
    raw["network"] = {**raw["network"], **network}
    assert_one_line_config_error(raw, key, words)
