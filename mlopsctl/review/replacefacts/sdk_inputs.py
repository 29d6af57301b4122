"""The input paths of a resource type, read from the installed Pulumi SDK's source without importing it.

A resource's inputs are the keyword arguments of its ``<Name>Args`` (or ``<Name>InitArgs``)
class; nested inputs are the ``...Args`` classes those annotations name, in the module's
``_inputs.py`` or, dotted (``'_meta.v1.ObjectMetaArgs'``), in another module's. Wire names come
from the ``@pulumi.getter(name=...)`` decorators. Paths are dotted wire names
(``vpcConfig.subnetIds``), as the replace table and the diff write them; list items carry no index.

Only ``ast`` reads the files: importing pulumi_aws's modules would take seconds and memory for
nothing.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# Type-token provider -> (Python package, distribution name as requirements.txt pins it).
PACKAGES = {"aws": ("pulumi_aws", "pulumi-aws"), "kubernetes": ("pulumi_kubernetes", "pulumi-kubernetes")}
_NESTED_ARGS = re.compile(r"'([\w.]+Args)'")
_MAX_DEPTH = 12  # deeper nesting only comes from recursive types (JSON schema props)


class SdkError(ValueError):
    """The installed SDK has no such resource type, or is not installed."""


def package_root(package: str) -> Path:
    """Where ``package`` is installed, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SdkError(f"{package}: not installed in this environment")
    return Path(next(iter(spec.submodule_search_locations)))


def installed_version(provider: str) -> str:
    """The installed version of the SDK that serves ``provider`` ("aws", "kubernetes")."""
    return importlib.metadata.version(PACKAGES[provider][1])


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_TOP_LEVEL = re.compile(r"^(?=\S)(?!#)", re.M)  # a line that starts a new top-level statement


@cache
def _source(path: Path) -> tuple[str, dict[str, int]]:
    """A module's text and where each top-level ``class`` line starts (an index, not a parse)."""
    if not path.is_file():
        return "", {}
    text = path.read_text(encoding="utf-8")
    return text, {m.group(1): m.start() for m in re.finditer(r"^class (\w+)\b", text, re.M)}


@cache
def _class(path: Path, name: str) -> ast.ClassDef | None:
    """Class ``name`` of the module at ``path``, parsing only its own lines (the SDK's modules are megabytes)."""
    text, starts = _source(path)
    if name not in starts:
        return None
    body_start = text.index("\n", starts[name]) + 1 if "\n" in text[starts[name]:] else len(text)
    following = _TOP_LEVEL.search(text, body_start)
    segment = text[starts[name]:following.start() if following else len(text)]
    try:
        node = ast.parse(segment).body[0]
    except SyntaxError:  # a column-0 line inside the class (a docstring): parse the whole module once
        node = next((n for n in ast.parse(text).body if isinstance(n, ast.ClassDef) and n.name == name), None)
    return node if isinstance(node, ast.ClassDef) else None


def _properties(cls: ast.ClassDef) -> list[tuple[str, str]]:
    """``(wire name, annotation source)`` of each keyword argument of the class's ``__init__``."""
    init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is None:
        return []
    wire: dict[str, str] = {}
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == "getter":
                for keyword in decorator.keywords:
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                        wire[node.name] = str(keyword.value.value)
    return [(wire.get(a.arg, a.arg), ast.unparse(a.annotation) if a.annotation else "") for a in init.args.kwonlyargs]


class InputTree:
    """Input paths per type token, read from the installed SDKs (or from ``roots``: provider -> package dir)."""

    def __init__(self, roots: dict[str, Path] | None = None) -> None:
        self._roots = dict(roots or {})
        self._trees: dict[str, frozenset[str]] = {}

    def root(self, provider: str) -> Path:
        if provider not in PACKAGES:
            raise SdkError(f"{provider}: no Pulumi SDK known for this provider; known: {', '.join(sorted(PACKAGES))}")
        if provider not in self._roots:
            self._roots[provider] = package_root(PACKAGES[provider][0])
        return self._roots[provider]

    def paths(self, token: str) -> frozenset[str]:
        """Every input path of the resource type ``token`` (``aws:ec2/vpc:Vpc``, ``pulumi:providers:aws``)."""
        if token not in self._trees:
            provider, module_dir, resource_file = self._resource_file(token)
            name = "Provider" if token.startswith("pulumi:providers:") else token.rsplit(":", 1)[1]
            top = _class(resource_file, f"{name}InitArgs") or _class(resource_file, f"{name}Args")
            if top is None:
                raise SdkError(f"{token}: no {name}Args class in {resource_file}")
            found: set[str] = set()
            self._walk(_Place(provider, module_dir, resource_file), top, "", found, (top.name,))
            self._trees[token] = frozenset(found)
        return self._trees[token]

    def _resource_file(self, token: str) -> tuple[str, Path, Path]:
        if token.startswith("pulumi:providers:"):  # a provider's inputs: ProviderArgs in <package>/provider.py
            provider = token.removeprefix("pulumi:providers:")
            root = self.root(provider)
            return provider, root, root / "provider.py"
        parts = token.split(":")
        if len(parts) != 3 or "/" not in parts[1]:
            raise SdkError(f"{token}: not a type token (provider:module/member:Name)")
        provider, module, name = parts
        root = self.root(provider)
        group, _, member = module.partition("/")
        if provider == "aws":
            module_dir, guess = root / group, _snake(member)
        else:  # kubernetes: helm.sh/v3 -> helm/v3, networking.k8s.io/v1 -> networking/v1
            module_dir, guess = root / group.split(".")[0] / member, name
        if not module_dir.is_dir():
            raise SdkError(f"{token}: {module_dir} does not exist in the installed SDK")
        marker = f"'{token}'"
        for path in [module_dir / f"{guess}.py", *sorted(module_dir.glob("*.py"))]:
            if path.is_file() and marker in path.read_text(encoding="utf-8"):
                return provider, module_dir, path
        raise SdkError(f"{token}: no resource of this type in {module_dir}")

    def _nested(self, place: _Place, reference: str) -> tuple[ast.ClassDef | None, _Place]:
        """The class an annotation names: same module (``'XArgs'``) or another (``'_meta.v1.XArgs'``)."""
        *modules, class_name = reference.split(".")
        if modules:
            parts = [m.lstrip("_") for m in modules]
            root = self.root(place.provider)
            home = root if parts == ["root_inputs"] else root.joinpath(*parts)
            return _class(home / "_inputs.py", class_name), _Place(place.provider, home, home / "_inputs.py")
        for path in (place.module_dir / "_inputs.py", place.resource_file):
            found = _class(path, class_name)
            if found is not None:
                return found, place
        return None, place

    def _walk(self, place: _Place, cls: ast.ClassDef, prefix: str, found: set[str], chain: tuple[str, ...]) -> None:
        for wire_name, annotation in _properties(cls):
            path = prefix + wire_name
            found.add(path)
            reference = _NESTED_ARGS.search(annotation)
            if reference is None or len(chain) > _MAX_DEPTH:
                continue
            nested, nested_place = self._nested(place, reference.group(1))
            if nested is not None and nested.name not in chain:
                self._walk(nested_place, nested, path + ".", found, (*chain, nested.name))


@dataclass(frozen=True)
class _Place:
    """Where a class was found: its provider, module directory and the resource's own file."""

    provider: str
    module_dir: Path
    resource_file: Path
