"""The sweep on synthetic activations with a known mechanism: tidy output, reproducibility,
the imbalance effect where theory says it appears, and stored probes that score again."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from core.analysis.theory import synthetic_pairs
from core.config import CCSConfig, config_hash
from core.data.sampling import split_test
from core.errors import UserError
from core.experiments.sweep import run_sweep
from core.extraction.runtime import Runtime
from core.metrics import evaluate
from core.normalizations import fit_stats
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationSet
from core.store.sweeps import SweepStore

COLUMNS = [
    "method",
    "normalization",
    "test_normalization",
    "layer",
    "p",
    "p_actual",
    "seed",
    "n_train",
    "n_train_true",
    "n_test",
    "accuracy",
    "accuracy_raw",
    "auroc",
    "accuracy_calibrated",
    "ece",
    "sign_flipped",
    "accuracy_prior",
    "loss",
    "config_hash",
    "activation_key",
]


@pytest.fixture(scope="module")
def distractor_set() -> ActivationSet:
    """Truth (strength 2) beats a consistent distractor (1.2) only while 4p(1-p) * 4 > 1.44, i.e. p < ~0.9."""
    data = synthetic_pairs(800, 20, p=0.5, truth_strength=2.0, distractor_strength=1.2, noise=0.5, seed=0)
    return ActivationSet(
        "synthetic-distractor",
        data.pos[None],
        data.neg[None],
        data.labels,
        tuple(f"text {i}" for i in range(800)),
        tuple(map(str, range(800))),
        (0,),
        {},
    )


CONFIG = SweepConfig(
    layer=0, p_levels=(0.5, 0.7, 0.95), n_train=300, n_test=200, seeds=(0, 1, 2), ccs=CCSConfig(epochs=400, restarts=4)
)


@pytest.fixture(scope="module")
def result(distractor_set):
    return run_sweep(distractor_set, CONFIG)


def mean(table: pd.DataFrame, method: str, p: float, metric: str = "accuracy") -> float:
    return table[(table.method == method) & (table.p == p)][metric].mean()


def test_table_is_tidy_with_stable_columns(result):
    table = result.table
    assert list(table.columns) == COLUMNS
    assert len(table) == 5 * 3 * 3
    assert table.groupby(["method", "p", "seed"]).size().max() == 1
    assert (table.n_train_true == (table.p * 300).round().astype(int)).all()
    assert set(table.loc[table.method.isin(["tpc", "random"]), "loss"].isna()) == {True}


def test_mechanism_on_known_synthetic_data(result):
    table = result.table
    for method in ("ccs", "tpc", "lr_raw", "lr_norm"):
        assert mean(table, method, 0.5) > 0.97, method
    # Past the crossover the unsupervised methods take the distractor: chance level.
    assert mean(table, "ccs", 0.95) < 0.65 and mean(table, "tpc", 0.95) < 0.7
    # The supervised ceiling is untouched; LR on normalized inputs keeps its direction
    # (AUROC) while its threshold moves (accuracy).
    assert mean(table, "lr_raw", 0.95) > 0.97
    assert mean(table, "lr_norm", 0.95, "auroc") > 0.97 and mean(table, "lr_norm", 0.95) < 0.85
    # The random floor does not depend on p (same direction per seed, same test split).
    assert table[table.method == "random"].groupby("seed").accuracy.nunique().max() == 1


def test_same_config_same_numbers(distractor_set, result):
    again = run_sweep(distractor_set, CONFIG)
    pd.testing.assert_frame_equal(again.table, result.table)


def test_cells_do_not_depend_on_which_other_cells_ran(distractor_set, result):
    alone = run_sweep(distractor_set, SweepConfig(**{**CONFIG.__dict__, "p_levels": (0.7,), "seeds": (1,)})).table
    merged = alone.merge(result.table, on=["method", "p", "seed"], suffixes=("", "_full"))
    assert len(merged) == 5
    np.testing.assert_allclose(merged.accuracy, merged.accuracy_full, atol=0.0051)


def test_stored_probes_reproduce_the_table(distractor_set, tmp_path):
    store = SweepStore(tmp_path)
    fresh = run_sweep(distractor_set, CONFIG, Runtime(sweeps=store))
    cached = run_sweep(distractor_set, CONFIG, Runtime(sweeps=store))
    assert cached.cached and not fresh.cached
    pd.testing.assert_frame_equal(cached.table, fresh.table, check_dtype=False)
    test_idx, _ = split_test(distractor_set.labels, CONFIG.n_test, CONFIG.split_seed)
    assert np.array_equal(cached.test_indices, test_idx)
    pos, neg = distractor_set.layer(0)
    own = fit_stats(pos[test_idx], neg[test_idx], "mean")
    for row in fresh.table[fresh.table.method.isin(["ccs", "tpc", "lr_norm"])].itertuples():
        probe = cached.probes[(row.method, row.p, row.seed)]
        scores = probe.scores(*own.apply(pos[test_idx], neg[test_idx]))
        again = evaluate(distractor_set.labels[test_idx], scores.confidence, resolve_sign=row.method != "lr_norm")
        assert again["accuracy"] == pytest.approx(row.accuracy)


def test_a_new_ccs_optimizer_reuses_the_cached_baselines(distractor_set, result, tmp_path):
    store = SweepStore(tmp_path)
    run_sweep(distractor_set, CONFIG, Runtime(sweeps=store))
    faster = dataclasses.replace(CONFIG, ccs=CCSConfig(epochs=200, lr=2e-3, restarts=4))
    mixed = run_sweep(distractor_set, faster, Runtime(sweeps=store))
    assert not mixed.cached and mixed.reused == ("tpc", "lr_raw", "lr_norm", "random")
    uncached = run_sweep(distractor_set, faster).table
    pd.testing.assert_frame_equal(mixed.table, uncached, check_dtype=False)
    baselines = result.table[result.table.method != "ccs"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        mixed.table[mixed.table.method != "ccs"].reset_index(drop=True).drop(columns="config_hash"),
        baselines.drop(columns="config_hash"),
        check_dtype=False,
    )
    assert set(mixed.table.config_hash) == {config_hash(faster)}
    assert run_sweep(distractor_set, faster, Runtime(sweeps=store)).cached


def test_training_statistics_on_the_test_split_change_normalized_methods_only(distractor_set, result):
    train_norm = run_sweep(
        distractor_set,
        SweepConfig(**{**CONFIG.__dict__, "test_normalization": "train", "methods": ("lr_raw", "lr_norm")}),
    ).table
    assert mean(train_norm, "lr_raw", 0.95) == mean(result.table, "lr_raw", 0.95)
    # Normalized with the training statistics, the balanced test split keeps the
    # threshold the imbalanced training set taught: LR recovers its accuracy.
    assert mean(train_norm, "lr_norm", 0.95) > mean(result.table, "lr_norm", 0.95) + 0.1
    # In fact it is LR on raw differences, cell for cell: the same weights, and the
    # training shift it learned is the one the test pairs get.
    by_cell = train_norm.set_index(["method", "p", "seed"])
    np.testing.assert_array_equal(by_cell.loc["lr_norm"].accuracy, by_cell.loc["lr_raw"].accuracy)


def test_lr_on_mean_normalized_inputs_keeps_the_raw_direction_and_moves_only_its_threshold(result):
    by_cell = result.table.set_index(["method", "p", "seed"])
    for p, seed in by_cell.loc["lr_raw"].index:
        raw, norm = result.probes[("lr_raw", p, seed)], result.probes[("lr_norm", p, seed)]
        assert raw.weight.equal(norm.weight) and raw.loss == norm.loss
    # Own test statistics shift every test score by one constant: the ranking, hence the
    # AUROC, is the raw one in every cell, while the accuracy falls with p.
    np.testing.assert_allclose(by_cell.loc["lr_norm"].auroc, by_cell.loc["lr_raw"].auroc, atol=1e-12)
    assert mean(result.table, "lr_norm", 0.95) < mean(result.table, "lr_raw", 0.95) - 0.1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"methods": ("ccs", "svm")}, "Methods must each be one of"),
        ({"layer": 3}, "Layer 3 was not extracted"),
        ({"normalization": "zscore"}, "Unknown normalization"),
        ({"p_levels": (0.5, 1.0)}, "strictly between 0 and 1"),
        ({"p_levels": (0.5, 0.999)}, "single class"),
        ({"n_test": 900}, "balanced test split of 900"),
    ],
)
def test_bad_configs_are_user_errors(distractor_set, change, message):
    with pytest.raises(UserError, match=message):
        run_sweep(distractor_set, SweepConfig(**{**CONFIG.__dict__, **change}))
