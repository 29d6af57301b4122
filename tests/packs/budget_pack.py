"""A policy pack holding only the ``monthly-budget`` policy, started as its own process by the tests.

It loads ``policies/budget.py`` the way ``pulumi`` loads the real pack: with the ``policies/``
folder first on ``sys.path`` (so ``budget`` imports ``pricing`` from there). ``PolicyPack(...)``
prints its gRPC port and serves until killed.
"""

import sys
from pathlib import Path

POLICIES_DIR = Path(__file__).resolve().parents[2] / "policies"
sys.path.insert(0, str(POLICIES_DIR))

from budget import POLICIES  # noqa: E402
from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

PolicyPack(name="mlops-budget-under-test", policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
