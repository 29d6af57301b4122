"""Read ``stacks/Pulumi.<env>.yaml`` the way the Pulumi CLI does, without the CLI.

- Keys without a namespace belong to the project (``platform`` -> ``mlops-platform:platform``).
- Structured values are passed to the program JSON-encoded; scalars as strings.
- ``secure:`` values cannot be decrypted offline; they become a clearly marked placeholder and
  their keys are reported, so output never pretends to know a secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.config import PROJECT
from mlopsctl import ROOT

STACKS_DIR = ROOT / "stacks"
# Layer 2, the in-cluster project: its own Pulumi.yaml and stack files.
INCLUSTER_DIR = ROOT / "incluster"
INCLUSTER_STACKS_DIR = INCLUSTER_DIR / "stacks"
SECRET_PLACEHOLDER = "[secret: not decrypted offline]"


class StackFileError(Exception):
    """A stack that does not exist or cannot be read. ``str()`` is one line."""


@dataclass
class StackFile:
    stack: str
    path: Path
    config: dict[str, Any]  # namespaced key -> parsed value (secrets replaced by the placeholder)
    secret_paths: list[str] = field(default_factory=list)

    @property
    def display_path(self) -> str:
        return _display(self.path)

    def runtime_config(self) -> dict[str, str]:
        """Config as the CLI hands it to the language host: every value a string."""
        return {key: value if isinstance(value, str) else json.dumps(value) for key, value in self.config.items()}

    def secret_keys(self) -> list[str]:
        return sorted({path.split(".", 1)[0].split("[", 1)[0] for path in self.secret_paths})


def available_stacks(stacks_dir: Path = STACKS_DIR) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))


def map_secure(value: Any, path: str, on_secure: Callable[[str, Any], Any]) -> Any:
    """``value`` with each ``{secure: <ciphertext>}`` replaced by ``on_secure(key path, ciphertext)``.

    The one walker of ``secure:`` values (preview hides them, diff compares them); key paths are
    ``a.b[0].c`` from ``path``.
    """
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return on_secure(path, value["secure"])
        return {k: map_secure(v, f"{path}.{k}" if path else str(k), on_secure) for k, v in value.items()}
    if isinstance(value, list):
        return [map_secure(v, f"{path}[{i}]", on_secure) for i, v in enumerate(value)]
    return value


def _replace_secrets(value: Any, path: str, found: list[str]) -> Any:
    def hide(secret_path: str, _ciphertext: Any) -> str:
        found.append(secret_path)
        return SECRET_PLACEHOLDER

    return map_secure(value, path, hide)


def load_stack_file(stack: str, stacks_dir: Path = STACKS_DIR, *, project: str = PROJECT) -> StackFile:
    """``project`` owns the file's keys without a namespace (the root project or layer 2's)."""
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(available_stacks(stacks_dir)) or "none"
        raise StackFileError(f"{_display(path)}: no such stack {stack!r} in {_display(stacks_dir)}; available stacks: {known}")
    return parse_stack_text(stack, path, path.read_text(), project=project)


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def parse_stack_text(stack: str, path: Path, text: str, *, project: str = PROJECT) -> StackFile:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise StackFileError(f"{path.name}: not valid YAML{where}") from None
    if not isinstance(document, dict):
        raise StackFileError(f"{path.name}: must be a mapping with a 'config' key")
    raw_config = document.get("config") or {}
    if not isinstance(raw_config, dict):
        raise StackFileError(f"{path.name}: config: must be a mapping of keys to values")
    config: dict[str, Any] = {}
    secrets: list[str] = []
    for key, value in raw_config.items():
        namespaced = key if ":" in key else f"{project}:{key}"
        config[namespaced] = _replace_secrets(value, namespaced, secrets)
    return StackFile(stack=stack, path=path, config=config, secret_paths=secrets)
