"""Experiment grids (core.experiments.grid, grid_plan, grid_ray) on a tiny model: a bad grid
file is one message before anything runs; repeated entries are merged and same-named ones
told apart; the plan is printed before any work and a large grid asks first; bad output
paths and an unreachable Ray cluster fail at once; a grid extracts each model x data set
once, sweeps every layer and normalization, writes one CSV and one chart; a rerun does no
extraction and no sweep; and the Ray executor on a local Ray with 2 CPUs gives the same
table, cell by cell."""

from __future__ import annotations

import shutil
import socket
import time

import pandas as pd
import pytest

from core.__main__ import main
from core.analysis.grids import (
    above_chance_counts,
    grid_summary,
    remedy_methods_as_normalizations,
    remedy_verdicts,
    template_comparison,
)
from core.data.templates import REVIEW_FAMILY
from core.errors import UserError
from core.experiments.grid import load_grid, parse_grid
from core.experiments.grid_plan import CONFIRM_SWEEPS, plan_grid
from core.experiments.grid_ray import REPO, check_ray_address
from core.experiments.grid_run import run_inprocess
from core.experiments.sweep import run_sweep
from core.extraction.runtime import Runtime
from core.normalizations import NORMALIZATIONS
from core.store.activations import ActivationStore
from core.views.report import above_chance_lines, grid_summary_markdown

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
        (lambda t: t.replace('"tpc"', '"svm"'), "Methods must each be one of"),
        (lambda t: t.replace('"oracle_balanced"', '"median"'), "normalization"),
        (lambda t: t.replace("seeds = 2", "layer = 3"), "run cannot set"),
        (lambda t: t.replace("n = 40", "n = 2"), "out of bounds"),
        (lambda t: t.replace("prompt = 'Review: \"{text}\" Sentiment:'", 'prompt = "no slot"'), "slot"),
        (lambda t: t.replace('source = "csv"\nname', 'source = "csv"\nnam'), "needs a name"),
        (lambda t: t + '\n[[datasets]]\nname = "no_such_set"', "Unknown bundled dataset"),
        (lambda t: "models = [", "not valid TOML"),
        (lambda t: 'label_budget = "yes"\n' + t, "label_budget takes true or false"),
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
        "label-budget-not-a-bool",
    ],
)
def test_a_bad_grid_is_one_message_before_anything_runs(change, message, tiny_llama, sentiment_csv):
    with pytest.raises(UserError, match=message):
        parse_grid(change(grid_text(tiny_llama, sentiment_csv)), "g.toml")


def test_a_grid_runs_every_cell_once_and_resumes_from_the_cache(tiny_llama, sentiment_csv, tmp_path):
    grid = parse_grid(grid_text(tiny_llama, sentiment_csv))
    first = run_inprocess(grid, Runtime(device="cpu"))
    assert (first.extracted, first.extractions_cached, first.swept, first.sweeps_cached) == (2, 0, 8, 0)
    table = first.table
    assert len(table) == 2 * 2 * 2 * 3 * 2 * 2  # data sets x layers x normalizations x methods x p x seeds
    # Two entries of one file (one with its own prompt) stay apart in the results under two labels.
    assert set(table.dataset) == {sentiment_csv.name, f"{sentiment_csv.name} (2)"}
    assert table.groupby("activation_key").ngroups == 2
    assert grid.notes == (f"data set {sentiment_csv.name!r} names more than one entry; entry 2 is shown as "
                          f"'{sentiment_csv.name} (2)'",)  # fmt: skip
    again = run_inprocess(grid, Runtime(device="cpu"))
    assert (again.extracted, again.extractions_cached, again.swept, again.sweeps_cached) == (0, 2, 0, 8)
    pd.testing.assert_frame_equal(again.table, table)


def test_the_cli_writes_one_csv_and_one_chart(tiny_llama, sentiment_csv, tmp_path):
    (tmp_path / "g.toml").write_text(grid_text(tiny_llama, sentiment_csv))
    assert main(["grid", str(tmp_path / "g.toml"), "--out", str(tmp_path / "out"), "--device", "cpu"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["audit.csv", "grid.csv", "grid.png", "summary.md"]
    audit = pd.read_csv(tmp_path / "out" / "audit.csv")
    # A row per Burns-centered sweep (2 data sets x 2 layers) and method; no label budget unless asked.
    assert len(audit) == 2 * 2 * 3 and set(audit.method) == {"ccs", "tpc", "lr_norm"}
    assert not any(column.startswith("half_") for column in audit.columns)
    assert "## Undoing the imbalance" in (tmp_path / "out" / "summary.md").read_text()
    assert main(["grid", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "out")]) == 2


def test_a_grid_with_a_label_budget_gives_each_cell_the_runs_own_budget(tiny_llama, sentiment_csv, tmp_path):
    """The budget in the grid's summary is the label-budget command's, cell by cell."""
    from core.analysis.grid_audit import grid_audit
    from core.analysis.label_budget import budget_shares, label_budget, smallest_budget
    from core.extraction.companions import sweep_activations

    text = "label_budget = true\n" + grid_text(tiny_llama, sentiment_csv).replace(', "oracle_balanced"', "")
    (tmp_path / "g.toml").write_text(text)
    assert main(["grid", str(tmp_path / "g.toml"), "--out", str(tmp_path / "out"), "--device", "cpu"]) == 0
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "prior: labels for half" in summary and "threshold: won back with 200" in summary
    grid, runtime = parse_grid(text), Runtime(device="cpu")
    outcome = run_inprocess(grid, runtime)
    audit = grid_audit(outcome.cells, runtime, budget=True)
    cell = outcome.cells[0]
    acts = sweep_activations(runtime.activations, cell.activation_key, cell.sweep)
    shares = budget_shares(label_budget(acts, run_sweep(acts, cell.sweep, runtime)))
    mine = audit[(audit.dataset == cell.extraction.dataset) & (audit.layer == cell.sweep.layer)].set_index("method")
    for row in smallest_budget(shares).itertuples():
        assert (pd.isna(row.k) and pd.isna(mine.loc[row.method, f"half_{row.use}"])) or (
            mine.loc[row.method, f"half_{row.use}"] == row.k
        )
    largest = shares[shares.k == shares.k.max()].set_index(["method", "use"]).share
    for (method, use), share in largest.items():
        assert mine.loc[method, f"share_{use}"] == pytest.approx(share, nan_ok=True)


def test_repeated_entries_are_merged_with_a_line_each(tiny_llama, sentiment_csv):
    text = grid_text(tiny_llama, sentiment_csv).replace(
        f'models = ["{tiny_llama}"]', f'models = ["{tiny_llama}", "{tiny_llama}"]'
    )
    text = text.replace("layers = [1, 2]", "layers = [1, 2, 1]").replace('"ccs", "tpc"', '"ccs", "tpc", "ccs"')
    text = text.replace('normalizations = ["mean", "oracle_balanced"]', 'normalizations = ["mean", "mean"]')
    text += f'[[datasets]]\nsource = "csv"\nname = "{sentiment_csv}"\n'  # the first data set again
    grid = parse_grid(text)
    assert (
        len(grid.extractions) == 2
        and {e.layers for e in grid.extractions} == {(1, 2)}
        and grid.normalizations == ("mean",)
    )
    assert grid.sweep.methods == ("ccs", "tpc", "lr_norm")
    merged = [note for note in grid.notes if "merged into one" in note]
    assert [note.split(" is listed")[0].split(" ")[0] for note in merged] == [
        "model",
        "data",
        "layer",
        "normalization",
        "method",
    ]
    assert plan_grid(grid).sweeps == 2 * 2  # extractions x layers, each once


LARGE = """
models = ["{model}"]
layers = "all"
normalizations = [{normalizations}]
run = {{ p = "0.5,0.75", seeds = 2, n = 40, n_train = 12, n_test = 12, epochs = 20, restarts = 1 }}
{datasets}
"""


def large_grid(tmp_path, tiny_llama) -> str:
    """A short file that describes more sweeps than CONFIRM_SWEEPS: every bundled data set,
    every layer of the tiny model (3), every normalization."""
    from core.data.bundled import BUNDLED_DATASETS

    datasets = "".join(f'[[datasets]]\nname = "{name}"\n' for name in BUNDLED_DATASETS)
    text = LARGE.format(model=tiny_llama, normalizations=", ".join(f'"{n}"' for n in NORMALIZATIONS), datasets=datasets)
    (tmp_path / "large.toml").write_text(text)
    return str(tmp_path / "large.toml")


def test_the_plan_comes_before_any_work_and_a_large_grid_asks(tiny_llama, tmp_path, capsys, monkeypatch):
    from core.data.bundled import BUNDLED_DATASETS

    file, out = large_grid(tmp_path, tiny_llama), str(tmp_path / "out")
    sweeps = len(BUNDLED_DATASETS) * 3 * len(NORMALIZATIONS)
    assert sweeps > CONFIRM_SWEEPS
    assert main(["grid", file, "--out", out, "--device", "cpu"]) == 2  # not a terminal, no --yes: refused
    printed = capsys.readouterr()
    assert f"plan: {len(BUNDLED_DATASETS)} extraction(s), 0 already in the cache; {sweeps} sweep(s)" in printed.out
    assert "estimate for the rest:" in printed.out and "run it again with --yes" in printed.err
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["grid", file, "--out", out, "--device", "cpu"]) == 0
    assert "nothing was run" in capsys.readouterr().out
    assert ActivationStore().entries() == []  # nothing was extracted either time


def test_bad_output_paths_and_an_unreachable_ray_cluster_fail_before_any_work(tiny_llama, sentiment_csv, tmp_path):
    (tmp_path / "g.toml").write_text(grid_text(tiny_llama, sentiment_csv))
    grid = ["grid", str(tmp_path / "g.toml"), "--device", "cpu", "--yes"]
    (tmp_path / "a-file").write_text("")
    assert main([*grid, "--out", str(tmp_path / "a-file")]) == 2
    (tmp_path / "out" / "grid.csv").mkdir(parents=True)  # where the table would go
    assert main([*grid, "--out", str(tmp_path / "out")]) == 2
    started = time.monotonic()
    assert main([*grid, "--out", str(tmp_path / "ok"), "--executor", "ray", "--ray-address", "127.0.0.1:9"]) == 2
    assert time.monotonic() - started < 30
    with pytest.raises(UserError, match="not host:port"):
        check_ray_address("ray://:abc")
    with socket.create_server(("127.0.0.1", 0)) as listener:  # something answers, but it is not Ray
        started = time.monotonic()
        with pytest.raises(UserError, match="answers, but not as a Ray cluster"):
            check_ray_address(f"127.0.0.1:{listener.getsockname()[1]}")
        assert time.monotonic() - started < 30
    assert ActivationStore().entries() == []
    assert (REPO / "core" / "__init__.py").is_file()  # where Ray's workers find the library


@pytest.mark.skipif(
    shutil.which("ray") is None and not __import__("importlib").util.find_spec("ray"),
    reason="Ray is not installed (pip install -r requirements-ray.txt)",
)
def test_the_ray_executor_gives_the_same_table_as_in_process(tiny_llama, sentiment_csv, tmp_path, monkeypatch):
    from core.experiments.grid_ray import run_on_ray

    grid = parse_grid(grid_text(tiny_llama, sentiment_csv))
    in_process = run_inprocess(grid, Runtime(device="cpu"))
    local = in_process.table
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
    assert remote.cells == in_process.cells  # what the audit reads


def test_the_grid_summary_reports_the_effect_chance_and_what_remedies_win_back():
    rows = []
    accuracy = {  # (normalization, method, p) -> accuracy of seed s: value + s / 1000
        ("mean", "ccs", 0.5): 0.80,
        ("mean", "ccs", 0.9): 0.70,
        ("mean", "ccs", 0.95): 0.60,
        ("oracle_balanced", "ccs", 0.5): 0.80,
        ("oracle_balanced", "ccs", 0.9): 0.75,
        ("oracle_balanced", "ccs", 0.95): 0.80,
        ("mean", "tpc", 0.5): 0.50,
        ("mean", "tpc", 0.95): 0.50,
        ("oracle_balanced", "tpc", 0.5): 0.50,
        ("oracle_balanced", "tpc", 0.95): 0.50,
        ("mean", "random", 0.5): 0.52,
        ("mean", "random", 0.95): 0.52,
        ("oracle_balanced", "random", 0.5): 0.52,
        ("oracle_balanced", "random", 0.95): 0.52,
    }
    cell = {"model": "m", "dataset": "d", "depth": "75%", "layer": 3}
    for (norm, method, p), value in accuracy.items():
        rows += [
            {**cell, "normalization": norm, "method": method, "p": p, "seed": s, "accuracy": value + s / 1000,
             "auroc": value + 0.1}
            for s in range(5)
        ]  # fmt: skip
    summary = grid_summary(pd.DataFrame(rows)).set_index("method")
    ccs, tpc = summary.loc["ccs"], summary.loc["tpc"]
    assert ccs.accuracy_low == pytest.approx(0.802) and ccs.accuracy_high == pytest.approx(0.602)
    assert ccs.recovered_oracle_balanced == pytest.approx(1.0) and not ccs.at_chance
    assert tpc.at_chance and tpc.recovered_oracle_balanced != tpc.recovered_oracle_balanced  # no drop: NaN
    assert ccs.cost_oracle_balanced == pytest.approx(0.0)
    verdict = remedy_verdicts(summary.reset_index(), "ccs").iloc[0]
    assert (verdict.cells_dropped, verdict.cells_won, verdict.works) == (1, 1, False)  # one cell is not three
    text = grid_summary_markdown(summary.reset_index())
    assert "| m | d | 3 (75%) | CCS | 0.802 [" in text and "at chance at balance" in text
    assert "| 100%; at 0.9: 50% |" in text  # the share at the highest p, then at 0.9


def test_a_remedy_method_is_compared_with_its_plain_form_paired_by_seed():
    cell = {"model": "m", "dataset": "d", "depth": "", "layer": 3, "normalization": "mean"}
    accuracy = {("tpc", 0.5): 0.8, ("tpc", 0.95): 0.6, ("tpc_em", 0.5): 0.8, ("tpc_em", 0.95): 0.75}
    accuracy |= {("random", 0.5): 0.55, ("random", 0.95): 0.55, ("lr_norm", 0.5): 0.9, ("lr_norm", 0.95): 0.6}
    rows = [
        {**cell, "method": method, "p": p, "seed": s, "accuracy": value + s / 1000, "auroc": value}
        for (method, p), value in accuracy.items()
        for s in range(4)
    ]
    compared = remedy_methods_as_normalizations(pd.DataFrame(rows))
    assert set(zip(compared.method, compared.normalization)) == {
        ("tpc", "mean"),
        ("tpc", "balanced_covariance"),
        ("random", "mean"),
    }
    tpc = grid_summary(compared).set_index("method").loc["tpc"]
    assert tpc.recovered_balanced_covariance == pytest.approx(0.75) and tpc.cost_balanced_covariance == pytest.approx(0)


def test_cells_above_chance_are_counted_per_reading_and_for_any_reading():
    """Two cells, three readings: CCS above chance in cell A with one template only, in cell
    B with the ensemble only, so 1, 1 and 0 per reading and 2 with at least one of them."""
    above = {("A", "one"), ("B", "ensemble of 4")}
    rows = [
        {"model": "m", "dataset": cell, "templates": reading, "depth": "", "layer": 3, "normalization": "mean",
         "method": method, "p": p, "seed": s, "auroc": 0.5,
         "accuracy": (0.8 if method == "ccs" and (cell, reading) in above else 0.52) + s / 1000}
        for cell in "AB"
        for reading in ("one", "ensemble of 4", "is_negative")
        for method in ("ccs", "random")
        for p in (0.5, 0.95)
        for s in range(4)
    ]  # fmt: skip
    summary = grid_summary(pd.DataFrame(rows))
    counts = above_chance_counts(summary).set_index("method").loc["ccs"]
    assert counts[["one", "ensemble of 4", "is_negative", "any", "cells"]].tolist() == [1, 1, 0, 2, 2]
    assert len(template_comparison(summary)) == 2  # one row per cell and method, random left out
    (line,) = above_chance_lines(above_chance_counts(summary))
    assert line == (
        "CCS: above chance at balance in 1 with its own template, 1 with the ensemble of 4, 0 with template "
        "is_negative; in 2 with at least one of them; of 2 cells."
    )


def test_each_reads_every_named_template_on_its_own(tiny_llama, sentiment_csv):
    grid = parse_grid(grid_text(tiny_llama, sentiment_csv).replace('title = "tiny"', 'templates = ["one", "each"]'))
    readings = [(e.dataset, e.templates) for e in grid.extractions]
    names = list(REVIEW_FAMILY)
    assert readings == [(d, r) for d in (sentiment_csv.name, f"{sentiment_csv.name} (2)") for r in ["one", *names]]
    each = [e.config.template for e in grid.extractions if e.templates in names]
    assert each[: len(names)] == [nt.template for nt in REVIEW_FAMILY.values()]


@pytest.mark.parametrize("path", sorted((REPO / "examples").glob("grid*.toml")), ids=lambda path: path.stem)
def test_every_example_grid_parses(path):
    assert load_grid(path).extractions
