"""What both layers' Pulumi programs do around their components: refuse bad config in one line, export outputs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pulumi

from components.config import ConfigError

T = TypeVar("T")


def export_all(outputs: Mapping[str, pulumi.Input[Any]]) -> None:
    for key, value in outputs.items():
        pulumi.export(key, value)


def run(load: Callable[[], T], build: Callable[[T], object]) -> None:
    """Validate the stack config, then build; bad config is the one-line message alone."""
    try:
        config = load()
    except ConfigError as exc:
        # RunError makes the CLI print the message alone, without a Python traceback.
        raise pulumi.RunError(str(exc)) from None
    build(config)
