"""Companion sets on a tiny random model (core.extraction.companions): the negated questions are the
same examples row for row with flipped labels and the same states as extracting the
negated template directly; content-free pairs are the template with empty texts; both
are extracted once, keyed by their set and recipe, and attached where a sweep reads them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core.config import DatasetSpec, ExtractConfig, ModelSpec
from core.data.prompts import render_pair
from core.errors import UserError
from core.experiments.pipeline import run_pipeline
from core.extraction.companions import companion_key, ensure_companion, with_companion
from core.extraction.extract import extract
from core.extraction.forward import pair_states, tokenize
from core.extraction.models import load_model
from core.extraction.runtime import Runtime
from core.normalizations.content_free import CONTENT_FREE_TEXTS
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationStore


@pytest.fixture
def extracted(tiny_llama, sentiment_csv):
    config = ExtractConfig(
        model=ModelSpec(model_id=str(tiny_llama)),
        dataset=DatasetSpec("csv", str(sentiment_csv)),
        n_examples=40,
        layers=(1, 2),
    )
    store = ActivationStore()
    return config, store, extract(config, Runtime(activations=store, device="cpu")).key


def sweep(normalization: str, **changes) -> SweepConfig:
    return SweepConfig(
        **{
            "layer": 2,
            "p_levels": (0.5, 0.75),
            "n_train": 12,
            "n_test": 12,
            "seeds": (0,),
            "methods": ("tpc", "lr_norm"),
            "normalization": normalization,
            **changes,
        }
    )


def test_negated_pairs_are_the_same_examples_asked_the_other_way(extracted, tiny_llama):
    config, store, key = extracted
    ensure_companion(key, sweep("negation_pooled"), Runtime(activations=store, device="cpu"))
    acts = with_companion(store, store.load(key, layers=[2]), sweep("negation_pooled"))
    negated = acts.companion
    assert negated.texts == acts.texts and np.array_equal(negated.labels, 1 - acts.labels)
    assert negated.meta["companion"] == {"of": key, "kind": "negated", "prompt": config.template.prompt + " not"}
    loaded = load_model(config.model, torch.device("cpu"))
    template = dataclasses.replace(config.template, prompt=config.template.prompt + " not")
    ids = tokenize(loaded.tokenizer, [t for text in acts.texts[:3] for t in render_pair(template, text)])
    pos, neg = pair_states(loaded, [(ids[2 * k], ids[2 * k + 1]) for k in range(3)], [2])
    torch.testing.assert_close(negated.layer(2)[0][:3], pos[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(negated.layer(2)[1][:3], neg[0], atol=1e-5, rtol=1e-4)


def test_content_free_pairs_fill_the_template_with_empty_texts(extracted):
    _, store, key = extracted
    ensure_companion(key, sweep("content_free"), Runtime(activations=store, device="cpu"))
    free = with_companion(store, store.load(key, layers=[1, 2]), sweep("content_free")).companion
    assert free.texts == CONTENT_FREE_TEXTS and free.layers == (1, 2) and free.pos.shape[1] == len(CONTENT_FREE_TEXTS)


def test_a_companion_is_extracted_once_and_keyed_by_its_recipe(extracted):
    config, store, key = extracted
    ensure_companion(key, sweep("negation_pooled"), Runtime(activations=store, device="cpu"))

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded for a cached companion")

    ensure_companion(key, sweep("negation_pooled"), Runtime(activations=store, device="cpu", loader=refuse))
    ensure_companion(key, sweep("mean"), Runtime(activations=store, device="cpu", loader=refuse))
    default = companion_key(key, config.template, sweep("negation_pooled"))
    other = companion_key(key, config.template, sweep("negation_pooled", negated_prompt='Not "{text}"?'))
    assert default != other and companion_key(key, config.template, sweep("mean")) is None
    with pytest.raises(UserError, match="not been extracted"):
        with_companion(store, store.load(key, layers=[2]), sweep("negation_pooled", negated_prompt='Not "{text}"?'))


def test_the_pipeline_extracts_what_a_remedy_needs_and_sweeps_with_it(tiny_llama, sentiment_csv):
    config = ExtractConfig(
        model=ModelSpec(model_id=str(tiny_llama)),
        dataset=DatasetSpec("csv", str(sentiment_csv)),
        n_examples=40,
        layers=(2,),
    )
    for normalization in ("negation_pooled", "content_free", "self_balanced", "oracle_balanced"):
        run = run_pipeline(config, sweep(normalization), Runtime(device="cpu"))
        table = run.sweep.table
        assert set(table.normalization) == {normalization} and len(table) == 4
        assert table[["accuracy", "auroc", "accuracy_calibrated", "ece"]].notna().all().all()
        again = run_pipeline(config, sweep(normalization), Runtime(device="cpu", loader=None))
        assert again.sweep.cached


def test_a_damaged_companion_is_set_aside_and_extracted_again_by_the_pipeline(tiny_llama, sentiment_csv):
    from core.store.activations import ACTIVATIONS_FILE
    from tests.unit.test_robustness_store import flip_byte

    config = ExtractConfig(
        model=ModelSpec(model_id=str(tiny_llama)),
        dataset=DatasetSpec("csv", str(sentiment_csv)),
        n_examples=40,
        layers=(2,),
    )
    first = run_pipeline(config, sweep("negation_pooled"), Runtime(device="cpu"))
    store = ActivationStore()
    key = companion_key(first.extraction.key, config.template, sweep("negation_pooled"))
    before = store.load(key).pos.clone()
    flip_byte(store.path(key) / ACTIVATIONS_FILE, 50)
    notices = []
    again = run_pipeline(config, sweep("negation_pooled", seeds=(1,)), Runtime(device="cpu", status=notices.append))
    assert any("failed its check" in notice for notice in notices)
    assert torch.equal(store.load(key).pos, before) and len(again.sweep.table) == 4


@pytest.mark.parametrize(
    "params, message",
    [
        ({"norm": "median"}, "norm"),
        ({"norm": "negation_pooled", "negated": "no slot here"}, "negated prompt"),
        ({"norm": "negation_pooled", "negated": "{text} and {text}"}, "negated prompt"),
        ({"norm": "negation_pooled", "negated": "{text}" + "x" * 5000}, "negated prompt"),
    ],
    ids=["norm-unknown", "negated-no-slot", "negated-two-slots", "negated-too-long"],
)
def test_a_link_with_an_unknown_normalization_or_a_bad_negated_prompt_is_one_error(params, message):
    from core.settings.links import sweep_from_params

    with pytest.raises(UserError, match=message):
        sweep_from_params(params)


def test_a_negated_prompt_travels_in_links_and_keys_only_when_set():
    from core.config import canonical_json
    from core.settings.links import sweep_from_params, sweep_to_params

    custom = sweep("negation_pooled", negated_prompt='Is "{text}" not')
    assert sweep_from_params(sweep_to_params(custom), base=sweep("mean")) == custom
    assert "negated_prompt" not in canonical_json(sweep("negation_pooled"))
    assert "negated_prompt" in canonical_json(custom)
