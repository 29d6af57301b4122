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


def model_monitor_image_uri(region: str) -> str | None:
    """SageMaker's prebuilt Model Monitor analyzer image in ``region`` (None where not listed)."""
    data = facts()["sagemakerModelMonitorAnalyzerAccounts"]
    account = data["accounts"].get(region)
    if account is None:
        return None
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{data['repository']}:latest"
