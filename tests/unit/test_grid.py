"""Experiment grids (core.experiments.grid, core.experiments.grid_ray) on a tiny model: a bad grid file is one
message before anything runs; a grid extracts each model x data set once, sweeps every
layer and normalization, writes one CSV and one chart; a rerun does no extraction and no
sweep; and the Ray executor on a local Ray with 2 CPUs gives the same table, cell by cell."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from core.errors import UserError
from core.experiments.grid import parse_grid, run_inprocess

GOOD = """
title = "tiny"
models = ["{model}"]
layers = [1, 2]
normalizations = ["mean", "oracle_balanced"]
methods = ["ccs", "tpc", "lr_norm"]
run = {{ p = "0.5,0.75", seeds = 2, n = 40, n_train = 12, n_test = 12, epochs = 20, restarts = 1 }}
[[datasets]]
source = "csv"
name = "{csv}"
[[datasets]]
source = "csv"
name = "{csv}"
prompt = 'Review: "{{text}}" Sentiment:'
"""


def grid_text(tiny_llama, sentiment_csv) -> str:
    return GOOD.format(model=tiny_llama, csv=sentiment_csv)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: "colour = 1\n" + t, "unknown field"),
        (lambda t: t.replace("layers = [1, 2]", "layers = [1, 99]"), "do not exist"),
        (lambda t: t.replace('"tpc"', '"svm"'), "Methods must be"),
        (lambda t: t.replace('"oracle_balanced"', '"median"'), "normalization"),
        (lambda t: t.replace("seeds = 2", "layer = 3"), "run cannot set"),
        (lambda t: t.replace("n = 40", "n = 2"), "out of bounds"),
        (lambda t: t.replace("prompt = 'Review: \"{text}\" Sentiment:'", 'prompt = "no slot"'), "slot"),
        (lambda t: t.replace('source = "csv"\nname', 'source = "csv"\nnam'), "needs a name"),
        (lambda t: t + '\n[[datasets]]\nname = "no_such_set"', "Unknown bundled dataset"),
        (lambda t: "models = [", "not valid TOML"),
    ],
    ids=[
        "unknown-field",
        "layer-missing",
        "method-unknown",
        "normalization-unknown",
        "run-sets-an-axis",
        "too-few-examples",
        "prompt-without-slot",
        "dataset-without-name",
        "bundled-unknown",
        "not-toml",
    ],
)
def test_a_bad_grid_is_one_message_before_anything_runs(change, message, tiny_llama, sentiment_csv):
    with pytest.raises(UserError, match=message):
        parse_grid(change(grid_text(tiny_llama, sentiment_csv)), "g.toml")


def test_a_grid_runs_every_cell_once_and_resumes_from_the_cache(tiny_llama, sentiment_csv, tmp_path):
    grid = parse_grid(grid_text(tiny_llama, sentiment_csv))
    first = run_inprocess(grid, device="cpu")
    assert (first.extracted, first.extractions_cached, first.swept, first.sweeps_cached) == (2, 0, 8, 0)
    table = first.table
    assert len(table) == 2 * 2 * 2 * 3 * 2 * 2  # data sets x layers x normalizations x methods x p x seeds
    assert set(table.dataset) == {sentiment_csv.name} and table.groupby("activation_key").ngroups == 2
    again = run_inprocess(grid, device="cpu")
    assert (again.extracted, again.extractions_cached, again.swept, again.sweeps_cached) == (0, 2, 0, 8)
    pd.testing.assert_frame_equal(again.table, table)


def test_the_cli_writes_one_csv_and_one_chart(tiny_llama, sentiment_csv, tmp_path):
    from core.__main__ import main

    (tmp_path / "g.toml").write_text(grid_text(tiny_llama, sentiment_csv))
    assert main(["grid", str(tmp_path / "g.toml"), "--out", str(tmp_path / "out"), "--device", "cpu"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["grid.csv", "grid.png"]
    assert main(["grid", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "out")]) == 2


@pytest.mark.skipif(
    shutil.which("ray") is None and not __import__("importlib").util.find_spec("ray"),
    reason="Ray is not installed (pip install -r requirements-ray.txt)",
)
def test_the_ray_executor_gives_the_same_table_as_in_process(tiny_llama, sentiment_csv, tmp_path, monkeypatch):
    from core.experiments.grid_ray import run_on_ray

    grid = parse_grid(grid_text(tiny_llama, sentiment_csv))
    local = run_inprocess(grid, device="cpu").table
    monkeypatch.setenv("CCS_LAB_CACHE", str(tmp_path / "ray-cache"))  # nothing cached: Ray computes it all
    monkeypatch.setenv("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    remote = run_on_ray(grid, device="cpu")
    assert (remote.extracted, remote.swept) == (2, 8)
    columns = [
        "model",
        "dataset",
        "layer",
        "normalization",
        "method",
        "p",
        "seed",
        "accuracy",
        "auroc",
        "accuracy_calibrated",
    ]
    pd.testing.assert_frame_equal(remote.table[columns], local[columns])
