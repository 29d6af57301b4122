"""Run a small program (one component, or a few resources) under the recording mock monitor."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mlopsctl.offline.harness import Recording, run_program


def run_component(
    build: Callable[[], Any],
    *,
    stack: str = "test",
    unknowns: bool = False,
    config: dict[str, Any] | None = None,
    availability_zone_count: int = 3,
) -> Recording:
    """Run ``build`` (which registers resources) as a whole program under the recording monitor."""
    runtime_config = {"aws:region": "us-east-1"}
    for key, value in (config or {}).items():
        runtime_config[key] = value if isinstance(value, str) else json.dumps(value)
    return run_program(
        build,
        stack=stack,
        project="mlops-platform",
        config=runtime_config,
        unknowns=unknowns,
        availability_zone_count=availability_zone_count,
    )
