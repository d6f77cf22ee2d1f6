"""The across-models figure: each method's drop from balance to the highest p per cell, with
a Welch interval checked against a hand computation, hollow where the method is at chance at
balance, one panel per data set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.analysis.grids import drops
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
