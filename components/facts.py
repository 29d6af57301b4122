"""AWS facts the platform validates against.

Two sources, never hand-copied lists:
- botocore's bundled service models: instance-type enums, AMI types, name limits, regions;
- ``data/aws_facts.json``: what botocore lacks (GPU families, serverless memory steps), each
  with its source and as-of date. The EKS version lifecycle is shared with the policy pack:
  ``policies/awsfacts/eks_versions.json``, read through ``policies.awsfacts.eks_versions``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import re
from functools import cache
from pathlib import Path

FACTS_FILE = Path(__file__).parent / "data" / "aws_facts.json"


def _botocore_data_dir() -> Path:
    # Read botocore's bundled data files directly: the same models botocore itself loads, without
    # importing botocore's client stack (which costs more than the lookups themselves).
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _model_path(service: str) -> Path:
    """The newest API version of a service model, as botocore ships it."""
    service_dir = _botocore_data_dir() / service
    latest = max(p for p in service_dir.iterdir() if (p / "service-2.json.gz").exists() or (p / "service-2.json").exists())
    compressed = latest / "service-2.json.gz"
    return compressed if compressed.exists() else latest / "service-2.json"


def _load_model(path: Path) -> dict:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return json.load(handle)
    return json.loads(path.read_text())


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlops-platform"


@cache
def _value_shapes(service: str) -> dict[str, dict]:
    """A service's scalar shapes (enums, bounds, patterns), derived from botocore's model.

    Parsing the whole EC2 model costs more than everything else config validation does, so the
    derived subset is cached on disk, keyed by the model file's path, size and mtime: a botocore
    upgrade produces a new key, and the cache is never edited by hand.
    """
    path = _model_path(service)
    stat = path.stat()
    key = hashlib.sha256(f"{path}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    cache_file = _cache_dir() / f"botocore-{service}-{key}.json"
    try:
        return json.loads(cache_file.read_text())
    except (OSError, ValueError):
        pass
    shapes = {
        name: {k: v for k, v in shape.items() if k in ("type", "enum", "min", "max", "pattern")}
        for name, shape in _load_model(path)["shapes"].items()
        if shape.get("type") in ("string", "integer", "long")
    }
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache_file.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(shapes))
        temporary.replace(cache_file)
    except OSError:
        pass  # a read-only home only costs the parse next time
    return shapes


def _shape(service: str, shape: str) -> dict:
    return _value_shapes(service)[shape]


@cache
def facts() -> dict:
    return json.loads(FACTS_FILE.read_text())


@cache
def ec2_instance_types() -> frozenset[str]:
    return frozenset(_shape("ec2", "InstanceType")["enum"])


@cache
def sagemaker_instance_types() -> frozenset[str]:
    return frozenset(_shape("sagemaker", "ProductionVariantInstanceType")["enum"])


@cache
def eks_ami_types() -> frozenset[str]:
    return frozenset(_shape("eks", "AMITypes")["enum"])


@cache
def eks_capacity_types() -> frozenset[str]:
    return frozenset(_shape("eks", "CapacityTypes")["enum"])


SUPPORTED_PARTITION = "aws"  # China and GovCloud partitions are untested here, so not offered.


@cache
def known_regions() -> frozenset[str]:
    """Regions of the commercial partition, from botocore's partitions.json."""
    partitions = json.loads((_botocore_data_dir() / "partitions.json").read_text())["partitions"]
    (commercial,) = (p for p in partitions if p["id"] == SUPPORTED_PARTITION)
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


def instance_family(instance_type: str) -> str:
    """'g5.xlarge' -> 'g5'; 'ml.g5.xlarge' -> 'ml.g5'."""
    return instance_type.rsplit(".", 1)[0]


def is_gpu_ec2_type(instance_type: str) -> bool:
    return instance_family(instance_type) in facts()["gpuInstanceFamilies"]["ec2"]


def is_gpu_sagemaker_type(instance_type: str) -> bool:
    return instance_family(instance_type) in facts()["gpuInstanceFamilies"]["sagemaker"]


def gpu_accelerator(instance_type: str) -> str | None:
    return facts()["gpuAcceleratorByFamily"].get(instance_family(instance_type))


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
    return frozenset(_shape("sagemaker", "ProcessingInstanceType")["enum"])


def has_instance_storage(instance_type: str) -> bool:
    """ML instances with local NVMe storage reject an endpoint-config KmsKeyId."""
    return instance_family(instance_type) in facts()["sagemakerInstanceStorageFamilies"]["values"]


def model_monitor_image_uri(region: str) -> str | None:
    """SageMaker's prebuilt Model Monitor analyzer image in ``region`` (None where not listed)."""
    data = facts()["sagemakerModelMonitorAnalyzerAccounts"]
    account = data["accounts"].get(region)
    if account is None:
        return None
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{data['repository']}:latest"
