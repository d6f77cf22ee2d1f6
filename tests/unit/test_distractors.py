"""Distractors (core.analysis.distractors, Template.distractor): on synthetic pairs the theory's
prediction holds (truth wins while a^2 4p(1-p) > c^2, the distractor past it, and
balanced centering gives truth back); on a tiny model the words are rendered on the
sides the recorded signs say, balanced within each class, and the CLI reports which
target each probe found."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from core.analysis.distractors import distractor_cells, distractor_report
from core.analysis.theory import synthetic_pairs
from core.config import CCSConfig, DatasetSpec, ExtractConfig, ModelSpec, Template, canonical_json
from core.data.prompts import distractor_signs, render_pair, validate_template
from core.errors import UserError
from core.experiments.sweep import run_sweep
from core.extraction.extract import activation_key, extract
from core.extraction.runtime import Runtime
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationStore

# Truth a = 2, distractor c = 1.2: centering leaves truth a^2 4p(1-p), below c^2 past p = 0.93.
CONFIG = SweepConfig(
    layer=0,
    p_levels=(0.5, 0.95),
    n_train=400,
    n_test=600,
    seeds=(0, 1, 2),
    methods=("ccs", "tpc", "vinc", "lr_norm"),
    ccs=CCSConfig(epochs=300, restarts=3),
)


@pytest.fixture(scope="module")
def distracted():
    return synthetic_pairs(3000, 16, truth_strength=2.0, distractor_strength=1.2, noise=0.4, seed=1)


def found(data, normalization: str) -> dict:
    acts = data.as_activation_set()
    result = run_sweep(acts, dataclasses.replace(CONFIG, normalization=normalization))
    report = distractor_report(distractor_cells(acts, result)).set_index(["method", "p"])
    return {
        cell: (
            "truth" if row.seeds_finding_truth == 3 else "distractor" if row.seeds_finding_distractor == 3 else "mixed"
        )
        for cell, row in report.iterrows()
    }


def test_imbalance_hands_the_unsupervised_probes_to_the_distractor(distracted):
    burns = found(distracted, "mean")
    for method in ("ccs", "tpc", "vinc"):
        assert burns[(method, 0.5)] == "truth" and burns[(method, 0.95)] == "distractor", method
    assert burns[("lr_norm", 0.95)] == "truth"  # labels keep the supervised probe on truth


def test_balanced_centers_give_ccs_truth_back_but_not_the_covariance_methods(distracted):
    """TPC and VINC read covariances, which no choice of centers changes: in an imbalanced
    draw truth's variance is 4p(1-p) of its balanced value whatever the centering. CCS reads
    where the pairs sit, which the oracle's centers restore."""
    oracle = found(distracted, "oracle_balanced")
    assert oracle[("ccs", 0.95)] == "truth"
    assert oracle[("tpc", 0.95)] == "distractor" and oracle[("vinc", 0.95)] == "distractor"


def test_signs_are_balanced_within_each_class_and_reproducible():
    labels = np.repeat([0, 1], [51, 49])
    signs = distractor_signs(labels, 3)
    for label in (0, 1):
        assert abs(int(signs[labels == label].sum())) <= 1
    assert np.array_equal(signs, distractor_signs(labels, 3)) and not np.array_equal(signs, distractor_signs(labels, 4))


@pytest.mark.parametrize(
    "words", [("Banana", "Banana"), ("", "Shed"), ("x" * 41, "Shed"), ("{text}", "Shed"), ("Banana",)]
)
def test_a_bad_distractor_is_one_clear_error(words):
    with pytest.raises(UserError, match="distractor"):
        validate_template(Template(distractor=words))


def test_a_distractor_changes_the_key_and_no_distractor_keeps_the_old_one():
    plain, distracted = ExtractConfig(), ExtractConfig(template=Template(distractor=("Banana", "Shed")))
    assert "distractor" not in canonical_json(plain) and activation_key(plain) != activation_key(distracted)


def test_extraction_renders_the_words_on_the_recorded_sides(tiny_llama, sentiment_csv):
    template = Template(distractor=("Banana", "Shed"))
    config = ExtractConfig(
        model=ModelSpec(model_id=str(tiny_llama)),
        dataset=DatasetSpec("csv", str(sentiment_csv)),
        n_examples=40,
        layers=(2,),
        template=template,
    )
    store = ActivationStore()
    acts = store.load(extract(config, Runtime(activations=store, device="cpu")).key)
    signs = np.asarray(acts.meta["distractor_signs"])
    assert set(signs) == {1, -1} and all(abs(int(signs[acts.labels == c].sum())) <= 1 for c in (0, 1))
    plain = store.load(
        extract(dataclasses.replace(config, template=Template()), Runtime(activations=store, device="cpu")).key
    )
    assert plain.texts == acts.texts and not np.allclose(plain.pos.numpy(), acts.pos.numpy())
    assert render_pair(template, acts.texts[0], int(signs[0]))[0].endswith("Banana" if signs[0] > 0 else "Shed")


def test_the_cli_reports_truth_or_distractor(tiny_llama, sentiment_csv):
    command = [
        sys.executable,
        "-m",
        "core",
        "sweep",
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
        "--layer",
        "2",
        "--n-train",
        "12",
        "--n-test",
        "12",
        "--p-levels",
        "0.5,0.75",
        "--seeds",
        "2",
        "--epochs",
        "20",
        "--restarts",
        "1",
        "--distractor",
        "Banana,Shed",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "truth or distractor?" in done.stdout and "seeds: truth / distractor / neither" in done.stdout
    bad = subprocess.run([*command[:-1], "Banana,Banana"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "distractor" in bad.stderr and "Traceback" not in bad.stderr


def test_a_distractor_travels_in_links_and_a_bad_one_is_refused():
    from core.settings.links import extract_from_params, extract_to_params

    config = ExtractConfig(template=Template(distractor=("Banana", "Shed")))
    assert extract_to_params(config) == {"distractor": "Banana,Shed"}
    assert extract_from_params(extract_to_params(config)) == config
    with pytest.raises(UserError, match="distractor"):
        extract_from_params({"distractor": "Banana,Shed,Tree"})
