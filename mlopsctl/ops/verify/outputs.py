"""The stack outputs verify reads: their shape, whose stack they are, and which sections the config implies.

Layer 1 exports ``environment`` and ``region`` next to one section per capability
(components/platform.py). Outputs whose environment or region is not the stack file's are the
wrong stack's: verify refuses them (exit 2) before any AWS call rather than check another
stack's resources against this stack's config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO

from components.config import PlatformConfig


class OutputsError(ValueError):
    """Unreadable or malformed stack outputs, or the outputs of another stack. ``str()`` is one line."""


def read_outputs(source: str | None, stdin: TextIO) -> dict[str, Any]:
    if source in (None, "-"):
        text, where = stdin.read(), "stdin"
    else:
        try:
            with open(source, encoding="utf-8") as handle:
                text, where = handle.read(), source
        except OSError as exc:
            raise OutputsError(f"--outputs {source}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise OutputsError(f"--outputs {source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputsError(f"outputs ({where}): not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(outputs, dict):
        raise OutputsError(f"outputs ({where}): must be a JSON object (pulumi stack output --json), got {type(outputs).__name__}")
    return outputs


def check_same_stack(config: PlatformConfig, outputs: dict[str, Any], stack_path: str) -> None:
    """Refuse outputs whose ``environment``/``region`` are not the stack file's (one line, "wrong stack")."""
    environment, region = outputs.get("environment"), outputs.get("region")
    if environment is None and region is None:
        raise OutputsError(f"wrong stack: the outputs carry no 'environment' or 'region', which layer 1 of this platform exports; "
                           f"pass `pulumi stack output --json` of {config.environment}'s layer 1 stack")
    if (environment, region) != (config.environment, config.region):
        raise OutputsError(f"wrong stack: the outputs are environment {environment!r} in {region}, {stack_path} is environment "
                           f"{config.environment!r} in {config.region}; pass `pulumi stack output --json --stack {config.environment}`")


# Each section's fields verify reads: name -> the type(s) its value must have.
SHAPES: dict[str, dict[str, type | tuple[type, ...]]] = {
    "artifactStore": {"bucketName": str, "kmsKeyArn": str},
    "network": {"vpcId": str, "privateSubnetIds": list, "natGatewayCount": int},
    "cluster": {"name": str, "nodeGroups": dict},
    "ciRunner": {"projectName": str, "securityGroupId": str},
    "alerts": {"topicArn": str},
    "promotion": {"connectionName": str, "deadLetterQueueName": str},
}


_KINDS = {str: "a string", list: "a list", dict: "an object", int: "an integer", bool: "true or false"}

# Each training pipeline's fields (components/training): name -> the type(s) its value must have;
# a rule name is null where the family has no such trigger, and the guard is null where it has none.
TRAINING_PIPELINE_SHAPE: dict[str, type | tuple[type, ...]] = {
    "name": str, "arn": str, "roleArn": str, "guardStateMachineArn": (str, type(None)),
    "scheduleRuleName": (str, type(None)), "scheduleEnabled": bool, "driftRuleName": (str, type(None)),
}
TRAINING_EXPERIMENTS_SHAPE: dict[str, type | tuple[type, ...]] = {"kind": str, "name": str, "arn": str, "artifactStoreUri": str}
# training.experiments.kind (components/config/training.py ExperimentsConfig.kind).
EXPERIMENT_KINDS = ("serverless", "trackingServer")


def checked_shape(outputs: dict[str, Any], key: str) -> dict | None:
    """``outputs[key]`` when present, after its fields are checked (``None`` when absent)."""
    section = outputs.get(key)
    if section is None:
        return None
    if not isinstance(section, dict):
        raise OutputsError(f"outputs: {key}: must be an object")
    if key == "endpoints":
        if not all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in section.values()):
            raise OutputsError("outputs: endpoints: must map each endpoint to an object with a string 'name'")
        return section
    if key == "training":
        return _checked_training(section)
    _check_fields(section, SHAPES[key], key)
    return section


def _check_fields(section: dict, shape: dict[str, type | tuple[type, ...]], where: str) -> None:
    for name, kind in shape.items():
        value = section.get(name)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if name not in section or not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            allowed = " or ".join("null" if k is type(None) else _KINDS[k] for k in kinds)
            raise OutputsError(f"outputs: {where}.{name}: missing or not {allowed}")


def _checked_training(section: dict) -> dict:
    """``training``: ``pipelines`` by endpoint (each of TRAINING_PIPELINE_SHAPE), ``experiments`` null or of TRAINING_EXPERIMENTS_SHAPE."""
    pipelines = section.get("pipelines")
    if not isinstance(pipelines, dict):
        raise OutputsError("outputs: training.pipelines: missing or not an object (endpoint name -> its pipeline)")
    for endpoint, pipeline in pipelines.items():
        if not isinstance(pipeline, dict):
            raise OutputsError(f"outputs: training.pipelines.{endpoint}: must be an object")
        _check_fields(pipeline, TRAINING_PIPELINE_SHAPE, f"training.pipelines.{endpoint}")
    if "experiments" not in section:
        raise OutputsError("outputs: training.experiments: missing (null when experiment tracking is off)")
    experiments = section["experiments"]
    if experiments is not None:
        if not isinstance(experiments, dict):
            raise OutputsError("outputs: training.experiments: must be null or an object")
        _check_fields(experiments, TRAINING_EXPERIMENTS_SHAPE, "training.experiments")
        if experiments["kind"] not in EXPERIMENT_KINDS:
            raise OutputsError(f"outputs: training.experiments.kind: {experiments['kind']!r}, allowed: {', '.join(EXPERIMENT_KINDS)}")
    return section


@dataclass(frozen=True)
class Declared:
    """An output section the stack config implies: ``key`` in the outputs, ``by`` the config that declares it."""

    key: str
    by: str


def declared_sections(config: PlatformConfig) -> list[Declared]:
    """Every output section this stack's config implies, in the order verify checks them.

    Every stack has an artifact store, a network, a cluster and an alert topic; endpoints when
    ``serving.endpoints`` names any; the runner project when ``ciRunner.connectionArn`` is set
    (without it layer 1 creates no project); the approval dispatch when ``promotion.dispatch`` is
    on; continuous training when an endpoint has ``training`` or ``training.experiments`` is
    enabled (new stacks always export ``training``, empty without either, so an absent section of a
    stack that declares neither is a stack deployed before training existed, and nothing is
    missing). Not checked live: the KMS keys beyond their use by the store, cluster and endpoints, IAM
    roles, the dispatch's rules and API destination, and layer 2's Kubernetes objects.
    """
    sections = [Declared("artifactStore", "storage (every stack has an artifact store)"),
                Declared("network", "network (every stack has a VPC)"),
                Declared("cluster", "eks (every stack has a cluster)")]
    if config.ci_runner.enabled:
        sections.append(Declared("ciRunner", "ciRunner.connectionArn"))
    if configured_endpoints(config):
        sections.append(Declared("endpoints", "serving.endpoints"))
    sections.append(Declared("alerts", "alerts (every stack has an alert topic)"))
    if config.promotion.dispatch:
        sections.append(Declared("promotion", "promotion.dispatch"))
    declared_by = [f"serving.endpoints[{name}].training" for name in configured_families(config)]
    if config.training.experiments.enabled:
        declared_by.append("training.experiments.enabled")
    if declared_by:
        sections.append(Declared("training", ", ".join(declared_by)))
    return sections


def configured_families(config: PlatformConfig) -> dict[str, Any]:
    """Each endpoint's ``training`` (an EndpointTrainingConfig) by endpoint name, for the endpoints that have one."""
    return {entry.name: entry.training for entry in config.serving.endpoints if getattr(entry, "training", None) is not None}


def configured_endpoints(config: PlatformConfig) -> dict[str, dict[str, Any]]:
    """The stack config's endpoints by name, each as a camelCase dict (typed or raw config)."""
    endpoints = {}
    for entry in config.serving.endpoints:
        raw = entry.model_dump(by_alias=True) if hasattr(entry, "model_dump") else dict(entry)
        endpoints[raw["name"]] = raw
    return endpoints
