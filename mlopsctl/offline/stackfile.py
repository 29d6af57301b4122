"""Read ``stacks/Pulumi.<env>.yaml`` the way the Pulumi CLI does, without the CLI.

- The file must be UTF-8 YAML with each key once per mapping (the CLI refuses duplicates; a YAML
  parser would let the last one win); errors name the file as given, the line and the reason.
- Its top-level keys are the CLI's (``config``, ``secretsprovider``, ...); a misspelt ``config``
  is named as such instead of reading as a stack without config.
- Keys without a namespace belong to the project (``platform`` -> ``mlops-platform:platform``);
  the project's own namespace may hold only the keys its program reads, and the stack's name must
  be its environment (``components.config.check_platform_stack``, the in-cluster project's
  ``check_incluster_stack``: the same checks ``pulumi up`` runs).
- Structured values are passed to the program JSON-encoded; scalars as strings.
- ``secure:`` values cannot be decrypted offline; they become a clearly marked placeholder and
  their keys are reported, so output never pretends to know a secret.
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.config import PROJECT, check_platform_stack
from components.incluster.config import PROJECT as INCLUSTER_PROJECT
from components.incluster.config import check_incluster_stack
from mlopsctl import ROOT

STACKS_DIR = ROOT / "stacks"
# Layer 2, the in-cluster project: its own Pulumi.yaml and stack files.
INCLUSTER_DIR = ROOT / "incluster"
INCLUSTER_STACKS_DIR = INCLUSTER_DIR / "stacks"
SECRET_PLACEHOLDER = "[secret: not decrypted offline]"
# The top-level keys of a Pulumi stack file (the CLI's ProjectStack).
STACK_FILE_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")
# Each project's checks of its stack's config as a whole: (namespaced config, stack, file) -> None.
PROJECT_CHECKS: dict[str, Callable[[Mapping[str, Any], str, str], None]] = {
    PROJECT: check_platform_stack,
    INCLUSTER_PROJECT: check_incluster_stack,
}


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
        return {key: _runtime_value(value) for key, value in self.config.items()}

    def secret_keys(self) -> list[str]:
        return sorted({path.split(".", 1)[0].split("[", 1)[0] for path in self.secret_paths})


def _runtime_value(value: Any) -> str:
    """A config value as the CLI passes it; YAML reads an unquoted date as a date, the CLI passes its text."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    return json.dumps(value, default=str)


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
    if not stacks_dir.is_dir():
        what = "not a directory" if stacks_dir.exists() else "no such directory"
        raise StackFileError(f"{_as_seen(stacks_dir)}: {what}; looked there for the stack file {path.name}")
    if not path.is_file():
        known = ", ".join(available_stacks(stacks_dir)) or "none"
        raise StackFileError(f"{_as_seen(path)}: no such stack {stack!r} in {_as_seen(stacks_dir)}; available stacks: {known}")
    return parse_stack_text(stack, path, _utf8_text(path), project=project)


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _as_seen(path: Path) -> str:
    """``path`` as :func:`_display` shows it, or absolute where that, read from the working
    directory, names another place (the default stacks/ seen from outside the repository): what
    was searched, for the errors about where a stack file was looked for."""
    shown = _display(path)
    return shown if Path(shown).resolve() == path.resolve() else str(path.resolve())


def _utf8_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise StackFileError(
            f"{_display(path)}: line {line}, column {column}: not UTF-8 (byte 0x{data[exc.start]:02x}); stack files are UTF-8, as the Pulumi CLI reads them"
        ) from None


class StackFileLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key repeated in one mapping (the CLI refuses it; a plain
    loader keeps the last value silently). ``project`` namespaces the keys under ``config:`` in
    error messages, as the config errors name them."""

    def __init__(self, text: str, project: str):
        super().__init__(text)
        self.project = project

    def refuse_duplicates(self, node: yaml.Node, path: tuple[str, ...] = ()) -> None:
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.refuse_duplicates(item, (*path, f"[{index}]"))
        if not isinstance(node, yaml.MappingNode):
            return
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue  # a merged mapping may be overridden: that is what a merge key is for
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in first_line:
                raise _DuplicateKey(self._key_path((*path, key)), first_line[key], line)
            first_line[key] = line
            self.refuse_duplicates(value_node, (*path, key))

    def _key_path(self, path: tuple[str, ...]) -> str:
        """``a.b[0].c``; under ``config:``, the config key path (``mlops-platform:platform.eks``)."""
        if path[0] == "config" and len(path) > 1 and not path[1].startswith("["):
            path = (namespaced_key(path[1], self.project), *path[2:])
        return "".join(part if part.startswith("[") else f".{part}" for part in path).removeprefix(".")


# YAML 1.1 reads yes/no/on/off as booleans; the CLI's YAML 1.2 parser reads them as strings where
# no type is known, as in config, so only true and false are booleans here too.
_BOOL_TAG = "tag:yaml.org,2002:bool"
StackFileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG] for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StackFileLoader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


class _DuplicateKey(Exception):
    def __init__(self, key_path: str, first: int, again: int):
        super().__init__(f"{key_path}: duplicate key (line {again}; first at line {first}); each key may appear once (the Pulumi CLI refuses duplicates)")


def namespaced_key(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def load_stack_document(text: str, display: str, project: str = PROJECT) -> Any:
    """The stack file's document, or StackFileError: ``<file>: line L, column C: <reason>``."""
    try:
        loader = StackFileLoader(text, project)
    except yaml.reader.ReaderError as exc:  # the reader checks every character up front
        line = text.count("\n", 0, exc.position) + 1
        raise StackFileError(f"{display}: line {line}: not valid YAML: character #x{exc.character:04x}: {exc.reason}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        loader.refuse_duplicates(node)
        return loader.construct_document(node)
    except _DuplicateKey as exc:
        raise StackFileError(f"{display}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        context = f" ({exc.context} at line {exc.context_mark.line + 1})" if exc.context and exc.context_mark else ""
        raise StackFileError(f"{display}: {where}: not valid YAML: {exc.problem}{context}") from None
    finally:
        loader.dispose()


def parse_stack_text(stack: str, path: Path, text: str, *, project: str = PROJECT) -> StackFile:
    display = _display(path)
    document = load_stack_document(text, display, project)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise StackFileError(f"{display}: must be a mapping with a 'config' key")
    unknown = [key for key in document if key not in STACK_FILE_KEYS]
    if unknown:
        raise StackFileError(f"{display}: {unknown[0]}: {_unknown_top_level(str(unknown[0]), 'config' in document)}")
    raw_config = document.get("config") or {}
    if not isinstance(raw_config, dict):
        raise StackFileError(f"{display}: config: must be a mapping of keys to values")
    config: dict[str, Any] = {}
    spelt: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in raw_config.items():
        namespaced = namespaced_key(str(key), project)
        if namespaced in config:
            raise StackFileError(f"{display}: {namespaced}: set twice, as {spelt[namespaced]} and as {key} (a key without a namespace is the project's)")
        spelt[namespaced] = str(key)
        config[namespaced] = _replace_secrets(value, namespaced, secrets)
    if project in PROJECT_CHECKS:
        PROJECT_CHECKS[project](config, stack, display)
    return StackFile(stack=stack, path=path, config=config, secret_paths=secrets)


def _unknown_top_level(key: str, has_config: bool) -> str:
    allowed = f"a stack file's keys are {', '.join(STACK_FILE_KEYS)}"
    if not has_config and difflib.get_close_matches(key, ["config"], n=1, cutoff=0.6):
        return f"not a stack-file key: did you mean config? ({allowed}; without config the stack has no settings)"
    return f"not a stack-file key ({allowed})"
