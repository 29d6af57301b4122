"""The Pulumi program, shared by ``__main__.py`` (real CLI) and ``mlopsctl`` (mock runtime)."""

from __future__ import annotations

from components.config import PlatformConfig, load_from_pulumi_config
from components.entry import export_all, run
from components.platform import MlopsPlatform, MlopsPlatformArgs


def build(config: PlatformConfig) -> MlopsPlatform:
    platform = MlopsPlatform(config.project, MlopsPlatformArgs(config=config))
    export_all(platform.outputs)
    return platform


def main() -> None:
    run(load_from_pulumi_config, build)
