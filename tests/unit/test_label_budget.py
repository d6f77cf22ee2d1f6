"""The label budget (core.analysis.label_budget) on planted pairs whose truth a probe
separates perfectly, so the answer is closed-form: the threshold use places a perfect
threshold exactly when its k labels hold both classes, which for k drawn without
replacement from a draw of n pairs with m of the minority happens with probability
1 - [C(n - m, k) + C(m, k)] / C(n, k); the prior use places it from any k."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from core.analysis.label_budget import budget_shares, label_budget, smallest_budget
from core.config import CCSConfig
from core.experiments.sweep import run_sweep
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationSet
from core.views.report import below_zero_note, budget_table
from tests.unit.test_template_ensembles import planted_templates

REPORTED = {0.5: 1.0, 0.95: 0.6}  # the accuracies the run is made to report: a drop of 0.4


def separable_run():
    pos, neg, labels = planted_templates(n=1600, feature=0.0, truth=4.0, noise=0.05)
    texts = tuple(f"t{i}" for i in range(len(labels)))
    acts = ActivationSet("1" * 64, pos[:, :, 0].contiguous(), neg[:, :, 0].contiguous(), labels, texts, texts, (0,), {})
    config = SweepConfig(
        layer=0, methods=("lr_norm",), p_levels=(0.5, 0.95), seeds=(0, 1, 2), n_train=200, n_test=400,
        ccs=CCSConfig(epochs=10),
    )  # fmt: skip
    result = run_sweep(acts, config)
    assert (result.table.accuracy == 1.0).all()  # the probe separates truth perfectly
    result.table["accuracy"] = result.table.p.map(REPORTED)
    return acts, result


def both_classes(n: int, minority: int, k: int) -> float:
    return 1 - (math.comb(n - minority, k) + math.comb(minority, k)) / math.comb(n, k)


def test_a_perfect_probe_wins_back_the_drop_as_often_as_its_labels_hold_both_classes():
    acts, result = separable_run()
    shares = budget_shares(label_budget(acts, result, budgets=(0, 5, 10, 20, 50), repeats=400)).set_index(["use", "k"])
    for k in (5, 10, 20, 50):
        expected = both_classes(200, 10, k)  # p = 0.95 of 200: 10 false pairs
        assert shares.loc[("threshold", k), "placed"] == pytest.approx(expected, abs=0.04)
        assert shares.loc[("threshold", k), "share"] == pytest.approx(expected, abs=0.04)
        assert shares.loc[("prior", k), "share"] == pytest.approx(1.0, abs=0.01)  # any share places it
    assert shares.loc[("threshold", 0), "share"] == pytest.approx(0) and shares.loc[
        ("prior", 0), "share"
    ] == pytest.approx(0)
    assert shares.loc[("threshold", 50), "share_low"] <= shares.loc[("threshold", 50), "share"]
    smallest = smallest_budget(shares.reset_index()).set_index("use").k
    assert smallest["prior"] == 5 and smallest["threshold"] == 20  # 0.41 at k = 10, 0.65 at k = 20


def test_no_drop_gives_no_share():
    acts, result = separable_run()
    result.table["accuracy"] = 1.0
    shares = budget_shares(label_budget(acts, result, budgets=(0, 10), repeats=5))
    assert shares.share.isna().all()
    assert smallest_budget(shares).k.isna().all()


def test_the_table_and_the_note_read_a_share_below_zero_plainly():
    shares = pd.DataFrame(
        {
            "method": ["ccs", "ccs", "lr_norm", "lr_norm"],
            "use": ["prior"] * 4,
            "k": [0, 10, 0, 10],
            "share": [-0.001, -0.4, -1e-17, 0.9],
            "share_low": [-0.002, -0.6, -0.001, 0.8],
            "share_high": [0.001, -0.2, 0.001, 0.95],
        }
    )
    table = budget_table(shares, smallest_budget(shares.assign(p=0.95)))
    assert "-0%" not in table and "+0%" not in table
    assert "0% [0%,0%]" in table and "-40% [-60%,-20%]" in table
    note = below_zero_note(shares)
    assert note.startswith("Below 0% (CCS)") and "LR" not in note
    assert below_zero_note(shares[shares.method == "lr_norm"]) == ""
