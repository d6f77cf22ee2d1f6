"""Deck files: the default deck parses into its steps and runs; every bad file is one
message naming the deck, the step and the field."""

from __future__ import annotations

import pytest

from core.errors import UserError
from core.settings.presets import DEMO
from core.story.deck import DEFAULT_DECK, MAX_DECK_BYTES, deck_by_name, load_deck, parse_deck
from core.story.registry import STEP_TYPES


def test_the_default_deck_tells_the_demo_story():
    deck = load_deck()
    assert len(deck.steps) >= 8 and {step.type for step in deck.steps} <= set(STEP_TYPES)
    assert deck.steps[0].type == "text" and deck.steps[-1].type == "text"
    runs = deck.runs()
    assert runs[0] == DEMO and runs[1][1].test_normalization == "train"
    # the shipped decks (the demo's story, its remedies, across models) show every kind of view between them
    assert set(STEP_TYPES) <= {
        step.type for name in ("demo", "remedies", "models") for step in deck_by_name(name).steps
    }
    reveals = [step.options["reveal"] for step in deck.steps if "reveal" in step.options]
    assert reveals == sorted(reveals)  # the sweep is revealed level by level
    assert DEFAULT_DECK.name == "demo.toml"


GOOD = """
title = "Mine"
[[steps]]
type = "text"
title = "Hello"
body = "one"
[[steps]]
type = "sweep"
title = "Chart"
methods = ["ccs", "tpc"]
reveal = 0.8
metric = "auroc"
run = { seeds = 3, layer = 12, test_norm = "train" }
"""


def test_a_deck_names_its_runs_as_links_do():
    deck = parse_deck(GOOD)
    step = deck.steps[1]
    extract, sweep = step.configs()
    assert extract == DEMO[0] and sweep.seeds == (0, 1, 2) and sweep.layer == 12
    assert step.options == {"methods": ("ccs", "tpc"), "reveal": 0.8, "metric": "auroc"}


BAD = {
    "not-toml": ("title = ", "not valid TOML"),
    "no-steps": ('title = "x"', "has no steps"),
    "unknown-top-level": ('colour = "red"\n[[steps]]\ntype = "text"\ntitle = "a"', "unknown top-level"),
    "unknown-type": ('[[steps]]\ntype = "video"\ntitle = "a"', "type must be one of"),
    "no-title": ('[[steps]]\ntype = "text"', "needs a title"),
    "title-not-text": ('[[steps]]\ntype = "text"\ntitle = 3', "title must be text"),
    "unknown-field": ('[[steps]]\ntype = "text"\ntitle = "a"\nreveal = 0.5', "unknown field"),
    "run-on-text": ('[[steps]]\ntype = "text"\ntitle = "a"\nrun = { seeds = 2 }', "takes no run"),
    "run-path": (
        '[[steps]]\ntype = "sweep"\ntitle = "a"\nrun = { data = "csv:/etc/passwd::train:text:label:" }',
        "links carry no paths",
    ),
    "run-model-path": ('[[steps]]\ntype = "sweep"\ntitle = "a"\nrun = { model = "/root" }', "links carry no paths"),
    "run-out-of-bounds": ('[[steps]]\ntype = "sweep"\ntitle = "a"\nrun = { seeds = 0 }', "out of bounds"),
    "run-not-a-table": ('[[steps]]\ntype = "sweep"\ntitle = "a"\nrun = "seeds=3"', "table of link parameters"),
    "method-unknown": ('[[steps]]\ntype = "sweep"\ntitle = "a"\nmethods = ["svm"]', "list of methods"),
    "method-not-in-run": (
        '[[steps]]\ntype = "sweep"\ntitle = "a"\nmethods = ["ccs"]\nrun = { methods = "tpc" }',
        "not in the run",
    ),
    "reveal-not-a-fraction": ('[[steps]]\ntype = "sweep"\ntitle = "a"\nreveal = 2', "strictly between"),
    "reveal-below-the-levels": ('[[steps]]\ntype = "sweep"\ntitle = "a"\nreveal = 0.2', "nothing would be drawn"),
    "remedy-unknown": ('[[steps]]\ntype = "remedies"\ntitle = "a"\nremedies = ["median"]', "list of remedies"),
    "remedy-method-not-in-run": ('[[steps]]\ntype = "remedies"\ntitle = "a"\nmethod = "vinc"', "not in the run"),
    "metric-unknown": ('[[steps]]\ntype = "sweep"\ntitle = "a"\nmetric = "f1"', "accuracy, auroc"),
    "theory-not-a-flag": ('[[steps]]\ntype = "sweep"\ntitle = "a"\ntheory = "yes"', "true or false"),
    "compare-without-runs": ('[[steps]]\ntype = "compare"\ntitle = "a"', "needs runs"),
    "compare-one-run": ('[[steps]]\ntype = "compare"\ntitle = "a"\nruns = [{}]', "2 to 8 tables"),
    "compare-run-path": (
        '[[steps]]\ntype = "compare"\ntitle = "a"\nruns = [{}, { model = "/etc" }]',
        "links carry no paths",
    ),
    "compare-labels-count": (
        '[[steps]]\ntype = "compare"\ntitle = "a"\nruns = [{}, { seeds = 3 }]\nlabels = ["x"]',
        "one label a run",
    ),
    "compare-facet": (
        '[[steps]]\ntype = "compare"\ntitle = "a"\nruns = [{}, { seeds = 3 }]\nfacet = "grid"',
        "none, method, run",
    ),
    "layers-without-layers": ('[[steps]]\ntype = "layers"\ntitle = "a"', "needs layers"),
    "layers-repeated": ('[[steps]]\ntype = "layers"\ntitle = "a"\nlayers = [3, 3]', "distinct layers"),
    "layers-negative": ('[[steps]]\ntype = "layers"\ntitle = "a"\nlayers = [3, -1]', "whole number"),
    "inspector-method-not-in-run": (
        '[[steps]]\ntype = "inspector"\ntitle = "a"\nmethod = "ccs"\nrun = { methods = "tpc" }',
        "not in the run",
    ),
    "inspector-seed-not-in-run": (
        '[[steps]]\ntype = "inspector"\ntitle = "a"\nseed = 12\nrun = { seeds = 3 }',
        "not one of the run's seeds",
    ),
    "inspector-example-empty": ('[[steps]]\ntype = "inspector"\ntitle = "a"\nexample = ""', "non-empty text"),
    "models-without-models": ('[[steps]]\ntype = "models"\ntitle = "a"', "needs models"),
    "models-one-model": ('[[steps]]\ntype = "models"\ntitle = "a"\nmodels = ["bundled"]', "2 to 4 models"),
    "models-path": ('[[steps]]\ntype = "models"\ntitle = "a"\nmodels = ["bundled", "/root/m"]', "distinct offline"),
    "models-same-twice": (
        '[[steps]]\ntype = "models"\ntitle = "a"\nmodels = ["bundled", "smollm2-135m"]',
        "distinct offline",
    ),
    "models-dataset-unknown": (
        '[[steps]]\ntype = "models"\ntitle = "a"\nmodels = ["bundled", "gemma3-270m"]\ndatasets = ["imdb"]',
        "bundled data sets",
    ),
    "models-depth-too-deep": (
        '[[steps]]\ntype = "models"\ntitle = "a"\nmodels = ["bundled", "gemma3-270m"]\ndepths = ["120%"]',
        "beyond the last layer",
    ),
    "models-layer-missing-in-one": (
        '[[steps]]\ntype = "models"\ntitle = "a"\nmodels = ["bundled", "gemma3-270m"]\ndepths = [23]',
        "Gemma 3 270M",
    ),
    "mechanism-chart-unknown": ('[[steps]]\ntype = "mechanism"\ntitle = "a"\ncharts = ["pie"]', "centering, variance"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_deck_is_one_message_naming_the_step(case):
    text, message = BAD[case]
    with pytest.raises(UserError, match=message) as error:
        parse_deck(text, "talk.toml")
    assert str(error.value).startswith("talk.toml") and "\n" not in str(error.value)
    if "[[steps]]" in text and case != "unknown-top-level":
        assert "step 1" in str(error.value)


def test_bad_deck_files(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_deck(tmp_path / "missing.toml")
    big = tmp_path / "big.toml"
    big.write_text("#" * (MAX_DECK_BYTES + 1))
    with pytest.raises(UserError, match="short text file"):
        load_deck(big)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00title")
    with pytest.raises(UserError, match="not UTF-8"):
        load_deck(binary)


# TOML values of every kind, put in every field of every step type: each deck is either read,
# or refused with the documented message, naming the deck, the step and the field.
ODD_VALUES = ["[1, 2]", "{ a = 1 }", "1979-05-27T07:32:00Z", "true", "-1", "1e400", '"x"', '[["a"]]', "[{a=1}]", '""',
              "0", "3.5", "[]"]  # fmt: skip
REQUIRED = {
    "runs": '[{ p = "0.5,0.9" }, { p = "0.5,0.8" }]',
    "layers": "[1, 2]",
    "models": '["bundled", "gemma3-270m"]',
}


@pytest.mark.parametrize("kind", list(STEP_TYPES))
def test_any_odd_value_in_any_field_is_the_documented_message(kind):
    spec = STEP_TYPES[kind]
    for name in ("type", "title", "body", "notes", "run", *spec.options):
        for value in ODD_VALUES:
            fields = {"type": f'"{kind}"', "title": '"T"', **{field: REQUIRED[field] for field in spec.required}}
            fields[name] = value
            text = "[[steps]]\n" + "\n".join(f"{key} = {val}" for key, val in fields.items())
            try:
                parse_deck(text, "odd.toml")
            except UserError as error:
                assert str(error).startswith("odd.toml, step 1") and name in str(error), (name, value, str(error))
