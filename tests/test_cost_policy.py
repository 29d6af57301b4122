"""The ``monthly-budget`` stack policy, driven over the policy pack's real gRPC Analyzer interface.

The pack runs as its own process (``tests/packs/budget_pack.py`` loads ``policies/budget.py`` like
``pulumi`` loads the pack); this module talks to it exactly as the engine does: ``Configure`` with
the policy config of ``--policy-pack-config``, then ``AnalyzeStack`` with every resource's
wire-format properties, provider, parent and dependencies.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from mlopsctl.harness import Recording
from tests.conftest import ROOT, STACKS, run_component, stack_preview
from tests.cost_fixture import FixtureOptions, build

PACK = Path(__file__).resolve().parent / "packs" / "budget_pack.py"
CONFIG_DIR = ROOT / "policies" / "config"
FIXTURE_CEILING = "$3,178.60"  # hand-computed in tests/test_cost.py


def _struct(value: dict) -> struct_pb2.Struct:
    return json_format.ParseDict(value, struct_pb2.Struct())


class PackProcess:
    """A running policy pack and an Analyzer client on its port."""

    def __init__(self, entry: Path):
        self.process = subprocess.Popen([sys.executable, str(entry)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=entry.parent)
        port = self.process.stdout.readline().decode().strip()  # type: ignore[union-attr]
        if not port.isdigit():
            self.close()
            raise RuntimeError(f"policy pack did not print a port (got {port!r})")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.analyzer = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def close(self) -> None:
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        self.process.kill()
        self.process.wait(timeout=10)

    def analyze_stack(self, recording: Recording, policy_config: dict[str, dict]) -> list[analyzer_pb2.AnalyzeDiagnostic]:
        configs = {}
        for policy, values in policy_config.items():
            level = values.get("enforcementLevel", "mandatory").upper()
            properties = {k: v for k, v in values.items() if k != "enforcementLevel"}
            configs[policy] = analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.EnforcementLevel.Value(level), properties=_struct(properties))
        self.analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=configs))
        by_urn = {r.urn: r for r in recording.resources}
        resources = []
        for r in recording.resources:
            provider = None
            if r.provider:
                registered = by_urn[r.provider.rsplit("::", 1)[0]]
                provider = analyzer_pb2.AnalyzerProviderResource(type=registered.type, properties=_struct(registered.inputs), urn=registered.urn, name=registered.name)
            resources.append(
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    properties=_struct(r.inputs),
                    urn=r.urn,
                    name=r.name,
                    options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect, ignoreChanges=r.ignoreChanges, parent=r.parent or ""),
                    provider=provider,
                    parent=r.parent or "",
                    dependencies=r.dependencies,
                    propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v) for k, v in r.propertyDependencies.items()},
                )
            )
        return list(self.analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources)).diagnostics)


@pytest.fixture(scope="module")
def pack():
    running = PackProcess(PACK)
    yield running
    running.close()


def _budget(usd: float, level: str = "mandatory") -> dict[str, dict]:
    return {"monthly-budget": {"enforcementLevel": level, "monthlyBudgetUsd": usd}}


def test_over_budget_is_a_mandatory_violation(pack):
    diagnostics = pack.analyze_stack(run_component(build()), _budget(1000))
    assert len(diagnostics) == 1
    violation = diagnostics[0]
    assert violation.policyName == "monthly-budget"
    assert violation.enforcementLevel == analyzer_pb2.MANDATORY
    assert violation.urn == ""  # a stack-level verdict
    assert f"ceiling {FIXTURE_CEILING}/month exceeds the budget of $1,000.00/month" in violation.message
    assert "EKS nodes g5.xlarge/g5.2xlarge (SPOT) $1,769.52" in violation.message  # the largest driver is named


def test_within_budget_passes(pack):
    assert pack.analyze_stack(run_component(build()), _budget(3200)) == []


def test_advisory_level_from_the_policy_config(pack):
    diagnostics = pack.analyze_stack(run_component(build()), _budget(1000, "advisory"))
    assert [d.enforcementLevel for d in diagnostics] == [analyzer_pb2.ADVISORY]


def test_no_budget_configured_reports_nothing(pack):
    assert pack.analyze_stack(run_component(build()), {}) == []


def test_first_preview_with_unknown_ids_is_still_priced(pack):
    # Names and ids are unknown; the autoscaling target is joined through property dependencies.
    diagnostics = pack.analyze_stack(run_component(build(), unknowns=True), _budget(3000))
    assert len(diagnostics) == 1 and f"ceiling {FIXTURE_CEILING}/month exceeds" in diagnostics[0].message


def test_unpriced_ceiling_cannot_pass_a_mandatory_budget(pack):
    recording = run_component(build(FixtureOptions(gpu_types=("g6.2xlarge",))))
    diagnostics = pack.analyze_stack(recording, _budget(100_000))
    assert len(diagnostics) == 1
    assert "cannot be verified" in diagnostics[0].message and "EC2 g6.2xlarge" in diagnostics[0].message


@pytest.mark.parametrize("stack", STACKS)
def test_pack_and_offline_preview_agree_on_each_stack(pack, stack):
    preview = stack_preview(stack)
    config = json.loads((CONFIG_DIR / f"{stack}.json").read_text())
    diagnostics = pack.analyze_stack(preview.recording, {"monthly-budget": config["monthly-budget"]})
    assert (diagnostics == []) == preview.cost["budget"]["withinBudget"]
    expected_level = analyzer_pb2.ADVISORY if config["monthly-budget"]["enforcementLevel"] == "advisory" else analyzer_pb2.MANDATORY
    assert all(d.enforcementLevel == expected_level for d in diagnostics)


def test_budget_levels_per_environment():
    levels = {stack: json.loads((CONFIG_DIR / f"{stack}.json").read_text())["monthly-budget"]["enforcementLevel"] for stack in STACKS}
    assert levels["dev"] == "advisory" and levels["prod"] == "mandatory"
