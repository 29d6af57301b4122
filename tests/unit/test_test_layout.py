"""The suite's own layout: test modules sit in their layer's directory, helpers in tests/support/,
and no test reaches into conftest.py (it holds fixtures, which pytest injects)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.stacks import ROOT

TESTS = ROOT / "tests"
LAYERS = {"unit", "component", "stack", "policy", "ops"}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def misplaced(tests: Path) -> list[str]:
    wrong = []
    for path in sorted(tests.rglob("*.py")):
        relative = path.relative_to(tests)
        if path.name.startswith("test_") and (len(relative.parts) != 2 or relative.parts[0] not in LAYERS):
            wrong.append(f"{relative}: a test module belongs in one of {sorted(LAYERS)}")
        if path.name != "__init__.py" and not path.name.startswith("test_") and relative.parts[0] not in {"support", "conftest.py"}:
            wrong.append(f"{relative}: helpers belong in tests/support/")
        if any(m == "tests.conftest" or m.startswith("tests.conftest.") for m in imported_modules(path)):
            wrong.append(f"{relative}: imports tests.conftest")
        if relative.parts[0] in LAYERS and any(m.startswith("tests.") and m.split(".")[1] in LAYERS for m in imported_modules(path)):
            wrong.append(f"{relative}: imports another test module (shared code goes to tests/support/)")
    return wrong


def test_every_test_module_sits_in_a_layer_and_imports_only_support():
    assert misplaced(TESTS) == []
    assert all((TESTS / d / "__init__.py").is_file() for d in LAYERS | {"support"})


def test_the_layout_check_sees_a_misplaced_module(tmp_path):
    (tmp_path / "unit").mkdir()
    (tmp_path / "test_loose.py").write_text("")
    (tmp_path / "helpers.py").write_text("")
    (tmp_path / "unit" / "test_a.py").write_text("from tests.conftest import ROOT\nfrom tests.stack.test_cli import cli\n")
    assert misplaced(tmp_path) == [
        "helpers.py: helpers belong in tests/support/",
        "test_loose.py: a test module belongs in one of ['component', 'ops', 'policy', 'stack', 'unit']",
        "unit/test_a.py: imports tests.conftest",
        "unit/test_a.py: imports another test module (shared code goes to tests/support/)",
    ]
