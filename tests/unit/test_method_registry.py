"""The method registry (core.probes): every method is defined once, and everything that
lists methods (config, charts, CLI, links, decks, forms, the sweep) reads it."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from core.errors import UserError
from core.probes import (
    DEMO_METHODS,
    DIFFERENCE,
    FLOOR_METHOD,
    HEADLINE_METHOD,
    METHOD_IDS,
    METHOD_REGISTRY,
    PAIR,
    logistic_twins,
    trains_with_ccs_optimizer,
)
from core.probes.ccs import train_ccs
from core.settings.links import sweep_from_params
from core.settings.sweep import SweepConfig
from core.settings.validate import check_sweep
from core.views.palette import METHOD_COLORS
from core.views.style import method_color, method_label


def test_the_registry_is_the_list_of_methods_everywhere():
    assert tuple(METHOD_REGISTRY) == METHOD_IDS
    assert SweepConfig().methods == DEMO_METHODS == ("ccs", "tpc", "lr_raw", "lr_norm", "random")  # the demo's
    entries = list(METHOD_REGISTRY.values())
    assert len({m.label for m in entries}) == len(set(METHOD_COLORS.values())) == len(entries)
    scale = method_color().to_dict()["scale"]
    assert scale["domain"] == [method_label(m) for m in METHOD_IDS]
    assert scale["range"] == [METHOD_COLORS[m] for m in METHOD_IDS]
    assert all(m.form in (PAIR, DIFFERENCE) for m in entries)
    assert [m.id for m in entries if m.fit is None] == ["ccs", "ccs_top"]  # the ones trained by the batched engine
    assert [m.id for m in entries if m.train_batched is train_ccs] == ["ccs"]
    assert all((m.fit is None) != (m.train_batched is None) for m in entries)  # trained one way each


def test_the_flags_name_the_headline_the_floor_and_who_reads_the_ccs_optimizer():
    assert (HEADLINE_METHOD, FLOOR_METHOD) == ("ccs", "random")
    assert [m.id for m in METHOD_REGISTRY.values() if m.uses_ccs_optimizer] == ["ccs", "ccs_top"]
    assert trains_with_ccs_optimizer(("tpc", "ccs")) and not trains_with_ccs_optimizer(("tpc", "lr_norm"))
    assert not trains_with_ccs_optimizer(("svm",))  # a stored run's unknown id reads nothing


def _code_strings(path: Path) -> list[ast.Constant]:
    """The string literals of a module's code: docstrings and comments left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    documented = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, documented) and node.body and isinstance(node.body[0], ast.Expr)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_code_outside_the_probes_spells_a_method_id():
    """Outside core.probes a method is asked for what it is (its registry entry and flags:
    HEADLINE_METHOD, FLOOR_METHOD, uses_ccs_optimizer, ...), never picked out by its id."""
    root = Path(__file__).resolve().parents[2]
    probes = root / "core" / "probes"
    files = [
        path
        for folder in ("core", "ui", "app_pages")
        for path in sorted((root / folder).rglob("*.py"))
        if not path.is_relative_to(probes)
    ]
    assert len(files) > 50
    spelled = [
        f"{path.relative_to(root)}:{node.lineno} {node.value!r}"
        for path in files
        for node in _code_strings(path)
        if node.value in METHOD_IDS
    ]
    assert not spelled, spelled


def test_the_logistic_twins_differ_only_in_their_inputs():
    raw, normalized = logistic_twins()
    assert METHOD_REGISTRY[raw].fit is METHOD_REGISTRY[normalized].fit
    assert not METHOD_REGISTRY[raw].normalized_inputs and METHOD_REGISTRY[normalized].normalized_inputs


def test_an_unknown_method_is_one_clear_error_wherever_it_comes_from():
    with pytest.raises(UserError, match="Methods must each be one of"):
        check_sweep(dataclasses.replace(SweepConfig(), methods=("ccs", "svm")))
    with pytest.raises(UserError, match="methods"):
        sweep_from_params({"methods": "ccs,svm"})
