"""The Analyzer requests the engine sends for recorded registrations.

Values are marshalled as the engine marshals them for analyzers (KeepUnknowns, KeepSecrets, no
output values, no resource references); each request carries the resource's options and its
provider (type, URN, name, recorded inputs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2

from mlopsctl.offline.harness import RecordedResource
from mlopsctl.offline.policycheck import analyzer_proto
from mlopsctl.offline.wire import OUTPUT_VALUE_SIG, RESOURCE_SIG, SECRET_SIG, SIG_KEY, UNKNOWN


def engine_value(value: Any) -> Any:
    if isinstance(value, list):
        return [engine_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    signature = value.get(SIG_KEY)
    if signature == SECRET_SIG:
        return {SIG_KEY: SECRET_SIG, "value": engine_value(value.get("value"))}
    if signature == OUTPUT_VALUE_SIG:
        if "value" not in value:
            return UNKNOWN
        inner = engine_value(value["value"])
        return {SIG_KEY: SECRET_SIG, "value": inner} if value.get("secret") else inner
    if signature == RESOURCE_SIG:
        if "id" in value:
            return UNKNOWN if value["id"] in ("", UNKNOWN) else value["id"]
        return value.get("urn", UNKNOWN)
    return {k: engine_value(v) for k, v in value.items()}


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(engine_value(dict(values)))
    return message


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")


def duration_seconds(text: str) -> float:
    """Go duration strings as the SDK sends custom timeouts ("5m", "1h30m")."""
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(amount) * scale[unit] for amount, unit in _DURATION.findall(text or ""))


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _provider(resource: RecordedResource, by_urn: Mapping[str, RecordedResource]):
    """The resource's provider as the engine describes it: type, URN, name and its inputs."""
    analyzer_pb2, _ = analyzer_proto()
    if not resource.provider:
        return None
    provider = by_urn.get(resource.provider.rsplit("::", 1)[0])  # the reference is "<urn>::<id>"
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(type=provider.type, urn=provider.urn, name=urn_name(provider.urn), properties=_struct(provider.inputs))


def _options(resource: RecordedResource, with_parent: bool):
    analyzer_pb2, _ = analyzer_proto()
    timeouts = analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
        create=duration_seconds(resource.customTimeouts.get("create", "")),
        update=duration_seconds(resource.customTimeouts.get("update", "")),
        delete=duration_seconds(resource.customTimeouts.get("delete", "")),
    )
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect,
        ignoreChanges=list(resource.ignoreChanges),
        deleteBeforeReplace=resource.deleteBeforeReplace,
        deleteBeforeReplaceDefined=resource.deleteBeforeReplace,
        additionalSecretOutputs=list(resource.additionalSecretOutputs),
        aliases=list(resource.aliases),
        customTimeouts=timeouts,
        # The step generator sets the parent option for Analyze; AnalyzeResources sends it as a field.
        parent=(resource.parent or "") if with_parent else "",
    )


def analyze_request(resource: RecordedResource, by_urn: Mapping[str, RecordedResource], properties: Mapping[str, Any] | None = None):
    """The AnalyzeRequest (also used for Remediate) the engine sends for one registration."""
    analyzer_pb2, _ = analyzer_proto()
    request = analyzer_pb2.AnalyzeRequest(
        type=resource.type, urn=resource.urn, name=urn_name(resource.urn),
        properties=_struct(resource.inputs if properties is None else properties), options=_options(resource, True),
    )
    provider = _provider(resource, by_urn)
    if provider is not None:
        request.provider.CopyFrom(provider)
    return request


def stack_resource(resource: RecordedResource, by_urn: Mapping[str, RecordedResource], properties: Mapping[str, Any] | None = None):
    """One AnalyzerResource of the AnalyzeStack request."""
    analyzer_pb2, _ = analyzer_proto()
    entry = analyzer_pb2.AnalyzerResource(
        type=resource.type, urn=resource.urn, name=urn_name(resource.urn),
        properties=_struct(resource.inputs if properties is None else properties), options=_options(resource, False),
        parent=resource.parent or "", dependencies=list(resource.dependencies),
    )
    provider = _provider(resource, by_urn)
    if provider is not None:
        entry.provider.CopyFrom(provider)
    for key, urns in resource.propertyDependencies.items():
        entry.propertyDependencies[key].urns.extend(urns)
    return entry
