"""The across-models figure: each method's drop from balance to the highest p per cell, with
a Welch interval checked against a hand computation, hollow where the method is at chance at
balance, one panel per data set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.analysis.grids import at_chance, drops
from core.views.charts import drop_chart

DATASETS = ("rotten_tomatoes_snippets", "tweet_snippets")
MODELS = ("smollm2-135m", "gemma3-270m")
# (method, accuracy at balance, accuracy at p = 0.95): LR normalized loses 0.22, CCS finds nothing.
PLANTED = {"ccs": (0.52, 0.51), "lr_norm": (0.85, 0.63), "random": (0.60, 0.60)}


def grid_table(seeds: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for model in MODELS:
        for dataset in DATASETS:
            for depth, layer in (("middle", 15), ("75%", 22)):
                for method, (before, after) in PLANTED.items():
                    for p, mean in ((0.5, before), (0.95, after)):
                        for seed in range(seeds):
                            rows.append(
                                {
                                    "model": model,
                                    "dataset": dataset,
                                    "depth": depth,
                                    "layer": layer,
                                    "normalization": "mean",
                                    "method": method,
                                    "p": p,
                                    "seed": seed,
                                    "accuracy": mean + rng.normal(0, 0.01),
                                }
                            )
    return pd.DataFrame(rows)


def test_each_drop_is_the_difference_of_means_with_its_welch_interval():
    table = grid_table()
    found = drops(table)
    assert len(found) == len(MODELS) * len(DATASETS) * 2 * len(PLANTED)
    row = found[(found.model == MODELS[1]) & (found.dataset == DATASETS[0]) & (found.method == "lr_norm")].iloc[0]
    cell = table[(table.model == MODELS[1]) & (table.dataset == DATASETS[0]) & (table.depth == row.depth)]
    a = cell[(cell.method == "lr_norm") & (cell.p == 0.5)].accuracy.to_numpy()
    b = cell[(cell.method == "lr_norm") & (cell.p == 0.95)].accuracy.to_numpy()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))  # Welch-Satterthwaite
    half = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    assert row.lost == pytest.approx(a.mean() - b.mean())
    assert (row.ci_low, row.ci_high) == pytest.approx((row.lost - half, row.lost + half))
    oracle = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)  # scipy's Welch interval
    assert (row.ci_low, row.ci_high) == pytest.approx((oracle.low, oracle.high))
    assert found[found.method == "lr_norm"].lost.between(0.19, 0.25).all()
    assert found[found.method == "ccs"].at_chance.all() and not found[found.method == "lr_norm"].at_chance.any()


def seeds(method: str, accuracies) -> pd.DataFrame:
    return pd.DataFrame({"method": method, "p": 0.5, "seed": range(len(accuracies)), "accuracy": accuracies})


def test_at_chance_reads_the_floors_mean_and_the_methods_interval():
    floor = seeds("random", [0.50, 0.55, 0.52, 0.58, 0.51])  # mean 0.532
    assert not at_chance(seeds("ccs", [0.80, 0.82, 0.81, 0.79, 0.83]), floor, 0.5)
    assert at_chance(seeds("ccs", [0.50, 0.56, 0.53, 0.60, 0.51]), floor, 0.5)  # its interval reaches 0.532
    assert at_chance(seeds("ccs", [0.49, 0.52, 0.50, 0.51, 0.50]), floor.iloc[0:0], 0.5)  # no floor: against 0.5
    assert not at_chance(seeds("ccs", [0.70, 0.72, 0.71, 0.69, 0.70]), floor.iloc[0:0], 0.5)


def test_at_chance_holds_what_the_test_splits_own_noise_reaches():
    """On a balanced split of n pairs a direction that knows nothing scores 0.5 + |N(0, 0.5 /
    sqrt(n))| once sign-resolved: 0.53 over 5 seeds that agree (an interval of no width, above
    the floor's mean) is within that on 400 pairs (under 0.549), and beyond it on 10,000 (above
    0.510). The rule before read only the floor: it called this above chance on 400 pairs."""
    floor = seeds("random", [0.500, 0.501, 0.502, 0.501, 0.500])
    rng = np.random.default_rng(0)
    draws = 0.5 + np.abs(rng.normal(0, 0.5 / np.sqrt(400), 100_000))
    assert np.quantile(draws, 0.95) == pytest.approx(0.549, abs=0.001)  # the bound, simulated
    for n_test, expected in ((400, True), (10_000, False)):
        method = seeds("ccs", [0.53, 0.531, 0.529, 0.53, 0.53]).assign(n_test=n_test)
        assert at_chance(method, floor.assign(n_test=n_test), 0.5) is expected


def test_seeds_that_all_agree_give_an_interval_of_no_width():
    from core.analysis.grids import welch_interval

    assert welch_interval(np.full(5, 0.6), np.full(5, 0.6)) == (0.0, 0.0)
    low, high = welch_interval(np.array([0.6, 0.6, 0.6]), np.array([0.5, 0.52, 0.54]))
    assert low < 0.08 < high


def test_the_figure_has_a_panel_per_data_set_and_marks_what_is_at_chance_hollow():
    spec = drop_chart(drops(grid_table()), "Across models").to_dict()
    assert spec["facet"]["column"]["field"] == "Data"
    data = next(iter(spec["datasets"].values()))
    assert {row["Data"] for row in data} == {"Rotten Tomatoes movie-review snippets", "Tweets"}  # no snake_case
    assert {row["Cell"] for row in data} == {
        f"{m} · layer {layer} ({d})"
        for m in ("SmolLM2-135M-Instruct", "Gemma 3 270M")
        for d, layer in (("middle", 15), ("75%", 22))
    }
    marks = [layer for layer in spec["spec"]["layer"] if layer.get("mark", {}).get("type") == "point"]
    assert sorted(m["mark"]["filled"] for m in marks) == [False, True]
    hollow = next(m for m in marks if not m["mark"]["filled"])
    assert hollow["transform"][0]["filter"] == "datum.at_chance"


def test_every_picture_in_the_readme_and_docs_is_taken_from_the_app_by_the_screenshot_script():
    import re
    from pathlib import Path

    from tests.e2e.screenshots import DOC_PICTURES, GRID_PICTURE

    root = Path(__file__).resolve().parents[2]
    pages = [root / "README.md", *(root / "docs").rglob("*.md")]
    shown = {Path(m).name for page in pages for m in re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", page.read_text())}
    assert shown == set(DOC_PICTURES) | {GRID_PICTURE}
