"""Reliability stack policies: protect, endpoint HA and blue/green, NAT per AZ."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from tests.policy_support import evaluate, fired


def data_stores(opts: pulumi.ResourceOptions, protect: bool) -> None:
    opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=protect, retain_on_delete=protect))
    aws.kms.Key("key", enable_key_rotation=True, opts=opts)
    aws.s3.Bucket("artifacts", opts=opts)


def test_unprotected_data_stores_fire_and_protected_ones_pass(policy_pack):
    report = evaluate(policy_pack, lambda o: data_stores(o, protect=False))
    assert {v.urn.rsplit("::", 1)[-1] for v in report.by_policy("reliability-protect-data-stores")} == {"key", "artifacts"}
    assert {v.level for v in report.by_policy("reliability-protect-data-stores")} == {"mandatory"}
    assert evaluate(policy_pack, lambda o: data_stores(o, protect=True)).by_policy("reliability-protect-data-stores") == []


def test_retain_on_delete_is_not_part_of_the_analyzer_protocol():
    """Why the pack can check protect but not retainOnDelete: the options message has no such field."""
    from pulumi.runtime.proto import analyzer_pb2

    fields = set(analyzer_pb2.AnalyzerResourceOptions.DESCRIPTOR.fields_by_name)
    assert "protect" in fields and "retainOnDelete" not in fields and "retain_on_delete" not in fields


def serving(opts, *, count: int = 2, blue_green: bool = True, alarms: bool = True, serverless: bool = False) -> None:
    variant = ({"model_name": "m", "variant_name": "AllTraffic", "serverless_config": {"memory_size_in_mb": 2048, "max_concurrency": 5}}
               if serverless else {"model_name": "m", "variant_name": "AllTraffic", "instance_type": "ml.g5.xlarge", "initial_instance_count": count})
    config = aws.sagemaker.EndpointConfiguration("config", name_prefix="churn-", production_variants=[variant], opts=opts)
    deployment = {}
    if blue_green:
        deployment["blue_green_update_policy"] = {"traffic_routing_configuration": {"type": "CANARY", "wait_interval_in_seconds": 300, "canary_size": {"type": "CAPACITY_PERCENT", "value": 10}}}
    if alarms:
        deployment["auto_rollback_configuration"] = {"alarms": [{"alarm_name": "churn-5xx"}, {"alarm_name": "churn-latency"}]}
    aws.sagemaker.Endpoint("endpoint", endpoint_config_name=config.name, deployment_config=deployment or None, opts=opts)


def test_prod_endpoint_needs_two_instances_blue_green_and_rollback_alarms(policy_pack):
    report = evaluate(policy_pack, lambda o: serving(o, count=1, blue_green=False, alarms=False), unknowns=True)
    messages = fired(report, "reliability-endpoint-ha")
    assert any("runs 1 instance(s); at least 2" in m for m in messages)
    assert any("no blue/green deployment policy" in m for m in messages)
    assert any("no rollback alarms" in m for m in messages)
    assert fired(evaluate(policy_pack, serving, unknowns=True), "reliability-endpoint-ha") == []


def test_staging_accepts_one_instance_but_still_needs_rollback(policy_pack):
    assert fired(evaluate(policy_pack, lambda o: serving(o, count=1), env="staging"), "reliability-endpoint-ha") == []
    assert any("no rollback alarms" in m for m in fired(evaluate(policy_pack, lambda o: serving(o, count=1, alarms=False), env="staging"), "reliability-endpoint-ha"))


def test_serverless_endpoints_are_exempt_from_instance_rules(policy_pack):
    assert evaluate(policy_pack, lambda o: serving(o, serverless=True, blue_green=False, alarms=False)).by_policy("reliability-endpoint-ha") == []


def network(opts, *, azs: int, nat_per_az: bool) -> None:
    zones = [f"us-east-1{c}" for c in "abc"[:azs]]
    vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", opts=opts)
    public = {z: aws.ec2.Subnet(f"public-{z}", vpc_id=vpc.id, cidr_block=f"10.0.{i}.0/24", availability_zone=z, tags={"kubernetes.io/role/elb": "1"}, opts=opts) for i, z in enumerate(zones)}
    for i, z in enumerate(zones):
        aws.ec2.Subnet(f"private-{z}", vpc_id=vpc.id, cidr_block=f"10.0.{10 + i}.0/24", availability_zone=z, opts=opts)
    for zone in zones[: azs if nat_per_az else 1]:
        eip = aws.ec2.Eip(f"nat-{zone}", domain="vpc", opts=opts)
        aws.ec2.NatGateway(f"nat-{zone}", subnet_id=public[zone].id, allocation_id=eip.id, opts=opts)


def test_prod_needs_a_nat_gateway_per_az(policy_pack):
    [violation] = evaluate(policy_pack, lambda o: network(o, azs=3, nat_per_az=False), unknowns=True).by_policy("reliability-nat-per-az")
    assert "['us-east-1b', 'us-east-1c']" in violation.message and violation.level == "mandatory"
    assert evaluate(policy_pack, lambda o: network(o, azs=3, nat_per_az=True), unknowns=True).by_policy("reliability-nat-per-az") == []


def test_single_nat_is_fine_where_the_policy_is_disabled(policy_pack):
    assert evaluate(policy_pack, lambda o: network(o, azs=2, nat_per_az=False), env="staging").by_policy("reliability-nat-per-az") == []
    assert [v.level for v in evaluate(policy_pack, lambda o: network(o, azs=2, nat_per_az=False), env="dev").by_policy("reliability-nat-per-az")] == ["advisory"]
