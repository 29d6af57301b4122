"""Capacity limits (policies/capacity_limits.py, the cost-* policies), configured per environment through PolicyConfigSchema (policies/config/<env>.json)."""

from __future__ import annotations

import pulumi_aws as aws
import pytest

from tests.support.policy import evaluate, fired

SUBNETS = ["subnet-a", "subnet-b"]


def gpu_group(opts, name: str, instance_types: list[str], min_size: int, max_size: int) -> aws.eks.NodeGroup:
    return aws.eks.NodeGroup(
        name, cluster_name="c", node_role_arn="arn:aws:iam::123456789012:role/node", subnet_ids=SUBNETS,
        instance_types=instance_types, ami_type="AL2023_x86_64_NVIDIA",
        scaling_config={"min_size": min_size, "desired_size": min_size, "max_size": max_size}, opts=opts,
    )


def endpoint_config(opts, variants: list[dict]) -> None:
    aws.sagemaker.EndpointConfiguration("config", production_variants=variants, opts=opts)


def instance_variant(instance_type: str, count: int = 1) -> dict:
    return {"model_name": "m", "variant_name": "v", "instance_type": instance_type, "initial_instance_count": count}


SERVERLESS = {"model_name": "m", "variant_name": "v", "serverless_config": {"memory_size_in_mb": 2048, "max_concurrency": 5}}


def test_gpu_families_outside_the_allow_list_fire(policy_pack):
    report = evaluate(policy_pack, lambda o: gpu_group(o, "gpu", ["p5.48xlarge", "g5.xlarge"], 0, 2), env="dev")
    [message] = fired(report, "cost-allowed-gpu-families")
    assert "p5.48xlarge" in message and "g5.xlarge" not in message
    assert report.by_policy("cost-allowed-gpu-families")[0].level == "advisory"  # cost is advisory in dev
    assert evaluate(policy_pack, lambda o: gpu_group(o, "gpu", ["g5.xlarge", "g6.xlarge"], 0, 2), env="dev").by_policy("cost-allowed-gpu-families") == []


def test_gpu_family_limits_differ_per_environment(policy_pack):
    def program(o):
        gpu_group(o, "gpu", ["p5.48xlarge"], 0, 1)

    assert fired(evaluate(policy_pack, program, env="staging"), "cost-allowed-gpu-families")
    assert evaluate(policy_pack, program, env="prod").by_policy("cost-allowed-gpu-families") == []


def test_sagemaker_families_outside_the_allow_list_fire(policy_pack):
    report = evaluate(policy_pack, lambda o: endpoint_config(o, [instance_variant("ml.p4d.24xlarge", 2)]))
    [violation] = report.by_policy("cost-allowed-sagemaker-families")
    assert violation.level == "mandatory" and "ml.p4d.24xlarge" in violation.message
    assert evaluate(policy_pack, lambda o: endpoint_config(o, [instance_variant("ml.g5.xlarge", 2)])).by_policy("cost-allowed-sagemaker-families") == []


def test_gpu_node_count_limits_per_group_and_per_stack(policy_pack):
    def too_big(o):
        gpu_group(o, "a", ["g5.xlarge"], 0, 4)
        gpu_group(o, "b", ["g5.xlarge"], 0, 4)
        gpu_group(o, "c", ["g6.xlarge"], 0, 6)

    messages = fired(evaluate(policy_pack, too_big, env="staging"), "cost-max-gpu-nodes")
    assert any("'c' may scale to 6 GPU nodes" in m for m in messages)
    assert any("14 nodes in total" in m and "limit is 8" in m for m in messages)

    def within(o):
        gpu_group(o, "a", ["g5.xlarge"], 0, 4)
        gpu_group(o, "b", ["g5.xlarge"], 0, 4)
        aws.eks.NodeGroup("cpu", cluster_name="c", node_role_arn="r", subnet_ids=SUBNETS, instance_types=["m6i.large"],
                          scaling_config={"min_size": 2, "desired_size": 2, "max_size": 20}, opts=o)

    assert evaluate(policy_pack, within, env="staging").by_policy("cost-max-gpu-nodes") == []


def test_warm_gpu_nodes_only_where_allowed(policy_pack):
    def warm(o):
        gpu_group(o, "serving", ["g5.2xlarge"], 1, 4)

    [violation] = evaluate(policy_pack, warm, env="staging").by_policy("cost-gpu-warm-nodes")
    assert "keeps 1 GPU node(s) running" in violation.message and violation.level == "mandatory"
    assert evaluate(policy_pack, warm, env="prod").by_policy("cost-gpu-warm-nodes") == []  # prod allows 2


@pytest.mark.parametrize(
    ("variants", "fragment"),
    [
        ([instance_variant("ml.m5.large", 3)], "runs 3 instances; at most 1"),
        ([instance_variant("ml.m5.4xlarge")], "allowed sizes here"),
        ([instance_variant("ml.g5.xlarge")], "GPU instance ml.g5.xlarge"),
    ],
)
def test_dev_endpoints_are_serverless_or_small(policy_pack, variants, fragment):
    report = evaluate(policy_pack, lambda o: endpoint_config(o, variants), env="dev")
    assert any(fragment in m for m in fired(report, "cost-endpoint-size")), report.by_policy("cost-endpoint-size")


def test_serverless_or_small_dev_endpoints_pass_and_prod_is_not_capped(policy_pack):
    assert evaluate(policy_pack, lambda o: endpoint_config(o, [SERVERLESS]), env="dev").by_policy("cost-endpoint-size") == []
    assert evaluate(policy_pack, lambda o: endpoint_config(o, [instance_variant("ml.m5.large")]), env="dev").by_policy("cost-endpoint-size") == []
    assert evaluate(policy_pack, lambda o: endpoint_config(o, [instance_variant("ml.g5.2xlarge", 4)]), env="prod").by_policy("cost-endpoint-size") == []


def test_unknown_scaling_is_reported_not_passed(policy_pack):
    """A node group whose maxSize is computed cannot be judged during preview; the SDK says so."""

    def program(o):
        key = aws.kms.Key("k", enable_key_rotation=True, opts=o)
        aws.eks.NodeGroup("gpu", cluster_name="c", node_role_arn="r", subnet_ids=SUBNETS, instance_types=["g5.xlarge"], ami_type="AL2023_x86_64_NVIDIA",
                          scaling_config={"min_size": 0, "desired_size": 0, "max_size": key.key_id.apply(lambda _: 50)}, opts=o)

    report = evaluate(policy_pack, program, env="staging", unknowns=True)
    [violation] = report.by_policy("cost-max-gpu-nodes")
    assert violation.unknown and "maxSize" in violation.message
