"""Shared fixtures: an isolated cache per test, tiny random models built from a config
with a tokenizer trained on the spot, and a small labeled CSV.

Nothing here touches the network or the user's cache.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from core.story.deck import parse_deck
from core.story.results import Results
from tests.planted import DECK, compute_planted, drop_views, forge, pack_planted

POSITIVE_WORDS = ["great", "wonderful", "moving", "funny", "brilliant", "charming", "sharp", "lovely"]
NEGATIVE_WORDS = ["dull", "awful", "tedious", "clumsy", "boring", "messy", "flat", "tired"]
NOUNS = ["film", "movie", "story", "script", "cast", "ending", "score", "plot"]


def sentiment_rows(n: int, seed: int = 0) -> list[tuple[str, int]]:
    """n short reviews, alternating labels, varied lengths (so padding matters)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = i % 2
        words = POSITIVE_WORDS if label else NEGATIVE_WORDS
        extra = " ".join(rng.choice(NOUNS, size=rng.integers(0, 6)))
        rows.append((f"a {rng.choice(words)} {rng.choice(NOUNS)} {extra}".strip(), label))
    return rows


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own empty cache directory."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("CCS_LAB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    return cache


def build_tokenizer(folder: Path):
    """A byte-level BPE tokenizer trained on the test vocabulary (merges exist, so token
    boundaries are not trivially per character)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = [text for text, _ in sentiment_rows(200)] + [
        'Consider the following movie review: "x" The sentiment of this review is positive negative'
    ]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<pad>", "<eos>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="<eos>")
    fast.save_pretrained(folder)
    return fast


def build_tiny_model(folder: Path, architecture: str, layers: int = 2) -> Path:
    """Save a `layers`-layer, hidden-32 random model (Llama: rotary positions; GPT-2:
    absolute positions; Gemma 3: sliding-window and full attention mixed, a window of 4
    tokens so it matters) and its tokenizer to `folder`."""
    from transformers import (
        Gemma3ForCausalLM,
        Gemma3TextConfig,
        GPT2Config,
        GPT2LMHeadModel,
        LlamaConfig,
        LlamaForCausalLM,
    )

    tokenizer = build_tokenizer(folder)
    torch.manual_seed(0)
    if architecture == "gemma3":
        config = Gemma3TextConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=layers,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=8,
            sliding_window=4,
            layer_types=[("full_attention" if i % 3 == 2 else "sliding_attention") for i in range(layers)],
            max_position_embeddings=512,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            bos_token_id=tokenizer.eos_token_id,
        )
        model = Gemma3ForCausalLM(config)
    elif architecture == "llama":
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=layers,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        model = LlamaForCausalLM(config)
    else:
        config = GPT2Config(
            vocab_size=len(tokenizer),
            n_embd=32,
            n_layer=layers,
            n_head=4,
            n_positions=512,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        model = GPT2LMHeadModel(config)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"), "llama")


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-gpt2"), "gpt2")


@pytest.fixture(scope="session")
def deep_tiny_models(tmp_path_factory) -> dict[str, Path]:
    """4-layer tiny models of each architecture, for stopping the forward pass early."""
    return {
        architecture: build_tiny_model(tmp_path_factory.mktemp(f"deep-{architecture}"), architecture, layers=4)
        for architecture in ("llama", "gpt2", "gemma3")
    }


@pytest.fixture
def sentiment_csv(tmp_path) -> Path:
    """A 120-row CSV with `text` and `label` columns, balanced."""
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(sentiment_rows(120))
    return path


@pytest.fixture(scope="session")
def converted_models(tmp_path_factory) -> Path:
    """A models folder shared by the tests of this session that use the bundled model, so
    its GGUF file is converted to safetensors once (about 25 s), not once per test."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def bundled_model(isolated_cache, converted_models) -> None:
    """The test's cache with the session's converted bundled model in it."""
    (isolated_cache / "models").symlink_to(converted_models, target_is_directory=True)


@pytest.fixture(scope="session")
def planted_results(tmp_path_factory) -> Path:
    """A cache holding the planted deck's activations and every result it draws
    (tests.planted), computed once a session: `planted_deck` copies it, nothing writes to it."""
    root = tmp_path_factory.mktemp("planted")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCS_LAB_CACHE", str(root))
        deck, _results = compute_planted(root)
    assert len(deck.runs()) == 5 and sum(step.measured for step in deck.steps) == 3
    return root


@pytest.fixture
def planted_deck(isolated_cache, planted_results):
    """(deck, Results) of the planted deck with every result computed, in the test's own cache."""
    shutil.copytree(planted_results, isolated_cache, dirs_exist_ok=True)
    return parse_deck(DECK, "planted.toml"), Results(isolated_cache)


@pytest.fixture(scope="session")
def forged_planted_pack(tmp_path_factory) -> Path:
    """The planted deck packed on another machine from other data planted under the same keys
    (seed 7), its views left out, so that opening its deck measures them from its sweeps."""
    root = tmp_path_factory.mktemp("forger")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCS_LAB_CACHE", str(root / "cache"))
        _deck, results = compute_planted(root / "cache", seed=7)
        honest = pack_planted(results, root, name="honest")
    return forge(honest, root / "talk.zip", drop_views)
