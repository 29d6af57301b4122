"""The platform on future dates, without faketime: the clock is moved through MLOPS_TODAY.

Each date runs every stack's real program, cost model and policy pack (a fresh pack process, which
inherits the moved clock as it would from the Pulumi CLI). Together with tests/unit/test_clock.py (only
the clock module reads the date), this is what makes the suite pass on any machine date.
"""

from __future__ import annotations

import pytest

from mlopsctl.offline.preview import preview_stack
from policies.awsfacts import clock
from tests.support.stacks import STACKS

FUTURE_DATES = ("2026-12-15", "2027-04-01", "2027-09-01")
FORCED_UPGRADE_WARNING = "eks-standard-support-ending"


def _cluster_item(result) -> dict:
    (item,) = [i for i in result.cost["lineItems"] if i["type"] == "aws:eks/cluster:Cluster"]
    return item


@pytest.mark.parametrize("day", FUTURE_DATES)
@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_previews_clean_on_future_dates(monkeypatch, stack, day):
    monkeypatch.setenv(clock.TODAY_ENV, day)
    result = preview_stack(stack, policy=True)
    assert result.cost["pricedOn"] == day
    assert result.mandatory_violations() == []
    assert result.cost["budget"]["withinBudget"] is True, result.cost["budget"]["message"]

    cluster = _cluster_item(result)
    policy = result.config.eks.upgrade_policy
    warnings = [v for v in result.policy["violations"] if v["policy"] == FORCED_UPGRADE_WARNING]
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
