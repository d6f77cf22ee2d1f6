"""The offline default on the real bundled model (SmolLM2-135M-Instruct, Rotten Tomatoes
snippets), at a small size: the full path works and finds sentiment where it should."""

from __future__ import annotations

import pytest
import torch

from core.config import ExtractConfig
from core.data.prompts import render_pair
from core.experiments.sweep import run_sweep
from core.extraction.extract import extract
from core.extraction.models import load_model
from core.extraction.runtime import Runtime
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationStore
from core.store.sweeps import SweepStore

pytestmark = pytest.mark.slow


def test_bundled_model_end_to_end_small(bundled_model):
    config = ExtractConfig(n_examples=120, layers=(1, 23))
    store = ActivationStore()
    outcome = extract(config, Runtime(activations=store, device="cpu"))
    acts = store.load(outcome.key)
    assert acts.pos.shape == (2, 120, 576) and acts.labels.sum() == 60
    assert acts.meta["num_hidden_states"] == 31 and acts.meta["model_name"] == "SmolLM2-135M-Instruct"

    # Batched, padded extraction equals running examples one at a time.
    loaded = load_model(config.model, "cpu")
    for i in (0, 57):
        prompt = render_pair(config.template, acts.texts[i])[0]
        ids = loaded.tokenizer(prompt, return_tensors="pt")
        assert loaded.tokenizer.convert_ids_to_tokens(ids["input_ids"][0, -1:].tolist()) == ["Ġpositive"]
        with torch.inference_mode():
            hidden = loaded.model(**ids, output_hidden_states=True).hidden_states[23][0, -1]
        torch.testing.assert_close(acts.layer(23)[0][i], hidden, atol=1e-3, rtol=1e-5)

    sweep = SweepConfig(layer=23, p_levels=(0.5,), n_train=70, n_test=50, seeds=(0, 1, 2))
    table = run_sweep(store.load(outcome.key, layers=[23]), sweep, Runtime(sweeps=SweepStore())).table
    accuracy = table.groupby("method").accuracy.mean()
    # Layer 23 holds sentiment: supervised and CCS well above chance even at this size;
    # the embedding layer (1) of the last token cannot know the review's sentiment.
    assert accuracy["lr_raw"] > 0.7 and accuracy["ccs"] > 0.7, accuracy.to_dict()
    early = run_sweep(
        store.load(outcome.key, layers=[1]), SweepConfig(**{**sweep.__dict__, "layer": 1, "methods": ("lr_raw",)})
    ).table
    assert early.accuracy.mean() < 0.65
