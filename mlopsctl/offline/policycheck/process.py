"""One running policy pack (``python policies/__main__.py``) driven over gRPC as the engine drives it.

The pack runs in its parent's process group: a terminal's Ctrl-C reaches it directly, and a diff's
base preview and its pack are stopped together as one group (mlopsctl/review/diff/run.py).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from google.protobuf import empty_pb2, json_format

from mlopsctl import ROOT
from mlopsctl.interrupts import deferred
from mlopsctl.offline.harness import RecordedResource, Recording
from mlopsctl.offline.policycheck import analyzer_proto
from mlopsctl.offline.policycheck.config import PolicyPackError, level_to_proto, load_config_file, normalize_config, reconcile_config
from mlopsctl.offline.policycheck.report import PolicyReport, violation_of
from mlopsctl.offline.policycheck.requests import analyze_request, engine_value, stack_resource

POLICIES_DIR = ROOT / "policies"


PACK_STOP_GRACE_S = 10


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
        _, analyzer_pb2_grpc = analyzer_proto()
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
            # Not cut short by Ctrl-C or SIGTERM (mlopsctl/interrupts.py): the pack is always stopped.
            with deferred():
                self._stop()

    def _stop(self) -> None:
        assert self.process is not None
        # Ctrl-C is what the pack expects: PolicyPack stops its gRPC server on KeyboardInterrupt.
        # A healthy pack stops at once; the grace is for a machine under load, where 3 s proved short.
        for stop, timeout in ((lambda p: p.send_signal(signal.SIGINT), PACK_STOP_GRACE_S), (subprocess.Popen.terminate, 3), (subprocess.Popen.kill, None)):
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
        analyzer_pb2, _ = analyzer_proto()
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
            entry.enforcementLevel = level_to_proto(level)
            if props:
                entry.properties.update(props)
        self.stub.Configure(request)
        return reconciled

    def configure_stack(self, stack: str, project: str, config: Mapping[str, str] | None = None, secret_keys: Iterable[str] = ()) -> None:
        analyzer_pb2, _ = analyzer_proto()
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

        analyzer_pb2, _ = analyzer_proto()
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
            return remediations, [violation_of(d, resource.urn) for d in analyzed.diagnostics]

        custom = [r for r in resources if r.custom]
        with ThreadPoolExecutor(max_workers=max(parallel, 1)) as pool:
            for remediations, violations in pool.map(one_resource, custom):
                report.remediations.extend(remediations)
                report.violations.extend(violations)

        stack_resources = [stack_resource(r, by_urn, inputs[r.urn]) for r in resources]
        analyzed = self.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=stack_resources))
        report.violations.extend(violation_of(d, d.urn or None) for d in analyzed.diagnostics)
        report.seconds = time.perf_counter() - started
        return report
