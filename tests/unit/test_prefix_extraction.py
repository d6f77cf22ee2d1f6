"""Prefix-shared extraction equals running x+ and x- in full, on tiny random models, with
one- and several-token completions; an out-of-memory batch is split and retried."""

from __future__ import annotations

import pytest
import torch

from core.config import DatasetSpec, ExtractConfig, ModelSpec, Template
from core.data.prompts import render_pair
from core.extraction import extract as extraction
from core.extraction.forward import pair_states_plain, pair_states_shared_prefix, shared_prefix_length, tokenize
from core.extraction.models import load_model
from core.extraction.runtime import Runtime
from core.store.activations import ActivationStore
from tests.conftest import sentiment_rows

TEMPLATES = [
    Template(),
    Template(prompt="Review: {text}\nIs it positive? Answer:", positive=" yes it is", negative=" no"),
]


def test_shared_prefix_length_keeps_a_token_on_each_side():
    assert shared_prefix_length([1, 2, 3, 4], [1, 2, 3, 5]) == 3
    assert shared_prefix_length([1, 2, 3], [1, 2, 3, 4]) == 2
    assert shared_prefix_length([7, 2], [8, 2]) == 0


@pytest.mark.parametrize("architecture", ["tiny_llama", "tiny_gpt2"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_shared_prefix_states_equal_full_runs(architecture, template, request):
    loaded = load_model(ModelSpec(model_id=str(request.getfixturevalue(architecture))), "cpu")
    assert loaded.causal
    texts = [text for text, _ in sentiment_rows(12)]
    ids = tokenize(loaded.tokenizer, [side for text in texts for side in render_pair(template, text)])
    pairs = [(ids[2 * k], ids[2 * k + 1]) for k in range(len(texts))]
    assert len({len(p) for p, _ in pairs}) > 2  # padding is exercised
    one_token = all(len(p) - shared_prefix_length(p, n) == 1 == len(n) - shared_prefix_length(p, n) for p, n in pairs)
    assert one_token == (template == TEMPLATES[0])  # both the two-pass and the three-pass route run
    layers = list(range(loaded.num_hidden_states))
    plain_pos, plain_neg = pair_states_plain(loaded, pairs, layers)
    shared_pos, shared_neg = pair_states_shared_prefix(loaded, pairs, layers)
    torch.testing.assert_close(shared_pos, plain_pos, atol=1e-4, rtol=0)
    torch.testing.assert_close(shared_neg, plain_neg, atol=1e-4, rtol=0)


def test_out_of_memory_halves_the_batch_and_keeps_every_pair(tiny_llama, sentiment_csv, monkeypatch):
    real = extraction.pair_states
    tried, done, messages = [], [], []

    def picky(loaded, pairs, layers):
        tried.append(len(pairs))
        if len(pairs) > 3:
            raise torch.OutOfMemoryError("simulated")
        done.append(len(pairs))
        return real(loaded, pairs, layers)

    monkeypatch.setattr(extraction, "pair_states", picky)
    config = ExtractConfig(
        model=ModelSpec(model_id=str(tiny_llama)), dataset=DatasetSpec("csv", str(sentiment_csv)), n_examples=20
    )
    store = ActivationStore()
    outcome = extraction.extract(
        config, Runtime(activations=store, device="cpu", batch_size=16, status=messages.append)
    )
    acts = store.load(outcome.key)
    assert tried[:2] == [8, 4] and max(done) <= 3 and sum(done) == 20
    assert any("retrying with 4" in m for m in messages) and any("retrying with 2" in m for m in messages)
    assert torch.isfinite(acts.pos).all() and acts.pos.abs().sum(-1).min() > 0  # every row written
