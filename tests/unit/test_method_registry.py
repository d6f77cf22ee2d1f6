"""The method registry (core.probes): every method is defined once, and everything that
lists methods (config, charts, CLI, links, decks, forms, the sweep) reads it."""

from __future__ import annotations

import dataclasses

import pytest

from core.errors import UserError
from core.probes import DEMO_METHODS, DIFFERENCE, METHOD_IDS, METHOD_REGISTRY, PAIR, logistic_twins
from core.settings.links import sweep_from_params
from core.settings.sweep import SweepConfig
from core.settings.validate import check_sweep
from core.views.style import method_color, method_label


def test_the_registry_is_the_list_of_methods_everywhere():
    assert tuple(METHOD_REGISTRY) == METHOD_IDS
    assert SweepConfig().methods == DEMO_METHODS == ("ccs", "tpc", "lr_raw", "lr_norm", "random")  # the demo's
    entries = list(METHOD_REGISTRY.values())
    assert len({m.label for m in entries}) == len({m.color for m in entries}) == len(entries)
    scale = method_color().to_dict()["scale"]
    assert scale["domain"] == [method_label(m) for m in METHOD_IDS] and scale["range"] == [m.color for m in entries]
    assert all(m.form in (PAIR, DIFFERENCE) for m in entries)
    assert [m.id for m in entries if m.fit is None] == ["ccs"]  # the one trained by the batched engine


def test_the_logistic_twins_differ_only_in_their_inputs():
    raw, normalized = logistic_twins()
    assert METHOD_REGISTRY[raw].fit is METHOD_REGISTRY[normalized].fit
    assert not METHOD_REGISTRY[raw].normalized_inputs and METHOD_REGISTRY[normalized].normalized_inputs


def test_an_unknown_method_is_one_clear_error_wherever_it_comes_from():
    with pytest.raises(UserError, match="Methods must be"):
        check_sweep(dataclasses.replace(SweepConfig(), methods=("ccs", "svm")))
    with pytest.raises(UserError, match="methods"):
        sweep_from_params({"methods": "ccs,svm"})
