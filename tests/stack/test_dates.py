"""The platform on future dates, without faketime: the clock is moved through MLOPS_TODAY.

What depends on the date is the config's validation (Kubernetes support), the cost model
(extended-support pricing) and the policy pack (support warnings); the program's registrations do
not, and the first test proves it for every stack on the furthest date. Each date then validates
every stack's config, prices its recording and runs its layers through a pack process started on
that date (shared by the stacks, it inherits the moved clock as it would from the Pulumi CLI).
Together with tests/unit/test_clock.py (only the clock module reads the date), this is what makes
the suite pass on any machine date.
"""

from __future__ import annotations

import json

import pytest

from mlopsctl.offline.cost_report import cost_section
from mlopsctl.offline.policycheck.config import config_path
from mlopsctl.offline.policycheck.process import PolicyPackProcess
from mlopsctl.offline.preview import load_config, preview_stack
from policies.awsfacts import clock
from tests.support.clock import TEST_TODAY
from tests.support.stacks import STACKS, stack_preview

FUTURE_DATES = ("2026-12-15", "2027-04-01", "2027-09-01")
FORCED_UPGRADE_WARNING = "eks-standard-support-ending"

pytestmark = pytest.mark.xdist_group("future-dates")  # one pack process per date for the module


def _resources(result) -> str:
    return json.dumps(result.to_json()["resources"], sort_keys=True)


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_registers_the_same_resources_on_any_date(monkeypatch, stack):
    monkeypatch.setenv(clock.TODAY_ENV, FUTURE_DATES[-1])
    moved = preview_stack(stack)
    assert moved.cost["pricedOn"] == FUTURE_DATES[-1] != TEST_TODAY
    assert _resources(moved) == _resources(stack_preview(stack))


@pytest.fixture(scope="module")
def pack_on():
    """``pack_on(day)`` -> a pack process started with the clock moved to ``day``."""
    packs: dict[str, PolicyPackProcess] = {}

    def get(day: str) -> PolicyPackProcess:
        if day not in packs:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv(clock.TODAY_ENV, day)
                packs[day] = PolicyPackProcess().start()
        return packs[day]

    yield get
    for pack in packs.values():
        pack.close()


def _cluster_item(cost: dict) -> dict:
    (item,) = [i for i in cost["lineItems"] if i["type"] == "aws:eks/cluster:Cluster"]
    return item


@pytest.mark.parametrize("day", FUTURE_DATES)
@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_previews_clean_on_future_dates(monkeypatch, pack_on, stack, day):
    pinned = stack_preview(stack)  # the registrations, the same on every date (test above)
    monkeypatch.setenv(clock.TODAY_ENV, day)
    config = load_config(pinned.stack_file)  # validated on `day`: Kubernetes support
    assert config == pinned.config

    cost = cost_section(pinned.recording, config.environment, default_region=config.region)
    assert cost["pricedOn"] == day
    assert cost["budget"]["withinBudget"] is True, cost["budget"]["message"]

    pack = pack_on(day)
    pack.configure(config_path(config.environment))
    violations = []
    for layer in pinned.layers:  # as the engine runs the pack on each project's stack
        pack.configure_stack(stack, layer.project, layer.stack_file.runtime_config(), layer.stack_file.secret_keys())
        violations += pack.analyze(layer.recording).to_json()["violations"]
    assert [v for v in violations if v["level"] == "mandatory"] == []

    cluster = _cluster_item(cost)
    policy = config.eks.upgrade_policy
    warnings = [v for v in violations if v["policy"] == FORCED_UPGRADE_WARNING]
    past_standard = day >= "2027-03-27"  # 1.35 leaves standard support on 2027-03-27
    if policy == "EXTENDED" and past_standard:
        assert cluster["unitPrice"] == pytest.approx(0.60) and "EXTENDED support until 2028-03-27" in cluster["item"]
    else:
        assert cluster["unitPrice"] == pytest.approx(0.10)
    # STANDARD warns from 60 days before the forced upgrade (2027-01-26), naming the date.
    if policy == "STANDARD" and day >= "2027-01-26":
        assert [w["level"] for w in warnings] == ["advisory"]
        assert "2027-03-27" in warnings[0]["message"]
    else:
        assert warnings == []
