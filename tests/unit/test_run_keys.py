"""A run's key names exactly what its cells read (core.experiments.sweep.read_config): every
field of the sweep config and of its CCS settings changes it, except those the chosen
methods and normalization never read, under every normalization; a field that is not
read leaves the cache alone (no retraining, no twin in the Runs library)."""

from __future__ import annotations

import dataclasses

import pytest

from core.analysis.theory import synthetic_pairs
from core.config import CCSConfig
from core.experiments.sweep import SWEEP_REVISION, run_sweep, sweep_key
from core.extraction.runtime import Runtime
from core.normalizations import NEGATED, NORMALIZATION_REGISTRY, NORMALIZATIONS
from core.settings.sweep import SweepConfig
from core.store.sweeps import SweepStore

ACTIVATIONS = "a" * 64
# Two values of every field: the run's key must tell them apart exactly when the run reads it.
SWEEP_VALUES = {
    "layer": (23, 15),
    "p_levels": ((0.5, 0.9), (0.5, 0.95)),
    "n_train": (400, 200),
    "n_test": (600, 300),
    "seeds": ((0, 1, 2), (0, 1)),
    "methods": None,  # the parameter of the test
    "normalization": None,  # the parameter of the test
    "test_normalization": ("own", "train"),
    "split_seed": (0, 1),
    "negated_prompt": (None, 'Consider "{text}" The sentiment is not'),
    "ccs": None,  # field by field below
}
CCS_VALUES = {"epochs": 500, "restarts": 3, "lr": 2e-3, "weight_decay": 0.1}
WITH_CCS, WITHOUT_CCS = ("ccs", "tpc", "lr_norm"), ("tpc", "lr_norm", "vinc")


def test_every_field_is_walked():
    assert set(SWEEP_VALUES) == {field.name for field in dataclasses.fields(SweepConfig)}
    assert set(CCS_VALUES) == {field.name for field in dataclasses.fields(CCSConfig)}


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("methods", [WITH_CCS, WITHOUT_CCS], ids=["with CCS", "without CCS"])
def test_a_key_changes_with_what_the_run_reads_and_only_with_that(normalization, methods):
    reads_negated = NORMALIZATION_REGISTRY[normalization].companion == NEGATED
    for name, values in SWEEP_VALUES.items():
        if values is None:
            continue
        first, second = (dataclasses.replace(SweepConfig(methods=methods, normalization=normalization), **{name: v})
                         for v in values)  # fmt: skip
        differs = sweep_key(ACTIVATIONS, first) != sweep_key(ACTIVATIONS, second)
        assert differs == (name != "negated_prompt" or reads_negated), name
    base = SweepConfig(methods=methods, normalization=normalization)
    for name, value in CCS_VALUES.items():
        changed = dataclasses.replace(base, ccs=dataclasses.replace(base.ccs, **{name: value}))
        assert (sweep_key(ACTIVATIONS, changed) != sweep_key(ACTIVATIONS, base)) == ("ccs" in methods), name
    other_methods = dataclasses.replace(base, methods=(*methods, "random"))
    other_normalization = dataclasses.replace(base, normalization="meanstd" if normalization != "meanstd" else "mean")
    assert len({sweep_key(ACTIVATIONS, c) for c in (base, other_methods, other_normalization)}) == 3


def test_the_keys_of_existing_caches_stay():
    # The demo's sweep on the demo's activations. The key changes only when SWEEP_REVISION
    # does (5: accuracy_prior in every row), never with how the config is written down.
    demo = "0b6f3dd0b7865f6db783bd5593f5c2275da56465062957d442c4f7c414f97c9d"
    assert SWEEP_REVISION == 5
    assert sweep_key(demo, SweepConfig()) == "715aab1c4b6d841e05a21a8bf877acb7a31b22e297c797006dddf698de6ff063"


def test_a_negated_prompt_under_mean_is_the_same_run_not_a_twin():
    acts = synthetic_pairs(200, 8, seed=0).as_activation_set()
    config = SweepConfig(layer=0, p_levels=(0.5, 0.8), n_train=40, n_test=40, seeds=(0,), methods=("tpc", "lr_norm"))
    store = SweepStore()
    first = run_sweep(acts, config, Runtime(sweeps=store))
    again = run_sweep(acts, dataclasses.replace(config, negated_prompt='Is "{text}" not'), Runtime(sweeps=store))
    assert again.cached and again.key == first.key and again.table.equals(first.table)
    assert again.config.negated_prompt is None  # the run as it reads, whatever was asked
