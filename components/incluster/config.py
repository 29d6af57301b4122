"""Layer 2's own stack config (incluster/stacks/Pulumi.<env>.yaml): which layer-1 stack it reads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.config import PROJECT as PLATFORM_PROJECT
from components.config import ConfigError, runtime_config_keys, unread_key_issues

PROJECT = "mlops-platform-incluster"
PLATFORM_STACK_KEY = f"{PROJECT}:platformStack"
# The keys of this project's namespace the program reads.
INCLUSTER_KEYS: tuple[str, ...] = (PLATFORM_STACK_KEY,)
_STACK_REFERENCE = re.compile(r"^(?P<org>[A-Za-z0-9_.-]+)/(?P<project>[A-Za-z0-9_.-]+)/(?P<stack>[A-Za-z0-9_.-]+)$")


@dataclass(frozen=True)
class InClusterConfig:
    platform_stack: str = field(
        metadata={
            "description": (
                "The layer-1 stack whose inCluster output this stack reads through a StackReference: "
                "<org>/mlops-platform/<this stack's own name>, so each environment's layer 2 reads its own layer 1."
            )
        }
    )


def parse_incluster_config(platform_stack: object, stack: str, source: str) -> InClusterConfig:
    if platform_stack is None:
        raise ConfigError(source, PLATFORM_STACK_KEY, f"required key is missing (e.g. organization/{PLATFORM_PROJECT}/{stack})")
    match = _STACK_REFERENCE.match(platform_stack) if isinstance(platform_stack, str) else None
    if match is None:
        raise ConfigError(source, PLATFORM_STACK_KEY, f"{platform_stack!r} is not <org>/<project>/<stack>")
    if match["project"] != PLATFORM_PROJECT or match["stack"] != stack:
        raise ConfigError(
            source, PLATFORM_STACK_KEY, f"{platform_stack!r} must name layer 1 of the same environment: <org>/{PLATFORM_PROJECT}/{stack}"
        )
    return InClusterConfig(platform_stack=platform_stack)


def check_incluster_stack(config: Mapping[str, Any], stack: str, source: str) -> None:
    """Refuse keys of ``mlops-platform-incluster:`` the program does not read (everything else of
    the environment is configured in layer 1's stack file). Raises ConfigError."""
    issues = unread_key_issues(config, PROJECT, INCLUSTER_KEYS, lambda _: f" (configure the environment in stacks/Pulumi.{stack}.yaml)")
    if issues:
        raise ConfigError.of(source, issues)


def stack_file_for(stack: str) -> str:
    return f"incluster/stacks/Pulumi.{stack}.yaml"


def load_from_pulumi_config() -> InClusterConfig:
    import pulumi

    stack = pulumi.get_stack()
    check_incluster_stack(dict.fromkeys(runtime_config_keys()), stack, stack_file_for(stack))
    return parse_incluster_config(pulumi.Config(PROJECT).get("platformStack"), stack, stack_file_for(stack))
