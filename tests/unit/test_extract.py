"""Extraction on tiny random models built from a config: batched equals one at a time,
the cache short-circuits the model, and bad layer requests are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.config import DatasetSpec, ExtractConfig, ModelSpec
from core.data.prompts import render_pair
from core.errors import UserError
from core.extraction.extract import activation_key, extract
from core.extraction.forward import left_pad
from core.extraction.models import load_model
from core.extraction.runtime import Runtime
from core.store.activations import ActivationStore


def config_for(model_dir, csv_path, **changes) -> ExtractConfig:
    dataset = DatasetSpec(source="csv", name=str(csv_path))
    return ExtractConfig(model=ModelSpec(model_id=str(model_dir)), dataset=dataset, **{"n_examples": 40, **changes})


def test_left_pad_counts_positions_over_real_tokens():
    batch = left_pad([[5, 6, 7], [8]], pad=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [0, 0, 8]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [0, 0, 1]]
    assert batch["position_ids"].tolist() == [[0, 1, 2], [0, 0, 0]]


@pytest.mark.parametrize("architecture", ["tiny_llama", "tiny_gpt2"])
def test_batched_extraction_equals_one_example_at_a_time(architecture, sentiment_csv, request):
    model_dir = request.getfixturevalue(architecture)
    config = config_for(model_dir, sentiment_csv)
    store = ActivationStore()
    outcome = extract(config, Runtime(activations=store, device="cpu", batch_size=8))
    acts = store.load(outcome.key)
    loaded = load_model(config.model, "cpu")
    assert acts.layers == tuple(range(3)) and acts.pos.shape == (3, 40, 32)
    lengths = set()
    for i, text in enumerate(acts.texts):
        for side, prompt in enumerate(render_pair(config.template, text)):
            ids = loaded.tokenizer(prompt, return_tensors="pt")
            lengths.add(ids["input_ids"].shape[1])
            with torch.inference_mode():
                hidden = loaded.model(**ids, output_hidden_states=True).hidden_states
            expected = torch.stack([h[0, -1] for h in hidden])
            stored = (acts.pos if side == 0 else acts.neg)[:, i]
            torch.testing.assert_close(stored, expected, atol=1e-4, rtol=0)
    assert len(lengths) > 3, "the test data must need padding"


def test_labels_and_texts_line_up_with_the_source(sentiment_csv, tiny_llama):
    import pandas as pd

    source = pd.read_csv(sentiment_csv)
    store = ActivationStore()
    acts = store.load(extract(config_for(tiny_llama, sentiment_csv), Runtime(activations=store, device="cpu")).key)
    truth = dict(zip(source["text"], source["label"]))
    assert all(truth[text] == label for text, label in zip(acts.texts, acts.labels))
    assert acts.labels.sum() == 20 and len(set(acts.ids)) == 40


def test_second_request_is_a_cache_hit_that_never_loads_the_model(sentiment_csv, tiny_llama):
    config = config_for(tiny_llama, sentiment_csv, layers=(2,))
    calls = []
    first = extract(
        config, Runtime(device="cpu", extract_progress=lambda done, total, msg: calls.append((done, total)))
    )
    assert not first.cached and calls[0][0] == 0 and calls[-1][0] == calls[-1][1] > 40

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded on a cache hit")

    second = extract(config, Runtime(device="cpu", loader=refuse))
    assert second.cached and second.key == first.key == activation_key(config, "cpu")
    assert ActivationStore().load(first.key).layers == (2,)


def test_csv_key_follows_content_not_file_name(sentiment_csv, tiny_llama, tmp_path):
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(sentiment_csv.read_bytes())
    original = activation_key(config_for(tiny_llama, sentiment_csv), "cpu")
    assert activation_key(config_for(tiny_llama, copy), "cpu") == original
    copy.write_bytes(sentiment_csv.read_bytes() + b"an extra row,1\n")
    assert activation_key(config_for(tiny_llama, copy), "cpu") != original


def test_keys_follow_every_input_that_changes_the_numbers(sentiment_csv, tiny_llama):
    base = config_for(tiny_llama, sentiment_csv)
    keys = {
        activation_key(c, "cpu")
        for c in [
            base,
            config_for(tiny_llama, sentiment_csv, n_examples=42),
            config_for(tiny_llama, sentiment_csv, layers=(1,)),
            config_for(tiny_llama, sentiment_csv, storage_dtype="float16"),
            config_for(tiny_llama, sentiment_csv, selection_seed=1),
        ]
    }
    assert len(keys) == 5


def test_bad_layers_and_missing_models_are_user_errors(sentiment_csv, tiny_llama, tmp_path):
    with pytest.raises(UserError, match=r"Layer\(s\) \[7\] do not exist"):
        extract(config_for(tiny_llama, sentiment_csv, layers=(7,)), Runtime(device="cpu"))
    with pytest.raises(UserError, match="Could not load model"):
        load_model(ModelSpec(model_id="no-such-org/no-such-model"), "cpu")
    assert ActivationStore().entries() == []


def test_float16_storage_matches_float32_closely(sentiment_csv, tiny_llama):
    store = ActivationStore()
    full = store.load(extract(config_for(tiny_llama, sentiment_csv), Runtime(activations=store, device="cpu")).key)
    half = store.load(
        extract(
            config_for(tiny_llama, sentiment_csv, storage_dtype="float16"), Runtime(activations=store, device="cpu")
        ).key
    )
    assert half.meta["identity"]["storage_dtype"] == "float16"
    torch.testing.assert_close(half.pos, full.pos, atol=5e-3, rtol=2e-3)
    assert np.array_equal(half.labels, full.labels)
