"""A stack's config as a whole: the keys it may hold in its project's namespace, its name against
its environment, and the way ``pulumi up`` reads it (:func:`load_from_pulumi_config`).

Pulumi hands the program every key of the stack file and the SDK ignores those nobody reads, so
``mlops-platform:extra`` or a section moved to the top level (``mlops-platform:network``) would
be dropped without a word. These checks run on the stack file before the offline preview starts
(``mlopsctl/offline/stackfile.py``) and on the runtime's config when ``pulumi up`` runs the program
(``load_from_pulumi_config``), with the same messages.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from components.config.environments import Environment
from components.config.parsing import CONFIG_KEY, REGION_KEY, ConfigError, parse_platform_config, stack_file_for
from components.config.platform import PlatformConfig
from policies.awsfacts import PROJECT

# The keys of the project's namespace the program reads (namespaced: mlops-platform:<key>).
PLATFORM_KEYS: tuple[str, ...] = (CONFIG_KEY,)


def unread_key_issues(keys: Iterable[str], namespace: str, read: Iterable[str], hint: Callable[[str], str] | None = None) -> list[tuple[str, str]]:
    """(key, message) for each key of ``namespace`` that is not one of ``read``; ``hint(name)`` adds why."""
    read = sorted(read)
    issues = []
    for key in sorted(k for k in keys if k.startswith(f"{namespace}:") and k not in read):
        extra = hint(key.split(":", 1)[1]) if hint else ""
        issues.append((key, f"unknown key; {namespace} reads only {', '.join(read)}{extra}"))
    return issues


def _platform_hint(name: str) -> str:
    if name == "region":
        return f" (set the region with {REGION_KEY})"
    fields = {field.alias or field_name for field_name, field in PlatformConfig.model_fields.items()}
    if name in fields:
        return f" ({name} is a key of {CONFIG_KEY}: indent it under platform)"
    return ""


def check_platform_stack(config: Mapping[str, Any], stack: str, source: str) -> None:
    """Refuse keys of ``mlops-platform:`` the program does not read, and an ``environment`` other
    than the stack's name (``Pulumi.dev.yaml`` would otherwise build staging against staging's
    budget). ``config``: namespaced key -> value, the platform object parsed. Raises ConfigError."""
    issues = unread_key_issues(config, PROJECT, PLATFORM_KEYS, _platform_hint)
    raw = config.get(CONFIG_KEY)
    environment = raw.get("environment") if isinstance(raw, dict) else None
    if environment in typing.get_args(Environment) and environment != stack:
        issues.append((
            f"{CONFIG_KEY}.environment",
            f"{environment!r} in the stack file of stack {stack!r}; a stack deploys the environment it is named after: "
            f"set environment: {stack}, or configure {environment} in {stack_file_for(environment)}",
        ))
    if issues:
        raise ConfigError.of(source, issues)


def runtime_config_keys() -> set[str]:
    """Every config key the Pulumi runtime gave the program: set directly (mocks, automation) or
    in the ``PULUMI_CONFIG`` environment variable (the CLI's language host)."""
    from pulumi.runtime import config as runtime_config

    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


def load_from_pulumi_config() -> PlatformConfig:
    """Read the stack's config through the Pulumi runtime (real CLI or mocks) and validate it."""
    import pulumi

    stack = pulumi.get_stack()
    source = stack_file_for(stack)
    raw = pulumi.Config(PROJECT).get_object("platform")
    check_platform_stack({**dict.fromkeys(runtime_config_keys()), CONFIG_KEY: raw}, stack, source)
    region = pulumi.Config("aws").get("region")
    return parse_platform_config(raw, region, source)
