"""Layer 2's Pulumi program, shared by ``incluster/__main__.py`` (real CLI) and ``mlopsctl`` (mocks)."""

from __future__ import annotations

import pulumi

from components.entry import export_all, run
from components.incluster import contract
from components.incluster.config import PROJECT, InClusterConfig, load_from_pulumi_config
from components.incluster.setup import InClusterSetup, InClusterSetupArgs


def build(config: InClusterConfig) -> InClusterSetup:
    stack = pulumi.get_stack()
    platform = pulumi.StackReference(config.platform_stack)
    # get_output, not require_output: a missing output reaches parse(), which says what to do.
    facts = platform.get_output(contract.OUTPUT_NAME).apply(lambda value: contract.parse(value, reference=config.platform_stack, stack=stack))
    setup = InClusterSetup(PROJECT, InClusterSetupArgs(facts=facts))
    export_all(setup.outputs)
    return setup


def main() -> None:
    run(load_from_pulumi_config, build)
