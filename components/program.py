"""The Pulumi program, shared by ``__main__.py`` (real CLI) and ``mlopsctl`` (mock runtime)."""

from __future__ import annotations

import pulumi

from components.config import ConfigError, PlatformConfig, load_from_pulumi_config
from components.platform import MlopsPlatform, MlopsPlatformArgs


def build(config: PlatformConfig) -> MlopsPlatform:
    platform = MlopsPlatform(config.project, MlopsPlatformArgs(config=config))
    for key, value in platform.outputs.items():
        pulumi.export(key, value)
    return platform


def main() -> None:
    try:
        config = load_from_pulumi_config()
    except ConfigError as exc:
        # RunError makes the CLI print the message alone, without a Python traceback.
        raise pulumi.RunError(str(exc)) from None
    build(config)
