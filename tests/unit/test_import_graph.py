"""No import circles between the project's modules (top-level and function-level imports alike)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.stacks import ROOT

PACKAGES = ("components", "mlopsctl", "policies")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                # The pack runs with policies/ on sys.path: its modules import each other by top-level name.
                if name.startswith("policies.") and target.split(".")[0] not in PACKAGES and f"policies.{target}" in modules:
                    target = f"policies.{target}"
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_no_import_circles():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    assert "mlopsctl.review.diff.run" in graph["mlopsctl.cli"] and "mlopsctl.offline.preview" in graph["mlopsctl.review.diff.run"]
    assert "policies.awsfacts.clock" in graph["policies.awsfacts.eks_versions"]  # from . import clock
    assert "components.eks.pins" in graph["components.config.eks"]  # imported inside a validator
    assert "policies.packlib" in graph["policies.security.s3"]  # the pack's top-level names
    assert "policies.awsfacts.resource_types" in graph["policies.packlib"]
    # The head side of a diff calls the preview directly; only the base side runs the CLI, as a subprocess.
    assert not [m for m in graph if m.startswith("mlopsctl.review.diff") and "mlopsctl.cli" in graph[m]]


def test_mlopsctl_layers_import_downwards_only():
    """offline (the mock runtime) imports no other mlopsctl concern; review builds on offline; ops on neither review nor cli."""
    graph = import_graph()
    forbidden = {
        "mlopsctl.offline": ("mlopsctl.review", "mlopsctl.ops", "mlopsctl.cli"),
        "mlopsctl.review": ("mlopsctl.ops", "mlopsctl.cli"),
        "mlopsctl.ops": ("mlopsctl.review", "mlopsctl.cli"),
    }
    wrong = sorted((module, target) for module, targets in graph.items() for layer, banned in forbidden.items()
                   if module == layer or module.startswith(layer + ".") for target in targets
                   if any(target == b or target.startswith(b + ".") for b in banned))
    assert wrong == []
