"""The offline models' registry, layers named by depth, and the forward pass that stops at
the deepest layer asked for (its hidden states equal the full forward's)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.config import ModelSpec, Template
from core.data.prompts import render_pair
from core.errors import UserError
from core.experiments.grid import parse_grid
from core.extraction.forward import (
    fits_window,
    pair_states,
    pair_states_plain,
    pair_states_shared_prefix,
    sliding_window,
    stopping_at,
    tokenize,
)
from core.extraction.models import load_model, model_identity
from core.models import OFFLINE_MODELS, gemma3, model_label, offline_model, offline_model_id
from core.models import install as installing
from core.models.depth import depth_label, is_depth, resolve_layer
from core.models.known import known_hidden_states
from core.settings.links import run_from_params
from core.story.deck import parse_deck
from tests.conftest import sentiment_rows

GEMMA = OFFLINE_MODELS["gemma3-270m"]


def test_registry_holds_both_models_with_their_shapes():
    assert set(OFFLINE_MODELS) == {"bundled", "gemma3-270m"}
    smol = OFFLINE_MODELS["bundled"]
    assert (smol.hidden_states, smol.hidden_size, smol.default) == (31, 576, True)
    assert (GEMMA.hidden_states, GEMMA.hidden_size, GEMMA.default, GEMMA.accept_license) == (19, 640, False, True)
    assert [m.default for m in OFFLINE_MODELS.values()].count(True) == 1
    assert offline_model_id("smollm2-135m") == "bundled" and offline_model_id("gemma3-270m") == "gemma3-270m"
    assert offline_model_id("HuggingFaceTB/SmolLM2-135M") is None
    assert model_label("gemma3-270m") == "Gemma 3 270M" and model_label("owner/some-model") == "some-model"
    with pytest.raises(UserError, match="bundled, gemma3-270m"):
        offline_model("gpt-5")


def test_the_default_model_keeps_its_cache_identity():
    # Activation keys made before there were two models stay the same.
    identity = model_identity(ModelSpec(), torch.device("cpu"))
    assert identity == {
        "model_id": "bundled",
        "name": "SmolLM2-135M-Instruct",
        "gguf_sha256": OFFLINE_MODELS["bundled"].gguf_sha256,
        "dtype": "float32",
    }
    assert model_identity(ModelSpec("gemma3-270m"), torch.device("cpu"))["gguf_sha256"] == GEMMA.gguf_sha256


@pytest.mark.parametrize(
    ("value", "hidden_states", "layer"),
    [
        ("75%", 31, 23),  # the demo's layer
        ("75%", 19, 14),
        ("middle", 31, 15),
        ("middle", 19, 9),
        ("last", 31, 30),
        ("LAST", 19, 18),
        ("0%", 19, 0),
        ("100%", 19, 18),
        ("12.5%", 9, 1),
        ("23", None, 23),
        (7, None, 7),
    ],
)
def test_depths_resolve_to_the_nearest_layer(value, hidden_states, layer):
    assert resolve_layer(value, hidden_states) == layer


@pytest.mark.parametrize("value", ["deep", "75", "-3%", "1e2%", "", "75 %x", None, 2.5])
def test_what_is_not_a_layer_is_one_line(value):
    if value == "75":  # digits are an index
        assert resolve_layer(value, None) == 75
        return
    with pytest.raises(UserError, match="neither a hidden-state index nor a depth"):
        resolve_layer(value, 31)


def test_depth_limits_and_unknown_depths():
    with pytest.raises(UserError, match="beyond the last layer"):
        resolve_layer("150%", 31)
    with pytest.raises(UserError, match="not known before it is loaded"):
        resolve_layer("75%", None, "owner/model")
    assert is_depth("150%") and is_depth("middle") and not is_depth("23") and not is_depth(23)
    assert depth_label(14, 19) == "layer 14 of 18 (78%)"


def test_links_and_grids_place_depths_in_each_model():
    extract, sweep = run_from_params({"model": "gemma3-270m", "layer": "75%"})
    assert extract.model.model_id == "gemma3-270m" and sweep.layer == 14
    extract, sweep = run_from_params({"model": "smollm2-135m", "layer": "middle"})
    assert extract.model.model_id == "bundled" and sweep.layer == 15
    with pytest.raises(UserError, match="Link parameter 'layer'"):
        run_from_params({"layer": "200%"})
    grid = parse_grid(
        'models = ["smollm2-135m", "gemma3-270m"]\nlayers = ["middle", "75%"]\nmethods = ["lr_norm"]\n'
        'run = { p = "0.5", seeds = 2 }\n[[datasets]]\nname = "larger_than"\n'
    )
    smol, gemma = grid.extractions
    assert (smol.model, smol.layers, smol.depths) == ("SmolLM2-135M-Instruct", (15, 23), ((15, "middle"), (23, "75%")))
    assert (gemma.model, gemma.layers, gemma.depths) == ("Gemma 3 270M", (9, 14), ((9, "middle"), (14, "75%")))
    grid = parse_grid('models = ["bundled"]\nlayers = ["75%", 23, 2]\n[[datasets]]\nname = "larger_than"\n')
    assert grid.extractions[0].layers == (23, 2) and grid.extractions[0].depths == ((23, "75%"),)
    assert any("both layer 23" in note for note in grid.notes)  # 75% and 23 are one layer of SmolLM2
    with pytest.raises(UserError, match="Gemma 3 270M"):
        parse_grid('models = ["gemma3-270m"]\nlayers = [23]\n[[datasets]]\nname = "larger_than"\n')


def test_the_across_models_step_draws_what_a_grid_computes():
    deck = parse_deck(
        '[[steps]]\ntype = "models"\ntitle = "Across models"\nmodels = ["smollm2-135m", "gemma3-270m"]\n'
        'datasets = ["larger_than", "tweet_snippets"]\ndepths = ["middle", "75%"]\n'
        'run = { p = "0.5,0.95", seeds = "5", n = "1000", n_train = "300", n_test = "400" }\n'
    )
    runs = deck.steps[0].runs()
    assert len(runs) == 2 * 2 * 2 and {sweep.layer for _, sweep in runs} == {15, 23, 9, 14}
    grid = parse_grid(
        'models = ["bundled", "gemma3-270m"]\nlayers = ["middle", "75%"]\n'
        'run = { p = "0.5,0.95", seeds = 5, n = 1000, n_train = 300, n_test = 400 }\n'
        '[[datasets]]\nname = "larger_than"\n[[datasets]]\nname = "tweet_snippets"\n'
    )
    from_grid = {(e.config, sweep) for e in grid.extractions for sweep in grid.sweeps(e.layers)}
    assert set(runs) == from_grid  # the same configs, so the same cache keys


def test_a_depth_on_the_command_line_is_resolved_and_printed(tmp_path):
    # --help-free check of the parsing path: a bad depth is one line, a good one is printed.
    command = [sys.executable, "-m", "core", "sweep", "--layer", "150%"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parents[2], check=False)
    assert done.returncode != 0 and done.stderr.strip().splitlines() == [
        "error: Depth 150% is beyond the last layer (use 0% to 100%)."
    ]


def test_an_opt_in_model_is_not_installed_without_accepting_its_license(monkeypatch):
    def no_pip(*args, **kwargs):
        raise AssertionError("pip must not run")

    monkeypatch.setattr(installing.subprocess, "run", no_pip)
    with pytest.raises(UserError, match=r"Gemma Terms of Use .*--install-model gemma3-270m --accept-license"):
        installing.install_model("gemma3-270m")


def test_an_opt_in_model_that_is_not_installed_is_one_line_naming_the_command(monkeypatch):
    monkeypatch.setattr(gemma3, "PACKAGE", "no_such_package_here")
    with pytest.raises(UserError, match=r"^Gemma 3 270M is not installed\. .*make setup-gemma"):
        load_model(ModelSpec("gemma3-270m"), "cpu")


def _pairs(loaded, count: int = 10):
    texts = [text for text, _ in sentiment_rows(count)]
    ids = tokenize(loaded.tokenizer, [side for text in texts for side in render_pair(Template(), text)])
    return [(ids[2 * k], ids[2 * k + 1]) for k in range(count)]


@pytest.mark.parametrize("architecture", ["llama", "gpt2", "gemma3"])
def test_stopping_early_gives_the_full_forwards_states(architecture, deep_tiny_models):
    loaded = load_model(ModelSpec(model_id=str(deep_tiny_models[architecture])), "cpu")
    pairs = _pairs(loaded)
    every = list(range(loaded.num_hidden_states))  # 0..4: the last is after the final norm
    full_pos, full_neg = pair_states(loaded, pairs, every)
    for deepest in range(1, loaded.num_hidden_states):
        wanted = sorted({0, deepest // 2, deepest})
        pos, neg = pair_states(loaded, pairs, wanted)  # prefix-shared and cut at `deepest`
        torch.testing.assert_close(pos, full_pos[wanted], atol=1e-5, rtol=0)
        torch.testing.assert_close(neg, full_neg[wanted], atol=1e-5, rtol=0)
        with stopping_at(loaded, deepest):
            plain_pos, _ = pair_states_plain(loaded, pairs, wanted)
        torch.testing.assert_close(plain_pos, full_pos[wanted], atol=1e-5, rtol=0)
    # The model is whole again afterwards, and its head cache was kept per depth.
    blocks = loaded.model.layers if hasattr(loaded.model, "layers") else loaded.model.h
    assert len(blocks) == loaded.num_hidden_states - 1
    again_pos, _ = pair_states(loaded, pairs, every)
    torch.testing.assert_close(again_pos, full_pos, atol=1e-5, rtol=0)


def test_a_batch_longer_than_the_attention_window_runs_in_full(deep_tiny_models):
    # The tiny Gemma's window is 4 tokens: the shared-prefix passes, whose cache holds
    # padding and the masked x+ slot, would see other tokens than a full run does.
    loaded = load_model(ModelSpec(model_id=str(deep_tiny_models["gemma3"])), "cpu")
    pairs, layers = _pairs(loaded), list(range(loaded.num_hidden_states))
    assert sliding_window(loaded) == 4 and not fits_window(loaded, pairs)
    torch.testing.assert_close(pair_states(loaded, pairs, layers), pair_states_plain(loaded, pairs, layers))
    shared_pos, _ = pair_states_shared_prefix(loaded, pairs, layers)
    assert (shared_pos - pair_states_plain(loaded, pairs, layers)[0]).abs().max() > 0.1  # why it must not share


def test_stopping_early_runs_fewer_blocks(deep_tiny_models):
    loaded = load_model(ModelSpec(model_id=str(deep_tiny_models["llama"])), "cpu")
    ran = []
    hooks = [block.register_forward_hook(lambda *_: ran.append(1)) for block in loaded.model.layers]
    pairs = _pairs(loaded, 4)
    pair_states(loaded, pairs, [2])
    cut = len(ran)
    ran.clear()
    pair_states(loaded, pairs, [4])
    for hook in hooks:
        hook.remove()
    assert cut * 2 == len(ran)  # two of four blocks, in every pass


@pytest.mark.slow
def test_gemma_loads_offline_with_its_shape_and_stops_early(bundled_model):
    if not GEMMA.installed:
        pytest.skip("Gemma 3 270M is opt-in and not installed here (make setup-gemma)")
    loaded = load_model(ModelSpec(model_id="gemma3-270m"), "cpu")
    assert (loaded.num_hidden_states, loaded.hidden_size, loaded.name) == (19, 640, "gemma-3-270m")
    assert known_hidden_states(ModelSpec("gemma3-270m")) == 19
    pairs = _pairs(loaded, 6)
    full_pos, full_neg = pair_states(loaded, pairs, list(range(19)))
    pos, neg = pair_states(loaded, pairs, [9, 14])
    torch.testing.assert_close(pos, full_pos[[9, 14]], atol=1e-3, rtol=1e-5)
    torch.testing.assert_close(neg, full_neg[[9, 14]], atol=1e-3, rtol=1e-5)
