"""Drive the policy pack over its real gRPC Analyzer interface, the way the Pulumi engine does.

``python policies/__main__.py`` starts the pack's Analyzer server and prints its port. This module
starts that process, then for a recorded program run (:class:`mlopsctl.offline.harness.Recording`):

1. ``GetAnalyzerInfo``, then ``Configure`` with the per-environment config file reconciled like the
   engine's ``ReconcilePolicyPackConfig`` (schema defaults, then ``all``, then per-policy entries;
   validated against each policy's config schema);
2. ``ConfigureStack`` (stack, project, dry run, stack config);
3. per custom resource, in registration order: ``Remediate`` then ``Analyze`` on the remediated
   inputs (the step generator's two passes), with the resource options and its provider (type,
   URN, name, recorded inputs) attached;
4. ``AnalyzeStack`` once with every resource, its parent, dependencies and propertyDependencies.

What differs from a real engine run, and why it does not matter to this pack: the engine sends
inputs after the provider's ``Check`` (which may add defaults and auto-names) and, for
``AnalyzeStack``, outputs (inputs plus computed values, unknown in a preview); we send the
program's inputs for both. The policies read inputs only and treat absent values as AWS defaults.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import empty_pb2, json_format, struct_pb2

from mlopsctl import ROOT
from mlopsctl.offline.harness import RESOURCE_SIG, SECRET_SIG, SIG_KEY, UNKNOWN, RecordedResource, Recording

POLICIES_DIR = ROOT / "policies"
CONFIG_DIR = POLICIES_DIR / "config"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN_DIAGNOSTIC = re.compile(r"^can't run policy '")
LEVEL_NAMES = ("advisory", "mandatory", "disabled", "remediate")


class PolicyPackError(RuntimeError):
    """The pack failed to start, or its configuration is invalid."""


def _proto():
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    return analyzer_pb2, analyzer_pb2_grpc


def _level_to_proto(level: str) -> int:
    analyzer_pb2, _ = _proto()
    try:
        return {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY, "disabled": analyzer_pb2.DISABLED, "remediate": analyzer_pb2.REMEDIATE}[level]
    except KeyError:
        raise PolicyPackError(f"unknown enforcement level {level!r}; allowed: {', '.join(LEVEL_NAMES)}") from None


def _level_name(value: int) -> str:
    analyzer_pb2, _ = _proto()
    return {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory", analyzer_pb2.DISABLED: "disabled", analyzer_pb2.REMEDIATE: "remediate"}[value]


# ---------------------------------------------------------------------------------------------
# Wire values, as the engine marshals them for analyzers (KeepUnknowns, KeepSecrets, no output
# values, no resource references).


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


# ---------------------------------------------------------------------------------------------
# Config reconciliation (pulumi/pkg/resource/analyzer: ReconcilePolicyPackConfig)


def load_config_file(path: Path) -> dict[str, dict[str, Any]]:
    """A --policy-pack-config file as {policy: {"enforcementLevel"?: str, **properties}}."""
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PolicyPackError(f"{path}: {exc}") from None
    return normalize_config(document, str(path))


def normalize_config(document: Any, source: str = "policy config") -> dict[str, dict[str, Any]]:
    """Entries may be a bare enforcement level or an object with enforcementLevel and properties."""
    if not isinstance(document, Mapping):
        raise PolicyPackError(f"{source}: expected a JSON object of policy names")
    normalized: dict[str, dict[str, Any]] = {}
    for name, value in document.items():
        if isinstance(value, str):
            normalized[name] = {"enforcementLevel": value}
        elif isinstance(value, Mapping):
            normalized[name] = dict(value)
        else:
            raise PolicyPackError(f"{source}: {name}: expected an enforcement level or an object")
    return normalized


def reconcile_config(info: Any, given: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, dict[str, Any]]]:
    """{policy: (enforcement level, properties)} exactly as the engine would send to Configure."""
    schemas: dict[str, dict[str, Any]] = {}
    result: dict[str, tuple[str, dict[str, Any]]] = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema)
        schemas[policy.name] = schema
        defaults = {k: v["default"] for k, v in (schema.get("properties") or {}).items() if "default" in v}
        result[policy.name] = (_level_name(policy.enforcementLevel), defaults)
    initial = {k: json_format.MessageToDict(v) for k, v in info.initialConfig.items()}
    for layer in (initial, normalize_config(given)):
        result = _apply_layer(result, layer)
    for name, (level, props) in result.items():
        _level_to_proto(level)
        _validate_properties(name, schemas.get(name) or {}, props)
    return result


def _apply_layer(result: dict[str, tuple[str, dict[str, Any]]], layer: Mapping[str, Mapping[str, Any]], *, strict: bool = True) -> dict[str, tuple[str, dict[str, Any]]]:
    """One config layer over {policy: (level, properties)}: "all" sets every level, then each entry
    overrides its policy's level and merges its properties (the engine's order)."""
    all_level = (layer.get("all") or {}).get("enforcementLevel")
    if all_level:
        result = {k: (all_level, props) for k, (_, props) in result.items()}
    for name, entry in layer.items():
        if name == "all":
            continue
        if name not in result:
            if strict:
                raise PolicyPackError(f"policy config names {name!r}, which the pack does not have")
            continue
        level, props = result[name]
        props = {**props, **{k: v for k, v in entry.items() if k != "enforcementLevel"}}
        result[name] = (entry.get("enforcementLevel") or level, props)
    return result


def configured_policy(given: Mapping[str, Any], name: str, default_level: str, defaults: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """One policy's (enforcement level, properties) under a config file, by :func:`reconcile_config`'s
    rules, for callers that know the policy's defaults without starting the pack (``mlopsctl cost``).

    A bare string entry (``"monthly-budget": "advisory"``) is a level, as the engine reads it.
    """
    result = _apply_layer({name: (default_level, dict(defaults or {}))}, normalize_config(given), strict=False)
    level, props = result[name]
    _level_to_proto(level)
    return level, props


def _validate_properties(name: str, schema: dict[str, Any], props: dict[str, Any]) -> None:
    """Validate reconciled properties against the policy's schema, as the engine does.

    The pack's schemas use a small JSON-schema subset (type, enum, minimum, maximum, items,
    additionalProperties), checked here without importing a JSON-schema library: the preview
    pays for every import.
    """
    known = schema.get("properties") or {}
    for key in schema.get("required") or []:
        if key not in props:
            raise PolicyPackError(f"{name}: missing required config property {key!r}")
    for key, value in props.items():
        if key not in known:
            raise PolicyPackError(f"{name}.{key}: Additional properties are not allowed ({sorted(known)} are)")
        problem = _schema_problem(known[key], value)
        if problem:
            raise PolicyPackError(f"{name}.{key}: {problem}")


_JSON_TYPES = {"boolean": (bool,), "integer": (int, float), "number": (int, float), "string": (str,), "array": (list,), "object": (dict,)}


def _schema_problem(schema: Mapping[str, Any], value: Any) -> str | None:
    expected = schema.get("type")
    if expected:
        types = _JSON_TYPES[expected]
        if not isinstance(value, types) or (expected != "boolean" and isinstance(value, bool)):
            return f"{value!r} is not of type {expected!r}"
        if expected == "integer" and float(value) != int(value):
            return f"{value!r} is not of type 'integer'"
    if "enum" in schema and value not in schema["enum"]:
        return f"{value!r} is not one of {schema['enum']}"
    if "minimum" in schema and value < schema["minimum"]:
        return f"{value!r} is less than the minimum of {schema['minimum']}"
    if "maximum" in schema and value > schema["maximum"]:
        return f"{value!r} is greater than the maximum of {schema['maximum']}"
    if isinstance(value, list) and "items" in schema:
        for item in value:
            problem = _schema_problem(schema["items"], item)
            if problem:
                return problem
    extra = schema.get("additionalProperties")
    if isinstance(value, dict) and isinstance(extra, Mapping):
        for item in value.values():
            problem = _schema_problem(extra, item)
            if problem:
                return problem
    return None


# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class Violation:
    policy: str
    level: str
    urn: str | None
    message: str
    severity: str = ""
    unknown: bool = False  # "can't run during preview": the policy read a value unknown until apply

    def to_json(self) -> dict[str, Any]:
        data = {"policy": self.policy, "level": self.level, "urn": self.urn, "message": self.message, "severity": self.severity}
        if self.unknown:
            data["unknownDuringPreview"] = True
        return data


@dataclass
class PolicyReport:
    pack: str
    version: str
    config: str | None
    policies: int
    violations: list[Violation] = field(default_factory=list)
    remediations: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    def by_policy(self, name: str) -> list[Violation]:
        return [v for v in self.violations if v.policy == name]

    def to_json(self) -> dict[str, Any]:
        return {
            "evaluated": True,
            "pack": {"name": self.pack, "version": self.version, "policies": self.policies, "config": self.config},
            # Resources are analyzed in parallel; a fixed order keeps two runs byte for byte equal.
            "violations": [v.to_json() for v in sorted(self.violations, key=lambda v: (v.urn or "", v.policy, v.message))],
            "remediations": self.remediations,
            "note": "The analyzer protocol carries no retainOnDelete; see each resource's retainOnDelete in `resources`.",
        }


_SEVERITY_NAMES = {0: "", 1: "low", 2: "medium", 3: "high", 4: "critical"}


# ---------------------------------------------------------------------------------------------
# The pack process


class PolicyPackProcess:
    """One running policy pack (``python policies/__main__.py``) and a gRPC Analyzer stub to it."""

    def __init__(self, pack_dir: Path = POLICIES_DIR, python: str = sys.executable, start_timeout: float = 30.0):
        self.pack_dir = Path(pack_dir)
        self.python = python
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.channel = None
        self.stub = None
        self.port: int | None = None
        self.info = None
        self.config_path: str | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def launch(self) -> PolicyPackProcess:
        """Start the process without waiting for it (overlap its start-up with other work)."""
        if self.process is None:
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}
            self.process = subprocess.Popen(
                [self.python, "-u", str(self.pack_dir / "__main__.py")],
                cwd=self.pack_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            )
        return self

    def start(self) -> PolicyPackProcess:
        import grpc

        self.launch()
        if self.stub is not None:
            return self
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.process.stdout], [], [], max(remaining, 0))
            if not ready:
                self.close()
                raise PolicyPackError(f"the policy pack printed no port within {self.start_timeout:.0f}s")
            chunk = os.read(self.process.stdout.fileno(), 64)
            if not chunk:
                stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                self.close()
                raise PolicyPackError(f"the policy pack exited before printing its port:\n{stderr.strip()}")
            line += chunk
        self.port = int(line.strip())
        _, analyzer_pb2_grpc = _proto()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        return self

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
            self.stub = None
        if self.process is not None:
            # Ctrl-C is what the pack expects: PolicyPack stops its gRPC server on KeyboardInterrupt.
            for stop, timeout in ((lambda p: p.send_signal(signal.SIGINT), 3), (subprocess.Popen.terminate, 3), (subprocess.Popen.kill, None)):
                if self.process.poll() is not None:
                    break
                stop(self.process)
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    continue
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
            self.process = None

    def __enter__(self) -> PolicyPackProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- configuration ----------------------------------------------------------------------
    def policy_names(self) -> list[str]:
        return [p.name for p in self.info.policies]

    def configure(self, config: Mapping[str, Mapping[str, Any]] | Path | str | None) -> dict[str, tuple[str, dict[str, Any]]]:
        """Send Configure with a config file (path) or mapping, reconciled as the engine does."""
        analyzer_pb2, _ = _proto()
        self.start()
        if isinstance(config, (str, Path)):
            self.config_path = str(config)
            given = load_config_file(Path(config))
        else:
            self.config_path = None
            given = normalize_config(config or {})
        reconciled = reconcile_config(self.info, given)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, props) in reconciled.items():
            entry = request.policyConfig[name]
            entry.enforcementLevel = _level_to_proto(level)
            if props:
                entry.properties.update(props)
        self.stub.Configure(request)
        return reconciled

    def configure_stack(self, stack: str, project: str, config: Mapping[str, str] | None = None, secret_keys: Iterable[str] = ()) -> None:
        analyzer_pb2, _ = _proto()
        self.start()
        self.stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=project, organization="organization", dry_run=True,
            config=dict(config or {}), config_secret_keys=list(secret_keys),
            tags={"pulumi:project": project},
        ))

    # -- analysis ---------------------------------------------------------------------------
    def analyze(self, resources: list[RecordedResource] | Recording, *, parallel: int = 4) -> PolicyReport:
        """Run the pack over recorded registrations like the engine's step generator + AnalyzeResources."""
        from concurrent.futures import ThreadPoolExecutor

        analyzer_pb2, _ = _proto()
        self.start()
        if isinstance(resources, Recording):
            resources = resources.resources
        started = time.perf_counter()
        by_urn = {r.urn: r for r in resources}
        inputs = {r.urn: engine_value(r.inputs) for r in resources}
        report = PolicyReport(pack=self.info.name, version=self.info.version, config=self.config_path, policies=len(self.info.policies))

        def one_resource(resource: RecordedResource) -> tuple[list, list]:
            request = analyze_request(resource, by_urn, inputs[resource.urn])
            remediated = self.stub.Remediate(request)
            remediations = []
            for remediation in remediated.remediations:
                if remediation.diagnostic:
                    remediations.append({"policy": remediation.policyName, "urn": resource.urn, "diagnostic": remediation.diagnostic})
                elif remediation.HasField("properties"):
                    new_inputs = json_format.MessageToDict(remediation.properties)
                    remediations.append({"policy": remediation.policyName, "urn": resource.urn, "changed": sorted(k for k in set(new_inputs) | set(inputs[resource.urn]) if new_inputs.get(k) != inputs[resource.urn].get(k))})
                    inputs[resource.urn] = new_inputs
                    request = analyze_request(resource, by_urn, new_inputs)
            analyzed = self.stub.Analyze(request)
            # The engine reports every Analyze diagnostic against the resource it analyzed.
            return remediations, [_violation(d, resource.urn) for d in analyzed.diagnostics]

        custom = [r for r in resources if r.custom]
        with ThreadPoolExecutor(max_workers=max(parallel, 1)) as pool:
            for remediations, violations in pool.map(one_resource, custom):
                report.remediations.extend(remediations)
                report.violations.extend(violations)

        stack_resources = [stack_resource(r, by_urn, inputs[r.urn]) for r in resources]
        analyzed = self.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=stack_resources))
        report.violations.extend(_violation(d, d.urn or None) for d in analyzed.diagnostics)
        report.seconds = time.perf_counter() - started
        return report


def _provider(resource: RecordedResource, by_urn: Mapping[str, RecordedResource]):
    """The resource's provider as the engine describes it: type, URN, name and its inputs."""
    analyzer_pb2, _ = _proto()
    if not resource.provider:
        return None
    provider = by_urn.get(resource.provider.rsplit("::", 1)[0])  # the reference is "<urn>::<id>"
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(type=provider.type, urn=provider.urn, name=urn_name(provider.urn), properties=_struct(provider.inputs))


def _options(resource: RecordedResource, with_parent: bool):
    analyzer_pb2, _ = _proto()
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
    analyzer_pb2, _ = _proto()
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
    analyzer_pb2, _ = _proto()
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


def _violation(diagnostic: Any, urn: str | None) -> Violation:
    level = _level_name(diagnostic.enforcementLevel)
    if level == "remediate":  # the engine downgrades a violation that survived remediation
        level = "mandatory"
    return Violation(
        policy=diagnostic.policyName, level=level, urn=urn, message=diagnostic.message,
        severity=_SEVERITY_NAMES.get(diagnostic.severity, ""), unknown=bool(UNKNOWN_DIAGNOSTIC.match(diagnostic.message)),
    )


def config_path(environment: str) -> Path:
    return CONFIG_DIR / f"{environment}.json"
