"""The shape of core/, checked so that it stays: stage packages, no import cycle, a thin
top level, imports at the top of files, small modules. (The one-way layering itself is
import-linter's contract in pyproject.toml, which `make lint` checks.)"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

CORE = Path(__file__).resolve().parents[2] / "core"
MAX_LINES = 400


def python_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_no_import_cycle_among_the_modules_of_core():
    graph = grimp.build_graph("core")
    cycles = [
        (module, other)
        for module in graph.modules
        for other in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=other, imported=module)
    ]
    assert cycles == []


def test_core_is_stage_packages_over_a_thin_foundation():
    packages = [path.parent for path in CORE.glob("*/__init__.py")]
    modules = list(CORE.glob("*.py"))
    assert len(packages) >= 6, packages
    assert len(modules) <= 8, sorted(path.name for path in modules)
    for package in packages:  # every package says what it is for
        assert ast.get_docstring(ast.parse((package / "__init__.py").read_text())), package.name


@pytest.mark.parametrize("path", python_files(), ids=lambda path: str(path.relative_to(CORE)))
def test_imports_of_core_sit_at_the_top_and_modules_stay_small(path):
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_LINES
    late = [
        node.lineno
        for function in ast.walk(ast.parse(source))
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(function)
        if (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "core")
        or (isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "core" for alias in node.names))
    ]
    assert late == [], f"imports of core inside functions at lines {late}"
