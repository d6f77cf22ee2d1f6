"""The command a page shows (core.cli.reproduce) runs the page's configs: every link
parameter has its option, a bundled set's own template is accounted for, and the command
line parsed back gives the same extraction and sweep configs."""

from __future__ import annotations

import dataclasses
import hashlib
import shlex

import pytest

from core.__main__ import build_parser
from core.cli.arguments import extract_config_from, sweep_config_from
from core.cli.reproduce import command_line, names_local_files, run_arguments
from core.config import CCSConfig, DatasetSpec, ExtractConfig, ModelSpec, Template
from core.data.bundled import BUNDLED_DATASETS
from core.settings.sweep import SweepConfig

DEMO_EXTRACT, DEMO_SWEEP = ExtractConfig(), SweepConfig()
AMAZON = DatasetSpec("bundled", "amazon_review_snippets")
EXTRACTS = {
    "demo": DEMO_EXTRACT,
    "hub model, fewer examples": dataclasses.replace(DEMO_EXTRACT, model=ModelSpec("owner/model"), n_examples=400),
    "a bundled set with its own template": dataclasses.replace(
        DEMO_EXTRACT, dataset=AMAZON, template=BUNDLED_DATASETS[AMAZON.name].template
    ),
    "a bundled set with the demo's template": dataclasses.replace(DEMO_EXTRACT, dataset=AMAZON),
    "a hub data set": dataclasses.replace(
        DEMO_EXTRACT, dataset=DatasetSpec("hf", "owner/reviews", "plain", "test", "review", "stars", "5")
    ),
    "an upload": dataclasses.replace(DEMO_EXTRACT, dataset=DatasetSpec("csv", "ab" * 32, text_column="t")),
    "a template with quotes, unicode and a distractor": dataclasses.replace(
        DEMO_EXTRACT,
        template=Template('Review: "{text}" — it\'s $HOME `x`; sentiment:', " good", " bad", ("Banana", "Shed")),
    ),
}
SWEEPS = {
    "demo": DEMO_SWEEP,
    "everything changed": SweepConfig(
        layer=15,
        p_levels=(0.5, 0.9),
        n_train=200,
        n_test=300,
        seeds=(0, 2, 5),
        methods=("ccs", "vinc", "mass_mean"),
        normalization="negation_pooled",
        test_normalization="train",
        split_seed=3,
        ccs=CCSConfig(epochs=500, restarts=4, lr=0.002),
        negated_prompt='Consider "{text}" The sentiment is not',
    ),
    "a seed count": dataclasses.replace(DEMO_SWEEP, seeds=tuple(range(4)), normalization="meanstd"),
}


def parsed(command: str, arguments: list[str]) -> tuple[ExtractConfig, SweepConfig]:
    words = shlex.split(command_line(command, arguments))
    assert words[:4] == ["python", "-m", "core", command] and words[4:] == arguments
    args = build_parser().parse_args(words[3:])
    return extract_config_from(args), sweep_config_from(args)


@pytest.mark.parametrize("extract_name", list(EXTRACTS))
@pytest.mark.parametrize("sweep_name", list(SWEEPS))
def test_the_command_parses_back_into_the_same_configs(extract_name, sweep_name):
    extract, sweep = EXTRACTS[extract_name], SWEEPS[sweep_name]
    for command in ("sweep", "layers", "inspect", "remedies"):
        extra = ["--p", "0.5"] if command == "inspect" else []
        assert parsed(command, run_arguments(extract, sweep) + extra) == (extract, sweep)
    assert not names_local_files(extract)


def test_skipped_parameters_are_left_out():
    arguments = run_arguments(DEMO_EXTRACT, SWEEPS["everything changed"], skip=("layer", "norm"))
    assert "--layer" not in arguments and "--normalization" not in arguments and "--p-levels" in arguments


def test_a_local_model_or_file_is_never_in_the_command(tmp_path):
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("text,label\ngood,1\nbad,0\n")
    local = dataclasses.replace(DEMO_EXTRACT, model=ModelSpec(str(tmp_path)), dataset=DatasetSpec("csv", str(reviews)))
    command = command_line("sweep", run_arguments(local, DEMO_SWEEP))
    assert str(tmp_path) not in command and "--model" not in command
    assert f"--dataset-name {hashlib.sha256(reviews.read_bytes()).hexdigest()}" in command  # a CSV goes by content
    assert names_local_files(local)
