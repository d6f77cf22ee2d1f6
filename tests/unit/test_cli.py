"""The command line end to end on a tiny model: extract, sweep from cache, files written,
and bad input answered with one line and exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, timeout=300)


def test_extract_then_sweep_from_cache(tiny_llama, sentiment_csv, tmp_path):
    source = [
        "--model",
        str(tiny_llama),
        "--dataset",
        "csv",
        "--dataset-name",
        str(sentiment_csv),
        "--n-examples",
        "40",
        "--device",
        "cpu",
        "--batch-size",
        "8",
    ]
    first = run_cli("extract", *source)
    assert first.returncode == 0, first.stderr
    assert "extracted in" in first.stdout

    out, chart = tmp_path / "results.csv", tmp_path / "chart.html"
    sweep = run_cli(
        "sweep",
        *source,
        "--layer",
        "2",
        "--n-train",
        "16",
        "--n-test",
        "16",
        "--p-levels",
        "0.5,0.75",
        "--seeds",
        "2",
        "--epochs",
        "50",
        "--restarts",
        "2",
        "--out",
        str(out),
        "--chart",
        str(chart),
    )
    assert sweep.returncode == 0, sweep.stderr
    assert "cache hit, model not loaded" in sweep.stdout
    assert "data: CSV reviews.csv" in sweep.stdout and "40 examples extracted" in sweep.stdout
    assert "mean accuracy over seeds [95% CI]" in sweep.stdout and "LR (raw differences)" in sweep.stdout
    assert "sign-resolved as max(acc, 1 - acc)" in sweep.stdout
    assert "the limit of a label-free fix" in sweep.stdout and "CCS: at " in sweep.stdout
    assert "sd apart" in sweep.stdout and "at p = 0.75" in sweep.stdout  # the label-free verdict
    table = pd.read_csv(out)
    assert len(table) == 5 * 2 * 2 and set(table.p) == {0.5, 0.75} and set(table.layer) == {2}
    assert table.accuracy.between(0.0, 1.0).all()
    assert "<html" in chart.read_text()


def test_bad_input_is_one_line_and_exit_status_2(tmp_path):
    missing = run_cli("extract", "--dataset", "csv", "--dataset-name", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2
    assert "error: CSV file" in missing.stderr and "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr
    needs_name = run_cli("sweep", "--dataset", "hf")
    assert needs_name.returncode == 2 and "--dataset hf needs --dataset-name" in needs_name.stderr
    bad_list = run_cli("sweep", "--p-levels", "0.5,abc")
    assert bad_list.returncode == 2 and "not a comma-separated list of numbers" in bad_list.stderr


def test_assets_command_reports_what_is_installed():
    report = run_cli("assets")
    assert report.returncode == 0
    assert "SmolLM2-135M-Instruct" in report.stdout and "Rotten Tomatoes" in report.stdout


def test_layers_inspect_and_remedies_reproduce_their_pages(tiny_llama, sentiment_csv, tmp_path):
    """The commands the Layers page, the inspector and the Remedies page show: each runs
    (computing what is missing), prints its table and writes its files."""
    run = [
        "--model", str(tiny_llama), "--dataset", "csv", "--dataset-name", str(sentiment_csv),
        "--n-examples", "60", "--device", "cpu", "--n-train", "16", "--n-test", "20",
        "--p-levels", "0.5,0.75", "--seeds", "2", "--epochs", "30", "--restarts", "2",
    ]  # fmt: skip
    layers = run_cli("layers", *run, "--methods", "ccs,lr_norm", "--out", str(tmp_path / "layers.csv"))
    assert layers.returncode == 0, layers.stderr
    table = pd.read_csv(tmp_path / "layers.csv")
    assert set(table.layer) == {0, 1, 2} and set(table.method) == {"ccs", "lr_norm"}  # every hidden state
    assert "CCS p=0.75" in layers.stdout and "by layer" in layers.stdout
    some = run_cli("layers", *run, "--layers", "1,2", "--methods", "lr_norm", "--out", str(tmp_path / "some.csv"))
    assert some.returncode == 0, some.stderr
    assert set(pd.read_csv(tmp_path / "some.csv").layer) == {1, 2}  # an extraction of those layers alone

    inspect = run_cli("inspect", *run, "--layer", "2", "--p", "0.75", "--seed", "1", "--out", str(tmp_path / "p.csv"))
    assert inspect.returncode == 0, inspect.stderr
    assert "CCS, p = 0.75, seed 1: accuracy" in inspect.stdout and "on 20 balanced test pairs" in inspect.stdout
    assert len(pd.read_csv(tmp_path / "p.csv")) == 20
    no_cell = run_cli("inspect", *run, "--layer", "2", "--p", "0.9")
    assert no_cell.returncode == 2 and "has no cell ccs at p = 0.9" in no_cell.stderr

    remedies = run_cli(
        "remedies", *run, "--layer", "2", "--remedies", "oracle_balanced", "--chart", str(tmp_path / "r.svg")
    )
    assert remedies.returncode == 0, remedies.stderr
    assert "moved threshold + lost direction" in remedies.stdout and (tmp_path / "r.svg").read_text().startswith("<svg")
    bad = run_cli("remedies", *run, "--remedies", "mean")
    assert bad.returncode == 2 and "--remedies takes names from" in bad.stderr

    budget = run_cli("label-budget", *run, "--layer", "2", "--budgets", "0,4,8", "--out", str(tmp_path / "b.csv"))
    assert budget.returncode == 0, budget.stderr
    assert "half at" in budget.stdout and "k=4" in budget.stdout and "threshold" in budget.stdout
    shares = pd.read_csv(tmp_path / "b.csv")
    assert set(shares.k) == {0, 4, 8} and set(shares.use) == {"prior", "threshold"}
    too_many = run_cli("label-budget", *run, "--layer", "2", "--budgets", "0,20000")
    assert too_many.returncode == 2 and "--budgets takes" in too_many.stderr

    ensemble = run_cli("sweep", *run, "--layer", "2", "--templates", "sentiment,is_negative", "--methods", "ccs,tpc")
    assert ensemble.returncode == 0, ensemble.stderr
    assert "template ensemble of 2 (sentiment, is_negative)" in ensemble.stdout
    one = run_cli("sweep", *run, "--layer", "2", "--templates", "sentiment")
    assert one.returncode == 2 and "at least two templates" in one.stderr and "Traceback" not in one.stderr
    unknown = run_cli("sweep", *run, "--layer", "2", "--templates", "sentiment,nope")
    assert unknown.returncode == 2 and "Unknown template 'nope'" in unknown.stderr
