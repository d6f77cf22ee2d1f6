"""Sign convention, metrics against scikit-learn, intervals against hand-computed values,
and chart structure."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import vl_convert
from sklearn.metrics import accuracy_score, roc_auc_score

from core.errors import UserError
from core.metrics import evaluate, evaluate_many, few_seeds_note, mean_ci, summarize
from core.views.charts import imbalance_chart
from core.views.export import save_chart
from core.views.remedy_charts import decomposition_chart


def test_unsupervised_accuracy_is_sign_resolved_and_auroc_follows():
    labels = np.array([1, 1, 0, 0, 1])
    confidence = np.array([0.2, 0.85, 0.8, 0.9, 0.6])  # mostly backwards
    # Predictions 0,1,1,1,1: two of five right. Of the 6 (positive, negative) pairs
    # only 0.85 > 0.8 is ordered right: AUROC 1/6.
    flipped = evaluate(labels, confidence, resolve_sign=True)
    # Oriented (flipped) confidences 0.8, 0.15, 0.2, 0.1, 0.4: above their median 0.2 are
    # pairs 1 and 5, so the median threshold gets four of five right. Calibration: bins
    # of the predicted side's confidence hold {0.8, 0.8} both right, {0.85} wrong, {0.9}
    # right, {0.6} wrong: 0.4 * 0.2 + 0.2 * 0.85 + 0.2 * 0.1 + 0.2 * 0.6 = 0.39.
    assert flipped == {
        "accuracy": pytest.approx(0.6),
        "accuracy_raw": pytest.approx(0.4),
        "auroc": pytest.approx(5 / 6),
        "accuracy_calibrated": pytest.approx(0.8),
        "ece": pytest.approx(0.39),
        "sign_flipped": True,
    }
    supervised = evaluate(labels, confidence, resolve_sign=False)
    assert supervised["accuracy"] == pytest.approx(0.4) and supervised["auroc"] == pytest.approx(1 / 6)


def test_batched_metrics_equal_scikit_learn_probe_by_probe():
    rng = np.random.default_rng(0)
    labels = rng.permutation(np.repeat([0, 1], [37, 43]))
    # Quantized confidences make ties within and across the classes (the unshifted
    # probes); a shift per probe sends some below chance so that the sign flip is exercised.
    shift = rng.normal(0, 0.4, (40, 1)) * (rng.random((40, 1)) < 0.7)
    confidences = np.round(rng.random((40, 80)) * 10) / 10 + (labels - 0.5) * shift
    confidences = confidences.astype(np.float32)
    resolve_sign = rng.random(40) < 0.5
    for row, got in enumerate(evaluate_many(labels, confidences, resolve_sign)):
        raw = accuracy_score(labels, confidences[row] > 0.5)
        auc = roc_auc_score(labels, confidences[row])
        flip = bool(resolve_sign[row] and raw < 0.5)
        oriented = 1 - confidences[row] if flip else confidences[row]
        calibrated = accuracy_score(labels, oriented > np.median(oriented))
        assert 0 <= got.pop("ece") <= 1
        assert got == {
            "accuracy": pytest.approx(1 - raw if flip else raw),
            "accuracy_raw": pytest.approx(raw),
            "auroc": pytest.approx(1 - auc if flip else auc, abs=1e-12),
            "accuracy_calibrated": pytest.approx(calibrated),
            "sign_flipped": flip,
        }
    assert any(row["sign_flipped"] for row in evaluate_many(labels, confidences, resolve_sign))


def test_t_interval_matches_hand_computation():
    mean, low, high = mean_ci(np.array([0.6, 0.7, 0.8]))
    half = 4.302652729911275 * 0.1 / np.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert (mean, low, high) == pytest.approx((0.7, 0.7 - half, 0.7 + half))


def test_intervals_stay_within_zero_and_one_and_few_seeds_are_flagged():
    mean, low, high = mean_ci(np.array([0.5, 0.99]))  # two seeds: t(0.975, 1) = 12.7
    assert mean == pytest.approx(0.745) and (low, high) == (0.0, 1.0)
    assert "too wide" in few_seeds_note(2) and "no interval" in few_seeds_note(1) and few_seeds_note(3) == ""
    single = mean_ci(np.array([0.7]))
    assert single[0] == 0.7 and np.isnan(single[1]) and np.isnan(single[2])


def test_summarize_groups_by_method_and_p():
    table = pd.DataFrame(
        {
            "method": ["ccs"] * 4 + ["tpc"] * 2,
            "p": [0.5, 0.5, 0.9, 0.9, 0.5, 0.5],
            "seed": [0, 1, 0, 1, 0, 1],
            "accuracy": [0.8, 0.9, 0.6, 0.7, 0.5, 0.7],
        }
    )
    summary = summarize(table)
    row = summary[(summary.method == "ccs") & (summary.p == 0.9)].iloc[0]
    assert row["mean"] == pytest.approx(0.65) and row["n_seeds"] == 2 and row["metric"] == "accuracy"
    assert row["ci_low"] < 0.65 < row["ci_high"]
    assert len(summary) == 3


def test_summarize_refuses_a_table_that_repeats_a_cell():
    table = pd.DataFrame({"method": "ccs", "p": 0.5, "seed": [0, 1, 0, 1], "accuracy": [0.8, 0.9, 0.8, 0.9]})
    with pytest.raises(UserError, match=r"2 row\(s\) repeat a cell .*method ccs, p 0.5, seed 0"):
        summarize(table)  # the same run listed twice: four "seeds" where there are two
    assert summarize(table.assign(run=["a", "a", "b", "b"]), by=("run", "method", "p"))["n_seeds"].tolist() == [2, 2]


def test_summarize_says_which_metric_an_older_table_lacks():
    older = pd.DataFrame({"method": "ccs", "p": 0.5, "seed": [0, 1], "accuracy": [0.8, 0.9]})
    with pytest.raises(UserError, match="no 'accuracy_prior' column: an older version"):
        summarize(older, "accuracy_prior")


def summary_frame():
    return summarize(
        pd.DataFrame(
            {
                "method": ["ccs", "ccs", "lr_raw", "lr_raw"] * 2,
                "p": [0.5] * 4 + [0.9] * 4,
                "seed": [0, 1] * 4,
                "accuracy": [0.8, 0.85, 0.9, 0.92, 0.6, 0.7, 0.88, 0.9],
            }
        )
    )


def test_chart_has_band_line_chance_and_optional_theory():
    spec = imbalance_chart(summary_frame(), subtitle="n_train 400").to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]
    assert marks == ["area", "line", "point", "rule"]
    with_theory = imbalance_chart(summary_frame(), show_theory=True).to_dict()
    theory_marks = [layer["mark"]["type"] for layer in with_theory["layer"][4:]]
    assert theory_marks == ["line", "text"] and "4p(1\\u2212p)" in json.dumps(with_theory["datasets"])
    legends = [layer["encoding"]["color"].get("legend") for layer in spec["layer"][:3]]
    assert all(legend and legend["symbolOpacity"] == 1 for legend in legends), "one opaque legend for all layers"
    selectable = imbalance_chart(summary_frame(), selectable=True).to_dict()
    assert selectable["params"][0]["select"] == {"type": "point", "fields": ["method", "p"], "on": "click"}
    text = json.dumps(spec)
    assert "LR (raw differences)" in text and "n_train 400" in text


def test_png_html_export(tmp_path):
    chart = imbalance_chart(summary_frame())
    png = save_chart(chart, tmp_path / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = save_chart(chart, tmp_path / "chart.html").read_text()
    assert "vega" in html and "cdn.jsdelivr" not in html  # self-contained, works offline
    with pytest.raises(UserError, match="Unsupported chart format"):
        save_chart(chart, tmp_path / "chart.gif")


def test_calibrated_accuracy_undoes_a_moved_threshold_and_nothing_else():
    from core.metrics import evaluate

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 500)
    score = (2 * labels - 1) * 2.0 + rng.standard_normal(1000)
    moved = evaluate(labels, 1 / (1 + np.exp(-(score + 3.0))), False)  # every pair pushed toward +
    assert moved["accuracy"] < 0.7 and moved["accuracy_calibrated"] > 0.95 and moved["auroc"] > 0.95
    lost = evaluate(labels, 1 / (1 + np.exp(-rng.standard_normal(1000))), False)  # no direction at all
    assert abs(lost["accuracy_calibrated"] - 0.5) < 0.06


def test_expected_calibration_error_known_answers():
    from core.metrics import expected_calibration_error

    rng = np.random.default_rng(1)
    sure = rng.uniform(0.5, 1.0, 200_000)
    right = rng.random(200_000) < sure  # right exactly as often as it is sure: calibrated
    truth = np.where(right, 1, 0).astype(bool)
    assert expected_calibration_error(truth, sure) < 0.005
    truth = rng.random(10_000) < 0.7  # always certain of +, right 70% of the time
    assert expected_calibration_error(truth, np.ones(10_000)) == pytest.approx(0.3, abs=0.02)


def test_in_a_sweep_the_normalized_logistic_regression_loses_its_threshold_not_its_direction():
    from core.analysis.theory import synthetic_pairs
    from core.experiments.sweep import run_sweep
    from core.settings.sweep import SweepConfig

    data = synthetic_pairs(4000, 16, seed=3)
    config = SweepConfig(layer=0, p_levels=(0.5, 0.95), n_train=400, n_test=600, seeds=(0, 1, 2), methods=("lr_norm",))
    by = run_sweep(data.as_activation_set("planted"), config).table.groupby("p").mean(numeric_only=True)
    assert by.loc[0.95, "accuracy"] < by.loc[0.5, "accuracy"] - 0.1
    assert by.loc[0.95, "accuracy_calibrated"] > by.loc[0.5, "accuracy_calibrated"] - 0.03
    assert (by.ece >= 0).all() and by.loc[0.95, "ece"] > by.loc[0.5, "ece"]  # a moved threshold is miscalibration


def test_log_odds_keep_apart_what_a_saturated_confidence_ties():
    labels = np.repeat([0, 1], 50)
    logits = np.where(labels == 1, 60.0, 45.0) + np.arange(100) * 0.01  # every confidence rounds to 1.0
    confidences = 1 / (1 + np.exp(-logits))
    assert (confidences == 1.0).all()
    tied = evaluate(labels, confidences, False)
    apart = evaluate(labels, confidences, False, logits)
    assert tied["auroc"] == 0.5 and tied["accuracy_calibrated"] == 0.5
    assert apart["auroc"] == 1.0 and apart["accuracy_calibrated"] == 1.0 and apart["accuracy"] == 0.5


def test_a_pair_probes_log_odds_are_the_logit_of_its_confidence():
    import torch

    from core.normalizations import fit_stats
    from core.probes import DIFFERENCE, PAIR, LinearProbe

    generator = torch.Generator().manual_seed(0)
    pos, neg = torch.randn(50, 8, generator=generator), torch.randn(50, 8, generator=generator)
    for form in (PAIR, DIFFERENCE):
        probe = LinearProbe("x", form, torch.randn(8, generator=generator), 0.3, fit_stats(pos, neg, "none"))
        scores = probe.scores(pos, neg)
        assert np.allclose(scores.log_odds, np.log(scores.confidence / (1 - scores.confidence)), atol=1e-9)


def test_the_decomposition_chart_draws_no_axis_under_an_empty_panel():
    """Five methods wrap into rows of four: with shared x axes Vega-Lite draws a footer axis
    under every column, the empty slots of the last row included; each panel owns its axis."""
    rows = [
        {"method": method, "p": p, "drop": 0.1, "auroc_drop": 0.02, "threshold": 0.06, "direction": 0.04}
        for method in ("ccs", "tpc", "lr_raw", "lr", "random")
        for p in (0.6, 0.95)
    ]
    compiled = vl_convert.vegalite_to_vega(decomposition_chart(pd.DataFrame(rows)).to_json())
    assert "column_footer" not in [mark["name"] for mark in compiled["marks"]]
