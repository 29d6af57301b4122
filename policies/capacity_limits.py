"""Capacity limits: the cost guardrails on instances, configured per environment (policies/config/<env>.json).

GPU node groups and SageMaker instances dominate this platform's bill (g5.xlarge ~ $1/h,
ml.g5.xlarge ~ $1.4/h), so the checks bound which families may be used, how many GPU nodes can
exist, which may stay warm, and how large dev endpoints may get. The priced total is bounded
separately, by the ``monthly-budget`` policy (``budget.py``).
"""

from __future__ import annotations

from awsfacts.instances import instance_family, is_gpu_ec2_type, is_gpu_sagemaker_type
from packlib import (
    EKS_NODE_GROUP,
    LAUNCH_TEMPLATE_TYPES,
    MISSING,
    SAGEMAKER_ENDPOINT_CONFIG,
    PolicyList,
    Severity,
    as_list,
    endpoint_variants,
    lookup,
    number,
    of_types,
    resource_label,
)

POLICIES = PolicyList()


def _gpu_types(props) -> list[str]:
    types = [t for t in as_list(lookup(props, "instanceTypes")) if isinstance(t, str)]
    single = lookup(props, "instanceType")
    if isinstance(single, str):
        types.append(single)
    return [t for t in types if is_gpu_ec2_type(t)]


@POLICIES.resource(
    "cost-allowed-gpu-families",
    "EC2 GPU instance types come from the environment's allowed families.",
    types=(EKS_NODE_GROUP,) + LAUNCH_TEMPLATE_TYPES, category="cost", severity=Severity.MEDIUM,
    config={"allowedFamilies": {"type": "array", "items": {"type": "string"}, "default": ["g4dn", "g5", "g6", "g6e"], "description": "EC2 GPU families (prefix before the size)."}},
    remediation="Pick an instance type from an allowed family, or extend allowedFamilies in policies/config/<env>.json after a cost review.",
)
def _check_gpu_families(args, report, cfg) -> None:
    allowed = set(cfg("allowedFamilies"))
    for instance_type in _gpu_types(args.props):
        if instance_family(instance_type) not in allowed:
            report(f"GPU instance type {instance_type} is not in the allowed families {sorted(allowed)}.")


def _variant_types(props) -> list[str]:
    return [t for t in (lookup(v, "instanceType") for v in endpoint_variants(props)) if isinstance(t, str)]


@POLICIES.resource(
    "cost-allowed-sagemaker-families",
    "SageMaker endpoint instance types come from the environment's allowed families.",
    types=(SAGEMAKER_ENDPOINT_CONFIG,), category="cost", severity=Severity.MEDIUM,
    config={"allowedFamilies": {"type": "array", "items": {"type": "string"}, "default": ["ml.t2", "ml.m5", "ml.m6i", "ml.c5", "ml.c6i", "ml.g4dn", "ml.g5", "ml.g6"], "description": "SageMaker instance families (e.g. ml.g5)."}},
    remediation="Pick an instance type from an allowed family, or extend allowedFamilies in policies/config/<env>.json after a cost review.",
)
def _check_sagemaker_families(args, report, cfg) -> None:
    allowed = set(cfg("allowedFamilies"))
    for instance_type in _variant_types(args.props):
        if instance_family(instance_type) not in allowed:
            report(f"SageMaker instance type {instance_type} is not in the allowed families {sorted(allowed)}.")


def _gpu_node_groups(resources) -> list:
    return [g for g in of_types(resources, (EKS_NODE_GROUP,)) if _gpu_types(g.props)]


def _scaling(group, key: str) -> float:
    value = number(lookup(group.props, "scalingConfig", key))
    return value if value is not None else 0.0


@POLICIES.stack(
    "cost-max-gpu-nodes",
    "GPU node groups cannot scale beyond the per-group and whole-stack node limits.",
    category="cost", severity=Severity.HIGH,
    config={
        "maxNodesPerGroup": {"type": "integer", "minimum": 0, "default": 4, "description": "Largest maxSize of one GPU node group."},
        "maxNodesTotal": {"type": "integer", "minimum": 0, "default": 8, "description": "Sum of maxSize over all GPU node groups."},
    },
    remediation="Lower scalingConfig.maxSize (eks.gpuNodeGroups[].maxSize in the stack file) or raise the limit after a cost review.",
)
def _check_gpu_node_count(args, report, cfg) -> None:
    per_group, total_limit = cfg("maxNodesPerGroup"), cfg("maxNodesTotal")
    groups = _gpu_node_groups(args.resources)
    total = 0.0
    for group in groups:
        max_size = _scaling(group, "maxSize")
        total += max_size
        if max_size > per_group:
            report(f"{resource_label(group)} may scale to {max_size:g} GPU nodes; the limit per node group is {per_group:g}.", group.urn)
    if total > total_limit:
        report(f"GPU node groups may scale to {total:g} nodes in total ({', '.join(g.name for g in groups)}); the stack limit is {total_limit:g}.", None)


@POLICIES.stack(
    "cost-gpu-warm-nodes",
    "GPU node groups keep nodes running (minSize > 0) only where the environment allows it.",
    category="cost", severity=Severity.HIGH,
    config={"maxWarmNodes": {"type": "integer", "minimum": 0, "default": 0, "description": "Sum of minSize over all GPU node groups."}},
    remediation="Set minSize: 0 so the Cluster Autoscaler scales GPU nodes from zero, or allow warm nodes for this environment.",
)
def _check_gpu_warm_nodes(args, report, cfg) -> None:
    limit = cfg("maxWarmNodes")
    warm = [(g, _scaling(g, "minSize")) for g in _gpu_node_groups(args.resources)]
    warm = [(g, n) for g, n in warm if n > 0]
    total = sum(n for _, n in warm)
    if total > limit:
        for group, count in warm:
            report(f"{resource_label(group)} keeps {count:g} GPU node(s) running (minSize); this environment allows {limit:g} warm GPU node(s) in total.", group.urn)


@POLICIES.resource(
    "cost-endpoint-size",
    "Endpoints are serverless or capped in instance count and size (dev).",
    types=(SAGEMAKER_ENDPOINT_CONFIG,), category="cost", severity=Severity.MEDIUM,
    config={
        "maxInstanceCount": {"type": "integer", "minimum": 1, "default": 1},
        "allowedSizes": {"type": "array", "items": {"type": "string"}, "default": ["medium", "large", "xlarge"]},
        "allowGpu": {"type": "boolean", "default": False},
    },
    remediation="Use a serverless variant (serverless_config) in dev, or a single small CPU instance.",
)
def _check_endpoint_size(args, report, cfg) -> None:
    max_count, allowed_sizes, allow_gpu = cfg("maxInstanceCount"), set(cfg("allowedSizes")), cfg("allowGpu")
    for variant in as_list(lookup(args.props, "productionVariants")):
        instance_type = lookup(variant, "instanceType")
        if instance_type is MISSING:
            continue  # serverless: pay per request
        name = lookup(variant, "variantName")
        label = f"variant {name}" if name is not MISSING else "a variant"
        count = number(lookup(variant, "initialInstanceCount")) or 1
        if count > max_count:
            report(f"{label} runs {count:g} instances; at most {max_count:g} here (or use a serverless variant).")
        if instance_type.rsplit(".", 1)[-1] not in allowed_sizes:
            report(f"{label} uses {instance_type}; allowed sizes here: {sorted(allowed_sizes)} (or use a serverless variant).")
        if not allow_gpu and is_gpu_sagemaker_type(instance_type):
            report(f"{label} uses the GPU instance {instance_type}; GPUs are not allowed for endpoints here (or use a serverless variant).")
