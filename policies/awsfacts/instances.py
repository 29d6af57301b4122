"""AWS facts botocore lacks (``aws_facts.json``: GPU families, serverless memory steps, ...).

Each section of the file records its source and the file its as-of date. The program and
``mlopsctl`` read it through ``components.facts``, the pack's checks import this module: one file
here, because Pulumi ships only ``policies/`` with the pack.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

FACTS_FILE = Path(__file__).with_name("aws_facts.json")


@cache
def facts() -> dict:
    return json.loads(FACTS_FILE.read_text(encoding="utf-8"))


def instance_family(instance_type: str) -> str:
    """'g5.xlarge' -> 'g5'; 'ml.g5.xlarge' -> 'ml.g5'."""
    return instance_type.rsplit(".", 1)[0]


def is_gpu_ec2_type(instance_type: str) -> bool:
    return instance_family(instance_type) in facts()["gpuInstanceFamilies"]["ec2"]


def is_gpu_sagemaker_type(instance_type: str) -> bool:
    return instance_family(instance_type) in facts()["gpuInstanceFamilies"]["sagemaker"]


def gpu_accelerator(instance_type: str) -> str | None:
    return facts()["gpuAcceleratorByFamily"].get(instance_family(instance_type))


def has_instance_storage(instance_type: str) -> bool:
    """SageMaker ML instances with local NVMe storage, encrypted by the instance's hardware (an
    endpoint config's KmsKeyId is rejected for them)."""
    return instance_family(instance_type) in facts()["sagemakerInstanceStorageFamilies"]["values"]


def nvidia_gpus(instance_type: str) -> int | None:
    """NVIDIA GPUs of one ``instance_type`` instance (``nvidiaGpusPerInstanceType``; None: not listed)."""
    return facts()["nvidiaGpusPerInstanceType"]["types"].get(instance_type)
