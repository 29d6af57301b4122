"""Reliability stack policies: protect, endpoint HA and blue/green, NAT per AZ."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from mlopsctl.offline.policycheck.config import config_path
from mlopsctl.offline.policycheck.process import PolicyPackProcess
from policies.awsfacts import clock
from tests.support.policy import evaluate, fired, tagged_provider
from tests.support.programs import run_component


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


# --- EKS versions: the forced upgrade under STANDARD, and node groups that lead their cluster ---


def eks(opts, *, version: str = "1.35", support_type: str | None = "STANDARD", node_version: str | None = None) -> None:
    cluster = aws.eks.Cluster(
        "cluster",
        role_arn="arn:aws:iam::123456789012:role/eks",
        version=version,
        upgrade_policy={"support_type": support_type} if support_type else None,
        vpc_config={"subnet_ids": ["subnet-a", "subnet-b"], "endpoint_public_access": False},
        opts=opts,
    )
    aws.eks.NodeGroup(
        "gpu",
        cluster_name=cluster.name,
        node_role_arn="arn:aws:iam::123456789012:role/nodes",
        subnet_ids=["subnet-a"],
        version=node_version if node_version is not None else cluster.version,
        scaling_config={"min_size": 0, "desired_size": 0, "max_size": 2},
        opts=opts,
    )


FORCED = "eks-standard-support-ending"


def test_standard_support_past_its_end_warns_naming_the_date(policy_pack):
    # The suite's clock is 2026-12-03; 1.34 left standard support on 2026-12-02.
    [warning] = evaluate(policy_pack, lambda o: eks(o, version="1.34")).by_policy(FORCED)
    assert warning.level == "advisory"
    assert "Kubernetes 1.34 leaves EKS standard support since 2026-12-02" in warning.message and "outside Pulumi" in warning.message
    assert evaluate(policy_pack, lambda o: eks(o, version="1.34", support_type="EXTENDED")).by_policy(FORCED) == []
    assert evaluate(policy_pack, lambda o: eks(o, version="1.35")).by_policy(FORCED) == []  # 114 days ahead


@pytest.mark.parametrize(("today", "fires"), [("2027-01-25", False), ("2027-01-26", True)])
def test_warning_starts_sixty_days_before_the_forced_upgrade(monkeypatch, today, fires):
    monkeypatch.setenv(clock.TODAY_ENV, today)
    with PolicyPackProcess() as pack:  # a pack that inherits the moved clock, as from the Pulumi CLI
        pack.configure(config_path("staging"))
        report = pack.analyze(run_component(lambda: eks(pulumi.ResourceOptions(provider=tagged_provider())), stack="staging"))
    messages = [v.message for v in report.by_policy(FORCED)]
    if fires:
        [message] = messages
        assert "Kubernetes 1.35 leaves EKS standard support in 60 days, on 2027-03-27; with upgradePolicy STANDARD" in message
    else:
        assert messages == []


def test_node_group_newer_than_its_cluster_fires(policy_pack):
    [violation] = evaluate(policy_pack, lambda o: eks(o, node_version="1.36"), unknowns=True).by_policy("eks-node-group-version")
    assert violation.level == "mandatory" and violation.urn.endswith("::gpu")
    assert "runs Kubernetes 1.36, newer than its cluster's 1.35" in violation.message
    assert evaluate(policy_pack, lambda o: eks(o, node_version="1.34")).by_policy("eks-node-group-version") == []  # lagging is allowed
    assert evaluate(policy_pack, eks).by_policy("eks-node-group-version") == []  # follows the cluster


# --- Alarms that notify someone ---------------------------------------------------------------

TOPIC = "arn:aws:sns:us-east-1:123456789012:mlops-prod-alerts"


def alarms(opts, *, actions: bool = True, enabled: bool = True, composite: bool = True) -> None:
    notify = {"alarm_actions": [TOPIC], "ok_actions": [TOPIC]} if actions else {}
    metric = aws.cloudwatch.MetricAlarm(
        "errors", namespace="AWS/SageMaker", metric_name="Invocation5XXErrors", statistic="Sum", period=60, evaluation_periods=3,
        threshold=5, comparison_operator="GreaterThanOrEqualToThreshold", actions_enabled=enabled, opts=opts, **notify)
    if composite:
        aws.cloudwatch.CompositeAlarm("endpoint-unhealthy", alarm_name="endpoint-unhealthy", alarm_rule=metric.name.apply(lambda n: f"ALARM({n})"),
                                      opts=opts, **notify)


ALARM_ACTIONS = "reliability-alarm-actions"


def test_alarms_without_actions_fail_in_staging_and_prod(policy_pack):
    for env in ("staging", "prod"):
        violations = evaluate(policy_pack, lambda o: alarms(o, actions=False), env=env).by_policy(ALARM_ACTIONS)
        assert {v.urn.rsplit("::", 1)[-1] for v in violations} == {"errors", "endpoint-unhealthy"}, env
        assert {v.level for v in violations} == {"mandatory"} and all("no alarmActions" in v.message for v in violations)
    assert evaluate(policy_pack, alarms, env="prod").by_policy(ALARM_ACTIONS) == []


def test_alarm_actions_switched_off_fail_too(policy_pack):
    [violation] = evaluate(policy_pack, lambda o: alarms(o, enabled=False, composite=False)).by_policy(ALARM_ACTIONS)
    assert "actionsEnabled is false" in violation.message


def test_alarms_without_actions_are_advisory_in_dev(policy_pack):
    violations = evaluate(policy_pack, lambda o: alarms(o, actions=False), env="dev").by_policy(ALARM_ACTIONS)
    assert len(violations) == 2 and {v.level for v in violations} == {"advisory"}


def test_a_topic_computed_in_this_preview_still_counts_as_an_action(policy_pack):
    def with_new_topic(opts):
        topic = aws.sns.Topic("alerts", opts=opts)
        aws.cloudwatch.MetricAlarm("errors", namespace="AWS/SageMaker", metric_name="Invocation5XXErrors", statistic="Sum", period=60,
                                   evaluation_periods=3, threshold=5, comparison_operator="GreaterThanOrEqualToThreshold",
                                   alarm_actions=[topic.arn], opts=opts)

    assert fired(evaluate(policy_pack, with_new_topic, unknowns=True), ALARM_ACTIONS) == []
