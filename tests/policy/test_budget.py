"""The ``monthly-budget`` stack policy, inside the real pack, driven over its gRPC Analyzer interface.

``mlopsctl.offline.policycheck.process.PolicyPackProcess`` starts ``python policies/__main__.py`` as its own
process and talks to it as the engine does: ``Configure`` with the reconciled
``--policy-pack-config``, per-resource ``Remediate``/``Analyze``, then ``AnalyzeStack`` with every
resource's wire-format properties, provider, parent and dependencies.
"""

from __future__ import annotations

import json

import pytest

from mlopsctl.offline.policycheck.config import config_path
from mlopsctl.offline.policycheck.process import PolicyPackProcess
from mlopsctl.offline.policycheck.report import PolicyReport
from tests.support.priced_fixture_program import FixtureOptions, build
from tests.support.programs import run_component
from tests.support.stacks import STACKS, stack_preview


def stack_cost(recording) -> dict:
    from mlopsctl.offline.cost_report import price_recording
    from policies.pricing import cost_json

    return cost_json(price_recording(recording, default_region="us-east-1"))

POLICY = "monthly-budget"
FIXTURE_CEILING = "$3,178.60"  # hand-computed in tests/stack/test_cost.py (the cost-model tests)


@pytest.fixture(scope="module")
def pack():
    running = PolicyPackProcess().start()
    yield running
    running.close()


def _budget_only(pack: PolicyPackProcess, recording, budget: dict | None) -> list:
    """Analyze with every other policy disabled, so only the budget verdict is under test."""
    config = {name: {"enforcementLevel": "disabled"} for name in pack.policy_names() if name != POLICY}
    if budget is not None:
        config[POLICY] = budget
    pack.configure(config)
    report: PolicyReport = pack.analyze(recording)
    return report.violations


def test_the_pack_ships_the_budget_policy_with_its_config_schema(pack):
    info = next(p for p in pack.info.policies if p.name == POLICY)
    assert "monthlyBudgetUsd" in info.configSchema.properties


def test_over_budget_is_a_mandatory_stack_violation(pack):
    recording = run_component(build())
    violations = _budget_only(pack, recording, {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 1000})
    assert len(violations) == 1
    violation = violations[0]
    assert (violation.policy, violation.level, violation.urn) == (POLICY, "mandatory", None)  # a stack-level verdict
    assert f"ceiling {FIXTURE_CEILING}/month exceeds the budget of $1,000.00/month" in violation.message
    assert "EKS nodes g5.xlarge/g5.2xlarge (SPOT) $1,769.52" in violation.message  # the largest driver is named
    stack = recording.stack
    assert violation.message.endswith(f"raise monthlyBudgetUsd in policies/config/{stack}.json.")  # the real stack, not <stack>


def test_within_budget_passes(pack):
    assert _budget_only(pack, run_component(build()), {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 3200}) == []


def test_advisory_level_from_the_policy_config(pack):
    violations = _budget_only(pack, run_component(build()), {"enforcementLevel": "advisory", "monthlyBudgetUsd": 1000})
    assert [(v.policy, v.level) for v in violations] == [(POLICY, "advisory")]


def test_no_budget_configured_reports_nothing(pack):
    assert _budget_only(pack, run_component(build()), None) == []


def test_first_preview_with_unknown_ids_is_still_priced(pack):
    # Names and ids are unknown; the autoscaling target is joined through property dependencies.
    violations = _budget_only(pack, run_component(build(), unknowns=True), {"monthlyBudgetUsd": 3000})
    assert len(violations) == 1 and f"ceiling {FIXTURE_CEILING}/month exceeds" in violations[0].message
    assert violations[0].level == "mandatory"  # the policy's own default level


def test_unpriced_ceiling_cannot_pass_a_mandatory_budget(pack):
    recording = run_component(build(FixtureOptions(gpu_types=("g6.2xlarge",))))
    violations = _budget_only(pack, recording, {"monthlyBudgetUsd": 100_000})
    assert len(violations) == 1
    assert "cannot be verified" in violations[0].message and "EC2 g6.2xlarge" in violations[0].message


def test_an_accepted_unpriced_type_passes_with_the_priced_part_and_is_named_not_verified(pack):
    recording = run_component(build(FixtureOptions(gpu_types=("g6.2xlarge",))))
    [unpriced_type] = {u["type"] for u in stack_cost(recording)["unknownItems"]}
    assert _budget_only(pack, recording, {"monthlyBudgetUsd": 100_000, "unpricedAccepted": [unpriced_type]}) == []
    # Another type accepted does not cover it; nor does acceptance lift a priced part over budget.
    [other] = _budget_only(pack, recording, {"monthlyBudgetUsd": 100_000, "unpricedAccepted": ["aws:sagemaker/pipeline:Pipeline"]})
    assert "cannot be verified" in other.message
    [over] = _budget_only(pack, recording, {"monthlyBudgetUsd": 100, "unpricedAccepted": [unpriced_type]})
    assert "priced part alone" in over.message and "exceeds the budget of $100.00/month" in over.message


def test_the_offline_verdict_names_what_it_accepted_unpriced():
    both = {"aws:sagemaker/pipeline:Pipeline", "aws:sagemaker/mlflowApp:MlflowApp"}
    for stack, accepted in (("dev", both), ("staging", both), ("prod", {"aws:sagemaker/pipeline:Pipeline"})):
        budget = stack_preview(stack).cost["budget"]
        config = json.loads(config_path(stack).read_text())[POLICY]
        assert set(config["unpricedAccepted"]) == accepted
        assert budget["withinBudget"] is True and budget["ceiling"] is None
        assert budget["unpricedAccepted"] and "NOT verified" in budget["message"]
        unknown_types = {u["type"] for u in stack_preview(stack).cost["unknownItems"] if "ceiling" in u["scenarios"]}
        assert unknown_types <= accepted, "accept only what is actually unpriced"


@pytest.mark.parametrize("stack", STACKS)
def test_pack_and_offline_preview_agree_on_each_stack(pack, stack):
    preview = stack_preview(stack)
    pack.configure(config_path(stack))
    violations = pack.analyze(preview.recording).by_policy(POLICY)
    assert (violations == []) == preview.cost["budget"]["withinBudget"]
    level = json.loads(config_path(stack).read_text())[POLICY]["enforcementLevel"]
    assert all(v.level == level for v in violations)


def test_budget_levels_per_environment():
    levels = {stack: json.loads(config_path(stack).read_text())[POLICY]["enforcementLevel"] for stack in STACKS}
    assert levels == {"dev": "advisory", "staging": "mandatory", "prod": "mandatory"}
