"""Pytest fixtures, the pinned clock and the collector settings; helpers live in tests/support/."""

from __future__ import annotations

import gc
import os

import pytest

from policies.awsfacts.clock import TODAY_ENV
from tests.support.clock import TEST_TODAY

# Set before any policy pack process starts, so the packs inherit it like a real engine's plugins do.
os.environ[TODAY_ENV] = TEST_TODAY

import components.program  # noqa: E402, F401 - the SDK and the components: loaded once, then frozen below
from mlopsctl.offline.gctuning import THRESHOLD  # noqa: E402
from mlopsctl.offline.preview import PreviewResult  # noqa: E402
from tests.support.stacks import STACKS, stack_preview  # noqa: E402

# The SDK's modules and classes live as long as the worker: freeze them out of the cyclic
# collector's generations so that its collections (which stay on) stop rescanning them, and
# collect at the one-shot commands' higher first-generation threshold (memory stays bounded: the
# garbage each test makes is still collected, only less often).
gc.freeze()
gc.set_threshold(*THRESHOLD)


@pytest.fixture(params=STACKS)
def each_stack(request) -> PreviewResult:
    return stack_preview(request.param)


# ---------------------------------------------------------------------------------------------
# Policy pack: one pack process per environment config, shared by the whole session.


@pytest.fixture(scope="session")
def policy_pack():
    """``policy_pack(env)`` -> a running, configured PolicyPackProcess for policies/config/<env>.json."""
    from mlopsctl.offline.policycheck.config import config_path
    from mlopsctl.offline.policycheck.process import PolicyPackProcess

    packs: dict[str, PolicyPackProcess] = {}

    def get(environment: str = "prod") -> PolicyPackProcess:
        if environment not in packs:
            pack = PolicyPackProcess().start()
            pack.configure(config_path(environment))
            packs[environment] = pack
        return packs[environment]

    yield get
    for pack in packs.values():
        pack.close()
