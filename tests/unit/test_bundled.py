"""The offline data sets (core.data.bundled): every entry loads, balanced or as the source has
it, with its own template; the generated statements are true exactly when labelled so,
reproducible, and named by the CLI, links and the Data page."""

from __future__ import annotations

import re

import pytest
from num2words import num2words

from core.config import BUNDLED, DatasetSpec, ExtractConfig
from core.data.bundled import BUNDLED_DATASETS, bundled_set
from core.data.loaders import load_dataset
from core.data.prompts import validate_template
from core.errors import UserError
from core.settings.links import extract_from_params, extract_to_params
from core.settings.validate import check_extract

NUMBERS = {num2words(n): n for n in range(200)}


def value(words: str) -> int:
    return NUMBERS[words.lower()]


@pytest.mark.parametrize("name", list(BUNDLED_DATASETS))
def test_every_bundled_set_loads_with_both_classes_and_a_valid_template(name):
    data = load_dataset(DatasetSpec(BUNDLED, name))
    negatives, positives = data.class_counts()
    assert negatives >= 1000 and positives >= 1000 and len(set(data.ids)) == len(data)
    validate_template(BUNDLED_DATASETS[name].template)


@pytest.mark.parametrize(
    "name, pattern, truth",
    [
        ("larger_than", r"(.+) is larger than (.+)\.", lambda a, b: a > b),
        ("larger_than_negated", r"(.+) is not larger than (.+)\.", lambda a, b: not a > b),
    ],
)
def test_comparisons_are_true_exactly_when_labelled_so(name, pattern, truth):
    data = bundled_set(name).load()
    assert data.class_counts() == (1000, 1000)
    for text, label in zip(data.texts, data.labels):
        a, b = re.fullmatch(pattern, text).groups()
        assert truth(value(a), value(b)) == bool(label), text


@pytest.mark.parametrize("name, negated", [("sums", False), ("sums_negated", True)])
def test_sums_are_true_exactly_when_labelled_so(name, negated):
    data = bundled_set(name).load()
    relation = "is not" if negated else "is"
    for text, label in zip(data.texts, data.labels):
        a, b, total = re.fullmatch(rf"(.+) plus (.+) {relation} (.+)\.", text).groups()
        assert ((value(a) + value(b) == value(total)) != negated) == bool(label), text


def test_generated_sets_are_reproducible():
    assert bundled_set("sums").load().texts == bundled_set("sums").load().texts


def test_an_unknown_bundled_name_is_one_error_and_links_carry_the_name():
    with pytest.raises(UserError, match="Unknown bundled dataset"):
        check_extract(ExtractConfig(dataset=DatasetSpec(BUNDLED, "../etc/passwd")))
    config = ExtractConfig(
        dataset=DatasetSpec(BUNDLED, "larger_than"), template=BUNDLED_DATASETS["larger_than"].template
    )
    assert extract_from_params(extract_to_params(config)) == config
    with pytest.raises(UserError, match="Unknown bundled dataset"):
        extract_from_params({"data": "bundled:nope:::text:label:"})


def test_the_cli_picks_a_bundled_set_with_its_template_unless_told_otherwise():
    from core.__main__ import build_parser
    from core.cli.arguments import extract_config_from

    args = build_parser().parse_args(["extract", "--dataset", "bundled", "--dataset-name", "sums"])
    config = extract_config_from(args)
    assert config.dataset == DatasetSpec(BUNDLED, "sums") and config.template == BUNDLED_DATASETS["sums"].template
    args = build_parser().parse_args(
        ["extract", "--dataset", "bundled", "--dataset-name", "sums", "--positive", " yes"]
    )
    assert extract_config_from(args).template.positive == " yes"
    assert extract_config_from(build_parser().parse_args(["extract"])) == ExtractConfig()
