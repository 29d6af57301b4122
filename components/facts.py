"""AWS facts the platform validates against.

Two sources, never hand-copied lists, both shared with the policy pack (Pulumi ships only
``policies/``, so their one reader lives there, standard library only):
- botocore's bundled service models: instance-type enums, AMI types, name limits, regions, read
  by ``policies.awsfacts.botocore_models`` (with its on-disk cache of scalar shapes);
- ``policies/awsfacts/aws_facts.json``: what botocore lacks (GPU families, serverless memory
  steps), each with its source and as-of date, read by ``policies.awsfacts.instances``.
The EKS version lifecycle is ``policies/awsfacts/eks_versions.json``, read through
``policies.awsfacts.eks_versions``.
"""

from __future__ import annotations

import re
from functools import cache

from policies.awsfacts import botocore_models
from policies.awsfacts.instances import (  # noqa: F401 - re-exported for the program's callers
    FACTS_FILE,
    facts,
    gpu_accelerator,
    has_instance_storage,
    instance_family,
    is_gpu_ec2_type,
    is_gpu_sagemaker_type,
    nvidia_gpus,
)

_value_shapes = botocore_models.value_shapes  # the cached scalar shapes (tests clear and re-read it)


def _shape(service: str, shape: str) -> dict:
    return botocore_models.shape(service, shape)


@cache
def ec2_instance_types() -> frozenset[str]:
    return botocore_models.enum("ec2", "InstanceType")


@cache
def sagemaker_instance_types() -> frozenset[str]:
    return botocore_models.enum("sagemaker", "ProductionVariantInstanceType")


@cache
def eks_ami_types() -> frozenset[str]:
    return botocore_models.enum("eks", "AMITypes")


SUPPORTED_PARTITION = "aws"  # China and GovCloud partitions are untested here, so not offered.


@cache
def known_regions() -> frozenset[str]:
    """Regions of the commercial partition, from botocore's partitions.json."""
    (commercial,) = (p for p in botocore_models.partitions() if p["id"] == SUPPORTED_PARTITION)
    return frozenset(region for region in commercial["regions"] if region != "aws-global")


def shape_limits(service: str, shape: str) -> dict:
    """min/max/pattern metadata of a botocore string or integer shape."""
    return {k: v for k, v in _shape(service, shape).items() if k in ("min", "max", "pattern", "type")}


def name_matches_shape(service: str, shape: str, value: str) -> bool:
    meta = shape_limits(service, shape)
    if "max" in meta and len(value) > meta["max"]:
        return False
    if "min" in meta and len(value) < meta["min"]:
        return False
    pattern = meta.get("pattern")
    return pattern is None or re.fullmatch(pattern, value) is not None


def serverless_memory_sizes() -> list[int]:
    return list(facts()["sagemakerServerlessMemorySizesMB"]["values"])


# SageMaker serving -----------------------------------------------------------------------------

# pulumi-aws auto-names with `name_prefix` as prefix + 26 characters (Terraform's
# id.PrefixedUniqueId: a timestamp and a counter); resources without a name get Pulumi's
# default auto-name, the logical name + "-" + 7 random hex characters.
PREFIXED_UNIQUE_SUFFIX_LENGTH = 26
PULUMI_RANDOM_SUFFIX_LENGTH = 8


def sagemaker_name_limits(shape: str = "EndpointName") -> tuple[int, str]:
    """(max length, full-match pattern) of a SageMaker name shape in botocore's service model."""
    meta = shape_limits("sagemaker", shape)
    return int(meta["max"]), meta["pattern"]


def sagemaker_processing_instance_types() -> frozenset[str]:
    return botocore_models.enum("sagemaker", "ProcessingInstanceType")


def sagemaker_training_instance_types() -> frozenset[str]:
    return botocore_models.enum("sagemaker", "TrainingInstanceType")


def sagemaker_transform_instance_types() -> frozenset[str]:
    return botocore_models.enum("sagemaker", "TransformInstanceType")


def mlflow_tracking_server_sizes() -> tuple[str, ...]:
    """Sizes of a SageMaker managed MLflow tracking server, smallest first (botocore sagemaker ``TrackingServerSize``)."""
    return tuple(botocore_models.shape("sagemaker", "TrackingServerSize")["enum"])


def model_monitor_image_uri(region: str) -> str | None:
    """SageMaker's prebuilt Model Monitor analyzer image in ``region`` (None where not listed)."""
    data = facts()["sagemakerModelMonitorAnalyzerAccounts"]
    account = data["accounts"].get(region)
    if account is None:
        return None
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{data['repository']}:latest"


# Tags ------------------------------------------------------------------------------------------

# The provider's default tags reach every taggable resource, so a tag must satisfy the narrowest
# rules among the services the platform tags: IAM, SageMaker and CloudWatch Logs carry a
# character pattern, EKS and KMS only lengths (each shape: (key, value); EC2's tag value is a
# plain string in its model).
TAG_SHAPES: dict[str, tuple[str, str]] = {
    "iam": ("tagKeyType", "tagValueType"),
    "sagemaker": ("TagKey", "TagValue"),
    "logs": ("TagKey", "TagValue"),
    "eks": ("TagKey", "TagValue"),
    "kms": ("TagKeyType", "TagValueType"),
}

# botocore's patterns are Java regular expressions; Python's ``re`` has no Unicode property
# classes, so each \p{X} class is matched by category: the value's characters of a category the
# pattern names are stood in for by one private-use character, which the pattern names instead.
_PROPERTY_CLASS = re.compile(r"\\p\{(\w+)\}")


def matches_botocore_pattern(pattern: str, value: str) -> bool:
    """``value`` fully matches a botocore shape ``pattern``, \\p{L}/\\p{Z}/\\p{N}-style classes included."""
    import unicodedata

    categories = sorted(set(_PROPERTY_CLASS.findall(pattern)))
    if not categories:
        return re.fullmatch(pattern, value) is not None
    stand_in = {category: chr(0xE000 + i) for i, category in enumerate(categories)}
    # A property class stands for every character of its category, so a pattern that also names
    # letters or digits literally could match differently once those are stood in for.
    literal = _PROPERTY_CLASS.sub("", pattern)
    if re.search(r"(?<!\\)[A-Za-z0-9]", literal.replace("\\s", "").replace("\\S", "")):
        raise ValueError(f"botocore pattern {pattern!r} mixes property classes with literal letters or digits")
    translated = _PROPERTY_CLASS.sub(lambda m: stand_in[m.group(1)], pattern)
    subject = "".join(next((stand_in[c] for c in categories if unicodedata.category(ch).startswith(c)), ch) for ch in value)
    return re.fullmatch(translated, subject) is not None


@cache
def tag_rules() -> dict[str, dict]:
    """``{"key": ..., "value": ...}``: the tightest min/max and every pattern of :data:`TAG_SHAPES`,
    plus the prefix AWS reserves (aws_facts.json); each part names the shapes it came from."""
    rules: dict[str, dict] = {}
    for part, index in (("key", 0), ("value", 1)):
        limits = {f"{service} {shapes[index]}": shape_limits(service, shapes[index]) for service, shapes in TAG_SHAPES.items()}
        rules[part] = {
            "min": max(meta.get("min", 0) for meta in limits.values()),
            "max": min(meta["max"] for meta in limits.values() if "max" in meta),
            "patterns": {name: meta["pattern"] for name, meta in limits.items() if "pattern" in meta},
        }
    rules["reservedPrefix"] = facts()["awsTagRules"]["reservedPrefix"]
    return rules


# Capacity --------------------------------------------------------------------------------------


def eks_node_group_quotas() -> dict[str, int]:
    """EKS's default quotas on managed node groups (aws_facts.json): groups per cluster, nodes per group."""
    data = facts()["eksManagedNodeGroupQuotas"]
    return {"nodeGroupsPerCluster": data["nodeGroupsPerCluster"], "nodesPerNodeGroup": data["nodesPerNodeGroup"]}


def max_gpus_per_instance(instance_type: str) -> int | None:
    """The most NVIDIA GPUs one instance of ``instance_type``'s family carries (None: not a GPU family listed)."""
    return facts()["maxNvidiaGpusPerInstanceByFamily"]["families"].get(instance_family(instance_type))


def vpc_netmask_rules() -> dict[str, int]:
    """AWS's bounds on VPC and subnet IPv4 blocks and the addresses it reserves per subnet (aws_facts.json)."""
    data = facts()["vpcCidrNetmask"]
    return {k: int(data[k]) for k in ("largestPrefixLength", "smallestPrefixLength", "reservedAddressesPerSubnet")}
