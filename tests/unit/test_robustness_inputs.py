"""Hostile and broken input, answered with one clear message and never a traceback or a
silently different result: CSV files, templates, run settings, links and the command
line. Each test id is a row of docs/robustness.md."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from core.config import CCSConfig, DatasetSpec, ExtractConfig, ModelSpec, Template
from core.data.loaders import load_dataset
from core.data.sampling import split_test, text_key
from core.data.uploads import MAX_CSV_BYTES, load_csv_bytes
from core.errors import UserError, public_message
from core.experiments.pipeline import run_pipeline
from core.extraction.extract import activation_key
from core.extraction.models import check_device
from core.extraction.runtime import Runtime
from core.metrics import mean_ci, summarize
from core.settings.limits import SHARED, Limits
from core.settings.links import extract_from_params, sweep_from_params
from core.settings.presets import DEMO
from core.settings.sweep import SweepConfig
from core.settings.validate import check_extract, check_run, check_sweep
from core.store.activations import ActivationStore

EXTRACT, SWEEP = DEMO


def csv_of(rows, columns=("text", "label")) -> bytes:
    return pd.DataFrame(rows, columns=list(columns)).to_csv(index=False).encode()


BAD_CSVS = {
    "csv-empty-file": (b"", "not a readable CSV"),
    "csv-header-only": (b"text,label\n", "no rows"),
    "csv-missing-column": (csv_of([("a", 1), ("b", 0)], ("review", "label")), r"Missing column\(s\) \['text'\]"),
    "csv-empty-text": (csv_of([("a", 1), ("  ", 0)]), "empty text"),
    "csv-one-class": (csv_of([("a", 1), ("b", 1)]), "Only one class"),
    "csv-three-labels": (csv_of([("a", 1), ("b", 0), ("c", 2)]), "not binary"),
    "csv-missing-label": (b"text,label\na,1\nb,\nc,0\n", "empty value"),
    "csv-word-labels": (csv_of([("a", "yes"), ("b", "no")]), "name the positive class"),
    "csv-ragged-rows": (b'text,label\na,1\n"b,0\nc,1,2,3\n', "not a readable CSV|empty value|not binary"),
    "csv-not-utf8": (b"text,label\n\xff\xfe\x00bad,1\nok,0\n", "not a readable CSV"),
    "csv-binary-garbage": (bytes(range(256)) * 4, "not a readable CSV|Missing column"),
    "csv-only-duplicates-of-one-class": (csv_of([("a", 1), ("A ", 0), ("a", 0)]), "Only one class"),
}


@pytest.mark.parametrize("case", list(BAD_CSVS))
def test_bad_csv_is_one_clear_message(case):
    data, message = BAD_CSVS[case]
    with pytest.raises(UserError, match=message) as error:
        load_csv_bytes(data, name="upload.csv")
    assert "\n" not in public_message(error.value)


def test_csv_positive_label_that_does_not_occur():
    with pytest.raises(UserError, match="does not occur"):
        load_csv_bytes(csv_of([("a", "pos"), ("b", "neg")]), positive_label="positive")


def test_csv_over_the_size_limit_is_refused_before_parsing(tmp_path):
    with pytest.raises(UserError, match="the limit is 50 MB"):
        load_csv_bytes(b"x" * (MAX_CSV_BYTES + 1))
    big = tmp_path / "big.csv"
    with open(big, "wb") as handle:
        handle.truncate(MAX_CSV_BYTES + 1)
    with pytest.raises(UserError, match="the limit is 50 MB"):
        load_dataset(DatasetSpec("csv", str(big)))


def test_csv_duplicate_rows_are_dropped_and_counted():
    rows = [
        ("good film", 1),
        ("bad film", 0),
        ("Good  film", 1),
        ("good film", 1),
        ("dull", 0),
        ("mixed", 1),
        ("mixed", 0),
    ]
    data = load_csv_bytes(csv_of(rows))
    assert data.texts == ("good film", "bad film", "dull")  # "mixed" has both labels: dropped entirely
    assert data.dropped_duplicates == 4 and "4 duplicate row(s) dropped" in data.description


def test_splits_are_disjoint_by_text_even_in_a_set_with_duplicates():
    texts = tuple(f"text {i % 50}" for i in range(200))  # every text four times
    labels = np.array([i % 2 for i in range(200)], dtype=np.int8)
    test, pool = split_test(labels, 40, seed=0, texts=texts)
    assert not {text_key(texts[i]) for i in test} & {text_key(texts[i]) for i in pool}


def test_intervals_never_leave_zero_one():
    table = pd.DataFrame({"method": "ccs", "p": 0.5, "seed": [0, 1], "accuracy": [0.52, 0.99]})
    row = summarize(table).iloc[0]
    assert 0.0 <= row["ci_low"] <= row["mean"] <= row["ci_high"] <= 1.0
    assert mean_ci(np.array([1.0, 1.0, 0.99]))[2] <= 1.0


TEMPLATES = {
    "template-no-slot": (Template(prompt="no slot here"), "exactly one"),
    "template-two-slots": (Template(prompt="{text} and {text}"), "exactly one"),
    "template-same-completions": (Template(positive=" yes", negative=" yes"), "identical"),
    "template-empty-completion": (Template(positive="  "), "non-empty"),
}


@pytest.mark.parametrize("case", list(TEMPLATES))
def test_bad_template_is_refused_before_loading(case):
    template, message = TEMPLATES[case]
    with pytest.raises(UserError, match=message):
        check_extract(dataclasses.replace(EXTRACT, template=template))


def test_braces_and_markup_in_a_review_are_text():
    from core.data.prompts import render_pair

    pos, _ = render_pair(Template(), "{0} {text} <b>x</b>")
    assert '"{0} {text} <b>x</b>"' in pos


BAD_EXTRACTS = {
    "examples-zero": ({"n_examples": 0}, "Examples to extract"),
    "examples-negative": ({"n_examples": -5}, "Examples to extract"),
    "examples-fraction": ({"n_examples": 2.5}, "whole number"),
    "max-tokens-zero": ({"max_tokens": 0}, "Max tokens"),
    "layers-empty": ({"layers": ()}, "Layers to extract take 1 to 1000 values, got 0"),
    "layers-negative": ({"layers": (-1, 2)}, "Layers to extract must each be a whole number"),
    "layers-repeated": ({"layers": (2, 2)}, "twice"),
    "storage-dtype-unknown": ({"storage_dtype": "int4"}, "storage dtype"),
    "model-dtype-unknown": ({"model": ModelSpec(dtype="float8")}, "Unknown dtype"),
    "model-relative-path": ({"model": ModelSpec(model_id="../../etc")}, "neither 'bundled'"),
    "model-revision-garbage": ({"model": ModelSpec(model_id="org/name", revision="a b;rm")}, "revision"),
    "model-revision-traversal": ({"model": ModelSpec(model_id="org/name", revision="../../etc")}, "revision"),
    "dataset-source-unknown": ({"dataset": DatasetSpec(source="sql", name="x")}, "Unknown dataset source"),
    "dataset-hf-relative-path": ({"dataset": DatasetSpec(source="hf", name="../data")}, "not a Hugging Face"),
    "dataset-csv-relative-path": ({"dataset": DatasetSpec(source="csv", name="data.csv")}, "not an uploaded file"),
    "dataset-empty-column": ({"dataset": DatasetSpec(source="hf", name="imdb", text_column=" ")}, "text column"),
}


@pytest.mark.parametrize("case", list(BAD_EXTRACTS))
def test_bad_extraction_setting_is_refused_before_loading(case):
    changes, message = BAD_EXTRACTS[case]
    with pytest.raises(UserError, match=message):
        check_extract(dataclasses.replace(EXTRACT, **changes))


BAD_SWEEPS = {
    "p-zero": ({"p_levels": (0.0, 0.5)}, "strictly between 0 and 1"),
    "p-one": ({"p_levels": (0.5, 1.0)}, "strictly between 0 and 1"),
    "p-above-one": ({"p_levels": (1.5,)}, "strictly between 0 and 1"),
    "p-nan": ({"p_levels": (math.nan,)}, "strictly between 0 and 1"),
    "p-repeated": ({"p_levels": (0.5, 0.5)}, "twice"),
    "p-none": ({"p_levels": ()}, "Levels of p take 1 to 32 values"),
    "seeds-none": ({"seeds": ()}, "Seeds take 1 to 100 values"),
    "seeds-repeated": ({"seeds": (1, 1)}, "twice"),
    "seed-negative": ({"seeds": (-1,)}, "Seeds must each be a whole number from 0 to 2147483647"),
    "n-train-one": ({"n_train": 1}, "n_train"),
    "methods-none": ({"methods": ()}, "Methods must name at least one"),
    "methods-unknown": ({"methods": ("ccs", "svm")}, "Methods must each be one of"),
    "normalization-unknown": ({"normalization": "zscore"}, "Unknown normalization"),
    "lr-negative": ({"ccs": CCSConfig(lr=-1e-3)}, "learning rate"),
    "lr-nan": ({"ccs": CCSConfig(lr=math.nan)}, "learning rate"),
    "lr-infinite": ({"ccs": CCSConfig(lr=math.inf)}, "learning rate"),
    "epochs-zero": ({"ccs": CCSConfig(epochs=0)}, "CCS epochs"),
    "restarts-zero": ({"ccs": CCSConfig(restarts=0)}, "CCS restarts"),
    "layer-huge": ({"layer": 10**9}, "Layer must be"),
}


@pytest.mark.parametrize("case", list(BAD_SWEEPS))
def test_bad_sweep_setting_is_refused_before_loading(case):
    changes, message = BAD_SWEEPS[case]
    with pytest.raises(UserError, match=message):
        check_sweep(dataclasses.replace(SWEEP, **changes))


INFEASIBLE_RUNS = {
    "n-train-larger-than-a-class": ({}, {"n_train": 800, "p_levels": (0.5, 0.9)}, "needs 720 training pairs"),
    "n-test-larger-than-the-data": ({"n_examples": 100}, {"n_test": 600}, "balanced test split of 600"),
    "p-gives-one-class": ({}, {"p_levels": (0.999,)}, "single class"),
    "layer-not-extracted": ({"layers": (1, 2)}, {"layer": 5}, "not among the layers"),
}


@pytest.mark.parametrize("case", list(INFEASIBLE_RUNS))
def test_infeasible_run_fails_before_any_extraction(case):
    extract_changes, sweep_changes, message = INFEASIBLE_RUNS[case]
    with pytest.raises(UserError, match=message):
        check_run(dataclasses.replace(EXTRACT, **extract_changes), dataclasses.replace(SWEEP, **sweep_changes))


def test_pipeline_checks_the_run_before_loading_anything(monkeypatch):
    import core.experiments.pipeline as pipeline

    def no_extraction(*args, **kwargs):
        raise AssertionError("extraction started")

    monkeypatch.setattr(pipeline, "extract", no_extraction)
    with pytest.raises(UserError, match="needs 720 training pairs"):
        pipeline.run_pipeline(EXTRACT, dataclasses.replace(SWEEP, n_train=800, p_levels=(0.9,)))


def test_layers_beyond_the_model_are_refused_before_extraction(tiny_llama):
    from core.models.known import known_hidden_states
    from core.settings.validate import check_layers_exist

    local = dataclasses.replace(EXTRACT, model=ModelSpec(model_id=str(tiny_llama)), layers=(0, 5))
    assert known_hidden_states(local.model) == 3 and known_hidden_states(ModelSpec(model_id="nobody/nothing")) is None
    with pytest.raises(UserError, match=r"Layer\(s\) \[5\] do not exist"):
        check_layers_exist(local, 2, known_hidden_states(local.model))
    check_layers_exist(local, 99, None)  # unknown before loading: the extraction checks it


def test_shared_mode_caps_sizes():
    check_extract(EXTRACT, SHARED)
    with pytest.raises(UserError, match="on this shared server"):
        check_extract(dataclasses.replace(EXTRACT, n_examples=50_000), SHARED)
    with pytest.raises(UserError, match="on this shared server"):
        check_sweep(dataclasses.replace(SWEEP, ccs=CCSConfig(epochs=10_000)), SHARED)


def test_a_run_past_its_time_limit_stops_and_caches_nothing(tiny_llama, sentiment_csv):
    extract_config = ExtractConfig(
        model=ModelSpec(model_id=str(tiny_llama)),
        dataset=DatasetSpec(source="csv", name=str(sentiment_csv)),
        n_examples=40,
    )
    sweep = SweepConfig(layer=2, p_levels=(0.5,), n_train=10, n_test=16, seeds=(0,), methods=("tpc",))
    with pytest.raises(UserError, match="stops a run after 0 minutes"):
        run_pipeline(extract_config, sweep, Runtime(device="cpu", limits=Limits(work_seconds=0.0)))
    assert not ActivationStore().has(activation_key(extract_config, "cpu"))


@pytest.mark.parametrize(
    "device, message", [("tpu", "Unknown device"), ("cuda:99", "not available"), ("cpu; rm -rf", "Unknown device")]
)
def test_unknown_or_unavailable_device(device, message):
    with pytest.raises(UserError, match=message):
        check_device(device)


BAD_LINKS = {
    "link-csv-path": ({"data": "csv:/etc/passwd:::text:label:"}, "links carry no paths"),
    "link-csv-relative-path": ({"data": "csv:../../etc/passwd::train:text:label:"}, "links carry no paths"),
    "link-hf-folder": ({"data": "hf:/root/.ssh::train:text:label:"}, "links carry no paths"),
    "link-model-path": ({"model": "/etc"}, "links carry no paths"),
    "link-model-home": ({"model": "~/.cache"}, "links carry no paths"),
    "link-model-parent": ({"model": "../secret"}, "links carry no paths"),
    "link-data-malformed": ({"data": "csv"}, "must be source:name"),
    "link-seeds-fraction": ({"seeds": "2.5"}, "whole number"),
    "link-seed-list-fraction": ({"seeds": "1,2.5"}, "whole number"),
    "link-seeds-zero": ({"seeds": "0"}, "out of bounds"),
    "link-layer-999999": ({"layer": "999999"}, "out of bounds"),
    "link-n-train-zero": ({"n_train": "0"}, "out of bounds"),
    "link-epochs-zero": ({"epochs": "0"}, "out of bounds"),
    "link-lr-nan": ({"lr": "nan"}, "'lr'"),
    "link-lr-infinite": ({"lr": "inf"}, "out of bounds"),
    "link-p-one": ({"p": "0.5,1"}, "out of bounds"),
    "link-n-examples-zero": ({"n": "0"}, "out of bounds"),
    "link-method-unknown": ({"methods": "ccs,<script>"}, "'methods'"),
    "link-prompt-without-slot": ({"prompt": "no slot"}, "out of bounds"),
}


@pytest.mark.parametrize("case", list(BAD_LINKS))
def test_bad_link_is_one_error(case):
    params, message = BAD_LINKS[case]
    with pytest.raises(UserError, match=message):
        extract_from_params(params)
        sweep_from_params(params)


def test_shared_link_over_the_caps_is_refused():
    with pytest.raises(UserError, match="on this shared server"):
        extract_from_params({"n": "50000"}, limits=SHARED)


def test_links_name_csv_data_by_content_never_by_path(tmp_path):
    from core.settings.links import extract_to_params

    path = tmp_path / "mine.csv"
    path.write_bytes(csv_of([("a", 1), ("b", 0)]))
    params = extract_to_params(dataclasses.replace(EXTRACT, dataset=DatasetSpec("csv", str(path))))
    assert str(tmp_path) not in params["data"] and len(params["data"].split(":")[1]) == 64
    local_model = extract_to_params(dataclasses.replace(EXTRACT, model=ModelSpec(model_id=str(tmp_path))))
    assert "model" not in local_model


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, timeout=120)


CLI_CASES = {
    "cli-examples-zero": (["sweep", "--n-examples", "0"], "Examples to extract"),
    "cli-examples-negative": (["extract", "--n-examples", "-3"], "Examples to extract"),
    "cli-layers-empty": (["extract", "--layers", ""], "Layers to extract take 1 to 1000 values"),
    "cli-lr-negative": (["sweep", "--lr", "-0.01"], "learning rate"),
    "cli-lr-nan": (["sweep", "--lr", "nan"], "learning rate"),
    "cli-device-unknown": (["extract", "--device", "tpu"], "Unknown device"),
    "cli-device-unavailable": (["sweep", "--device", "cuda:7"], "not available"),
    "cli-p-out-of-range": (["sweep", "--p-levels", "0.5,1.2"], "strictly between"),
    "cli-n-train-too-large": (["sweep", "--n-train", "5000"], "training pool"),
    "cli-seeds-zero": (["sweep", "--seeds", "0"], "Seeds take 1 to 100 values"),
    "cli-epochs-zero": (["sweep", "--epochs", "0"], "CCS epochs"),
    "cli-batch-zero": (["extract", "--batch-size", "0"], "Batch size"),
    "cli-out-folder-missing": (["sweep", "--out", "/no/such/folder/r.csv"], "does not exist"),
    "cli-chart-bad-suffix": (["sweep", "--chart", "c.pdf"], ".png, .svg or .html"),
    "cli-csv-directory": (["extract", "--dataset", "csv", "--dataset-name", "/"], "does not exist"),
    "cli-model-garbage": (["extract", "--model", "no such model!"], "neither 'bundled'"),
    "cli-layer-beyond-the-model": (["sweep", "--layer", "40"], "hidden states 0..30"),
    "cli-layers-beyond-the-model": (["extract", "--layers", "3,50"], "hidden states 0..30"),
    "cli-out-is-a-folder": (["sweep", "--out", "/tmp"], "is a folder"),
    "cli-html-is-a-folder": (["present", "--html", "/tmp"], "is a folder"),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_bad_input_is_one_line_exit_2_before_any_work(case):
    argv, message = CLI_CASES[case]
    result = run_cli(*argv)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr


def test_cli_unexpected_error_is_one_line_and_debug_shows_the_traceback(tmp_path):
    folder = tmp_path / "cache"
    folder.write_text("a file where the cache folder should be")
    env = {"CCS_LAB_CACHE": str(folder), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    argv = [sys.executable, "-m", "core", "extract", "--n-examples", "40"]
    plain = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert plain.returncode == 1 and "Traceback" not in plain.stderr and "--debug" in plain.stderr
    assert str(tmp_path) not in plain.stderr  # paths shortened to names
    debug = subprocess.run([*argv[:3], "--debug", *argv[3:]], capture_output=True, text=True, timeout=120, env=env)
    assert "Traceback" in debug.stderr


def test_long_free_text_is_capped_only_on_a_shared_server():
    from core.settings.validate import check_extract

    long_prompt = dataclasses.replace(EXTRACT.template, prompt="Review: {text} " + "very " * 1000)
    config = dataclasses.replace(EXTRACT, template=long_prompt)
    check_extract(config)  # the owner's own run takes it
    with pytest.raises(UserError, match="The prompt has 5,015 characters; this shared server takes at most 4,000"):
        check_extract(config, SHARED)
    label = dataclasses.replace(EXTRACT.dataset, positive_label="p" * (SHARED.text_chars + 1))
    with pytest.raises(UserError, match="positive label"):
        check_extract(dataclasses.replace(EXTRACT, dataset=label), SHARED)
