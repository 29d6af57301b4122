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


_KINDS = {str: "a string", list: "a list", dict: "an object", int: "an integer"}


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
    for name, kind in SHAPES[key].items():
        value = section.get(name)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise OutputsError(f"outputs: {key}.{name}: missing or not {_KINDS[kind]}")
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
    on. Not checked live: the KMS keys beyond their use by the store, cluster and endpoints, IAM
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
    return sections


def configured_endpoints(config: PlatformConfig) -> dict[str, dict[str, Any]]:
    """The stack config's endpoints by name, each as a camelCase dict (typed or raw config)."""
    endpoints = {}
    for entry in config.serving.endpoints:
        raw = entry.model_dump(by_alias=True) if hasattr(entry, "model_dump") else dict(entry)
        endpoints[raw["name"]] = raw
    return endpoints
