"""Security-group ingress from the internet and VPC flow logs: small programs fire them, the platform's network passes."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from components.network import Network, NetworkArgs
from components.scope import AwsScope
from mlopsctl.offline.harness import ACCOUNT_ID
from mlopsctl.offline.policycheck.config import config_path, load_config_file
from mlopsctl.offline.policycheck.process import PolicyPackProcess
from policies.awsfacts.resource_types import FLOW_LOG, SECURITY_GROUP_INGRESS_RULE, VPC
from tests.support.policy import evaluate, fired, tagged_provider
from tests.support.programs import run_component
from tests.support.stacks import STACKS, stack_config, stack_preview

ADMIN = "sg-no-internet-admin-ports"
ALLOWED = "sg-internet-ingress-allowed-ports"
FLOW_LOGS = "vpc-flow-logs"


def inline(opts, **rule):
    """A security group with one inline ingress block."""
    aws.ec2.SecurityGroup("sg", vpc_id="vpc-1", description="test", ingress=[rule], opts=opts)


def default_group(opts, **rule):
    aws.ec2.DefaultSecurityGroup("default", vpc_id="vpc-1", ingress=[rule], opts=opts)


def legacy_rule(opts, **rule):
    """The older standalone rule resource (type ingress or egress)."""
    aws.ec2.SecurityGroupRule("rule", security_group_id="sg-1", **{"type": "ingress", **rule}, opts=opts)


def vpc_rule(opts, **rule):
    aws.vpc.SecurityGroupIngressRule("rule", security_group_id="sg-1", **rule, opts=opts)


# (build, rule, the administrative ports named in the message)
OPEN_ADMIN_PORTS = [
    (inline, dict(protocol="tcp", from_port=22, to_port=22, cidr_blocks=["0.0.0.0/0"]), "0.0.0.0/0 on tcp 22, which includes administrative port(s) 22 (SSH)"),
    (inline, dict(protocol="tcp", from_port=0, to_port=65535, ipv6_cidr_blocks=["::/0"]), "::/0 on tcp 0-65535, which includes administrative port(s) 22 (SSH), 3389 (RDP)"),
    (inline, dict(protocol="-1", from_port=0, to_port=0, cidr_blocks=["10.0.0.0/8", "0.0.0.0/0"]), "ingress[0] admits 0.0.0.0/0 on every protocol and port"),
    (default_group, dict(protocol="tcp", from_port=22, to_port=22, cidr_blocks=["0.0.0.0/0"]), "22 (SSH)"),
    (legacy_rule, dict(protocol="tcp", from_port=3000, to_port=4000, cidr_blocks=["0.0.0.0/0"]), "the rule admits 0.0.0.0/0 on tcp 3000-4000, which includes administrative port(s) 3389 (RDP)"),
    (legacy_rule, dict(protocol="all", from_port=0, to_port=0, ipv6_cidr_blocks=["::/0"]), "::/0 on every protocol and port"),
    (vpc_rule, dict(ip_protocol="-1", cidr_ipv4="0.0.0.0/0"), "0.0.0.0/0 on every protocol and port"),
    (vpc_rule, dict(ip_protocol="udp", from_port=3389, to_port=3389, cidr_ipv6="::/0"), "::/0 on udp 3389, which includes administrative port(s) 3389 (RDP)"),
    (vpc_rule, dict(ip_protocol="6", from_port=20, to_port=25, cidr_ipv6="0::0/0"), "0::0/0 on tcp 20-25"),
]


@pytest.mark.parametrize(("build", "rule", "fragment"), OPEN_ADMIN_PORTS, ids=lambda v: v.__name__ if callable(v) else None)
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_internet_to_an_administrative_port_is_mandatory_everywhere(policy_pack, env, build, rule, fragment):
    report = evaluate(policy_pack, lambda o: build(o, **rule), env=env)
    [violation] = report.by_policy(ADMIN)
    assert fragment in violation.message and violation.level == "mandatory"


@pytest.mark.parametrize(
    ("build", "rule"),
    [
        (inline, dict(protocol="tcp", from_port=22, to_port=22, cidr_blocks=["10.0.0.0/16"])),  # from inside the network
        (inline, dict(protocol="tcp", from_port=443, to_port=443, cidr_blocks=["0.0.0.0/0"], ipv6_cidr_blocks=["::/0"])),
        (inline, dict(protocol="icmp", from_port=-1, to_port=-1, cidr_blocks=["0.0.0.0/0"])),  # no ports at all
        (legacy_rule, dict(type="egress", protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"])),
        (vpc_rule, dict(ip_protocol="tcp", from_port=22, to_port=22, referenced_security_group_id="sg-bastion")),
    ],
    ids=["private-cidr", "https", "icmp", "egress", "security-group-source"],
)
def test_rules_that_keep_administrative_ports_from_the_internet_pass(policy_pack, build, rule):
    assert evaluate(policy_pack, lambda o: build(o, **rule)).by_policy(ADMIN) == []


@pytest.mark.parametrize(
    ("build", "rule", "fragment"),
    [
        (inline, dict(protocol="tcp", from_port=80, to_port=80, cidr_blocks=["0.0.0.0/0"]), "ingress[0] admits 0.0.0.0/0 on tcp 80; here the internet may reach only tcp/udp port(s) 443"),
        (vpc_rule, dict(ip_protocol="tcp", from_port=443, to_port=444, cidr_ipv4="0.0.0.0/0"), "on tcp 443-444"),
        (legacy_rule, dict(protocol="icmp", from_port=-1, to_port=-1, cidr_blocks=["0.0.0.0/0"]), "on protocol icmp"),
        (vpc_rule, dict(ip_protocol="-1", cidr_ipv6="::/0"), "on every protocol and port"),
    ],
    ids=["http", "range-past-443", "icmp", "all"],
)
@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_admit_the_internet_on_443_only(policy_pack, env, build, rule, fragment):
    [violation] = evaluate(policy_pack, lambda o: build(o, **rule), env=env).by_policy(ALLOWED)
    assert fragment in violation.message and violation.level == "mandatory"
    https = dict(protocol="tcp", from_port=443, to_port=443, cidr_blocks=["0.0.0.0/0"], ipv6_cidr_blocks=["::/0"])
    assert evaluate(policy_pack, lambda o: inline(o, **https), env=env).by_policy(ALLOWED) == []


def test_dev_only_warns_about_other_ports_and_the_ports_are_configurable(policy_pack):
    http = dict(protocol="tcp", from_port=80, to_port=80, cidr_blocks=["0.0.0.0/0"])
    assert [v.level for v in evaluate(policy_pack, lambda o: inline(o, **http), env="dev").by_policy(ALLOWED)] == ["advisory"]
    config = load_config_file(config_path("prod"))
    config[ALLOWED] = {**config[ALLOWED], "allowedPorts": [80, 443]}
    config[ADMIN] = {**config[ADMIN], "adminPorts": [22, 3389, 5900]}
    vnc = dict(protocol="tcp", from_port=5900, to_port=5900, cidr_blocks=["0.0.0.0/0"])
    with PolicyPackProcess() as pack:
        pack.configure(config)

        def analyze(rule):
            return pack.analyze(run_component(lambda: inline(pulumi.ResourceOptions(provider=tagged_provider()), **rule), stack="prod"))

        assert analyze(http).by_policy(ALLOWED) == []
        assert "5900" in analyze(vnc).by_policy(ADMIN)[0].message


def test_an_unknown_rule_does_not_hide_an_open_one(policy_pack):
    """A CIDR computed in this update (the VPC's Amazon-provided IPv6 block) cannot be judged; the group's other rules still are."""

    def program(opts):
        vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", assign_generated_ipv6_cidr_block=True, opts=opts)
        aws.ec2.SecurityGroup("sg", vpc_id=vpc.id, ingress=[
            {"protocol": "tcp", "from_port": 22, "to_port": 22, "ipv6_cidr_blocks": [vpc.ipv6_cidr_block]},
            {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]},
        ], opts=opts)

    report = evaluate(policy_pack, program, unknowns=True)
    assert any("ingress[1] admits 0.0.0.0/0 on tcp 22" in m for m in fired(report, ADMIN))
    [unknown] = [v for v in report.by_policy(ADMIN) if v.unknown]  # not passed silently
    assert ".ingress.0.ipv6CidrBlocks.0 can't be known during preview" in unknown.message


# --- flow logs ---------------------------------------------------------------------------------


def vpc_with_flow_log(opts, *, traffic_type: str | None = "ALL", attach: str = "vpc", name: str = "vpc"):
    vpc = aws.ec2.Vpc(name, cidr_block="10.0.0.0/16", opts=opts)
    group = aws.cloudwatch.LogGroup(f"{name}-flow", retention_in_days=365, opts=opts)
    target = {
        "vpc": {"vpc_id": vpc.id},
        "literal": {"vpc_id": "vpc-0123456789abcdef0"},
        "subnet": {"subnet_id": aws.ec2.Subnet(f"{name}-subnet", vpc_id=vpc.id, cidr_block="10.0.0.0/24", opts=opts).id},
        "none": None,
    }[attach]
    if target is not None:
        aws.ec2.FlowLog(f"{name}-flow", **target, traffic_type=traffic_type, log_destination=group.arn,
                        iam_role_arn="arn:aws:iam::123456789012:role/flow", opts=opts)


@pytest.mark.parametrize("unknowns", [False, True], ids=["known", "first-preview"])
@pytest.mark.parametrize(
    ("variant", "fragment"),
    [
        (dict(attach="none"), "Vpc 'vpc' has no flow log in this stack"),
        (dict(attach="subnet"), "has no flow log in this stack"),  # a subnet's flow log does not cover the VPC
        (dict(attach="literal"), "has no flow log in this stack"),  # a pasted id names some other VPC
        (dict(traffic_type="ACCEPT"), "record trafficType ACCEPT, which misses rejected connections"),
    ],
    ids=["missing", "subnet-only", "literal-id", "accept-only"],
)
def test_a_vpc_without_a_flow_log_recording_rejects_fires(policy_pack, unknowns, variant, fragment):
    [violation] = evaluate(policy_pack, lambda o: vpc_with_flow_log(o, **variant), unknowns=unknowns).by_policy(FLOW_LOGS)
    assert fragment in violation.message and violation.urn.endswith("::vpc") and violation.level == "mandatory"
    assert evaluate(policy_pack, vpc_with_flow_log, unknowns=unknowns).by_policy(FLOW_LOGS) == []
    assert evaluate(policy_pack, lambda o: vpc_with_flow_log(o, traffic_type="REJECT"), unknowns=unknowns).by_policy(FLOW_LOGS) == []


def _platform_network(opts, *, second_vpc: bool = False):
    """The platform's Network component as prod builds it, optionally next to a VPC someone added by hand."""
    config = stack_config("prod")
    scope = AwsScope(account_id=ACCOUNT_ID, region="us-east-1", name_stem="mlops-prod", stack_file="stacks/Pulumi.prod.yaml")
    Network("net", NetworkArgs(config=config.network, scope=scope, cluster_name="mlops-prod"), opts=opts)
    if second_vpc:
        aws.ec2.Vpc("extra", cidr_block="10.1.0.0/16", opts=opts)


@pytest.mark.parametrize("unknowns", [False, True], ids=["known", "first-preview"])
def test_the_platform_network_passes_and_a_second_vpc_without_flow_log_is_named(policy_pack, unknowns):
    report = evaluate(policy_pack, _platform_network, unknowns=unknowns)
    assert report.by_policy(FLOW_LOGS) == [] and report.by_policy(ADMIN) == [] and report.by_policy(ALLOWED) == []
    [violation] = evaluate(policy_pack, lambda o: _platform_network(o, second_vpc=True), unknowns=unknowns).by_policy(FLOW_LOGS)
    assert violation.urn.endswith("::extra")


@pytest.mark.parametrize("stack", STACKS)
def test_the_real_stacks_pass_the_network_policies(policy_pack, stack):
    result = stack_preview(stack)
    recording = result.recording
    # Not vacuous: each stack has the VPC, its flow log (joined by dependency) and ingress rules.
    [vpc] = recording.of_type(VPC)
    [flow_log] = recording.of_type(FLOW_LOG)
    assert vpc.urn in flow_log.propertyDependencies["vpcId"]
    assert recording.of_type(SECURITY_GROUP_INGRESS_RULE)
    report = policy_pack(result.config.environment).analyze(recording)
    assert [v for v in report.violations if v.policy in (ADMIN, ALLOWED, FLOW_LOGS)] == []
