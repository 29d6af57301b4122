"""The ``monthly-budget`` policy inside the real pack counts training pipelines and MLflow tracking
servers: the shipped table has no sourced price for either, so a mandatory budget cannot pass and
the message names them (tests/stack/test_cost_training.py checks the arithmetic offline)."""

from __future__ import annotations

import pytest

from mlopsctl.offline.policycheck.process import PolicyPackProcess
from policies.pricing import BUDGET_POLICY as POLICY
from tests.support.programs import run_component
from tests.support.training_cost_programs import pipeline_program, tracking_server_program


@pytest.fixture(scope="module")
def pack():
    running = PolicyPackProcess().start()
    yield running
    running.close()


def _violations(pack: PolicyPackProcess, program, budget: float) -> list:
    config = {name: {"enforcementLevel": "disabled"} for name in pack.policy_names() if name != POLICY}
    config[POLICY] = {"enforcementLevel": "mandatory", "monthlyBudgetUsd": budget}
    pack.configure(config)
    return pack.analyze(run_component(program)).violations


def test_unpriced_training_and_tracking_cannot_pass_a_mandatory_budget(pack):
    def program():
        pipeline_program(runs="10")()
        tracking_server_program("Small")()

    violations = _violations(pack, program, 100_000)
    assert len(violations) == 1
    message = violations[0].message
    assert "cannot be verified" in message
    assert "pipeline step Train (Training, ml.g5.2xlarge x 2)" in message and "SageMaker MLflow tracking server (Small)" in message


def test_a_pipeline_that_plans_no_runs_does_not_block_the_budget(pack):
    assert _violations(pack, pipeline_program(runs="0"), 1) == []
