"""Per-example views agree with the sweep's numbers; the measured mechanism matches its
predictions on synthetic data; the layer scan covers every layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.analysis.examples import example_table, prediction_trajectory, projection_scatter
from core.analysis.mechanism import (
    centering_table,
    direction_stability,
    logistic_threshold_shift,
    seed_agreement,
    truth_direction,
)
from core.analysis.theory import synthetic_pairs, truth_variance_ratio
from core.config import CCSConfig
from core.experiments.layers import run_layer_scan
from core.experiments.sweep import run_sweep
from core.extraction.runtime import Runtime
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationSet, ActivationStore

CONFIG = SweepConfig(
    layer=0, p_levels=(0.5, 0.7, 0.95), n_train=300, n_test=200, seeds=(0, 1), ccs=CCSConfig(epochs=300, restarts=3)
)


@pytest.fixture(scope="module")
def synthetic():
    data = synthetic_pairs(800, 20, p=0.5, truth_strength=2.0, distractor_strength=1.2, noise=0.5, seed=0)
    acts = ActivationSet(
        "synthetic",
        data.pos[None],
        data.neg[None],
        data.labels,
        tuple(f"review <b>{i}</b>" for i in range(800)),
        tuple(map(str, range(800))),
        (0,),
        {},
    )
    return acts, data, run_sweep(acts, CONFIG)


@pytest.mark.parametrize("method", ["ccs", "tpc", "lr_norm", "lr_raw", "random"])
def test_example_table_reproduces_the_reported_accuracy(synthetic, method):
    acts, _, result = synthetic
    for p in CONFIG.p_levels:
        table = example_table(acts, result, method, p, seed=1)
        reported = result.table[(result.table.method == method) & (result.table.p == p) & (result.table.seed == 1)]
        assert table.correct.mean() == pytest.approx(reported.accuracy.iloc[0])
        assert len(table) == 200 and set(table["index"]) == set(result.test_indices)
        assert table.text.iloc[0].startswith("review <b>")  # raw text; escaping is the UI's job
    if method == "ccs":
        assert table.p_pos.between(0, 1).all()
        np.testing.assert_allclose(table.consistency, (table.p_pos - 1 + table.p_neg).abs(), atol=1e-6)
        # One orientation: the confidence is the CCS average of the p(x+) and p(x-) shown beside it.
        np.testing.assert_allclose(table.confidence, 0.5 * (table.p_pos + 1 - table.p_neg), atol=1e-6)
    else:
        assert table.p_pos.isna().all()


def test_trajectory_follows_p_and_scatter_separates_classes(synthetic):
    acts, _data, result = synthetic
    example = int(result.test_indices[3])
    trajectory = prediction_trajectory(acts, result, "ccs", 0, example)
    assert trajectory.p.tolist() == list(CONFIG.p_levels)
    table = example_table(acts, result, "ccs", 0.7, 0)
    assert trajectory.set_index("p").confidence[0.7] == pytest.approx(table.set_index("index").confidence[example])
    scatter = projection_scatter(acts, result, "lr_raw", 0.5, 0)
    by_class = scatter.groupby("label").probe_projection.mean()
    assert by_class[1] > by_class[0]  # oriented so that + true is to the right


def test_truth_direction_recovers_the_planted_one(synthetic):
    _acts, data, _ = synthetic
    u = truth_direction(data.pos, data.neg, data.labels)
    assert abs(float(u @ data.truth_direction)) > 0.98


def test_centering_measurements_match_predictions(synthetic):
    acts, _, _ = synthetic
    table = centering_table(acts, CONFIG)
    assert len(table) == 6 and table.attrs["delta"] == pytest.approx(4.0, rel=0.1)  # d = x+ - x- carries 2a
    for column in ("mean_shift", "true_position", "false_position", "variance"):
        np.testing.assert_allclose(table[column], table[f"{column}_predicted"], atol=0.12, rtol=0.1)
    high = table[table.p == 0.95]
    assert (high.true_position < 0.25).all() and (high.false_position < -1.5).all()
    assert high.truth_variance_ratio_predicted.iloc[0] == pytest.approx(truth_variance_ratio(0.95))
    assert table.variance_ratio[table.p == 0.5].mean() == pytest.approx(1.0)


def test_unsupervised_directions_turn_away_past_the_crossover(synthetic):
    _, _, result = synthetic
    stability = direction_stability(result).groupby(["method", "p"]).stability.mean()
    assert stability[("ccs", 0.5)] == pytest.approx(1.0) and stability[("ccs", 0.95)] < 0.5
    assert stability[("tpc", 0.95)] < 0.5 and stability[("lr_raw", 0.95)] > 0.8


def test_layer_scan_runs_each_layer(tmp_path):
    store = ActivationStore(tmp_path)
    data = synthetic_pairs(300, 8, seed=1)
    layers = (0, 1, 2)
    writer = store.begin("k" * 64, 300, layers, 8)
    writer.write(
        np.arange(300),
        torch.stack([data.pos * s for s in (0.0, 1.0, 2.0)]),
        torch.stack([data.neg * s for s in (0.0, 1.0, 2.0)]),
    )
    writer.commit(data.labels, [f"t{i}" for i in range(300)], [str(i) for i in range(300)], {"layers": list(layers)})
    config = SweepConfig(layer=0, p_levels=(0.5, 0.9), n_train=100, n_test=100, seeds=(0,), methods=("lr_raw",))
    table = run_layer_scan("k" * 64, config, [1, 2], Runtime(activations=store, sweeps=None))
    assert sorted(table.layer.unique()) == [1, 2] and len(table) == 4
    assert (table.accuracy > 0.9).all()


def test_seed_agreement_is_high_where_the_direction_is_well_determined(synthetic):
    _, _, result = synthetic
    agreement = seed_agreement(result).set_index("method").agreement
    assert agreement["tpc"] > 0.95 and agreement["lr_raw"] > 0.8
    assert agreement["random"] < 0.9  # each seed draws its own random direction


def test_logistic_threshold_shift_reports_equal_auroc_and_a_lower_normalized_accuracy(synthetic):
    acts, _, result = synthetic
    shift = logistic_threshold_shift(result)
    table = result.table[result.table.p == 0.95]
    assert shift["p"] == 0.95 and shift["cells"] == 3 * 2
    assert shift["accuracy_norm"] == pytest.approx(table[table.method == "lr_norm"].accuracy.mean())
    assert shift["accuracy_raw"] > shift["accuracy_norm"] + 0.1
    assert shift["auroc_norm"] == pytest.approx(shift["auroc_raw"]) and shift["max_auroc_difference"] < 1e-12
    with_std = run_sweep(
        acts, SweepConfig(**{**CONFIG.__dict__, "normalization": "meanstd", "methods": ("lr_raw", "lr_norm")})
    )
    assert logistic_threshold_shift(with_std) is None
