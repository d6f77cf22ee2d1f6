"""The activation store: streaming writes that safetensors reads back, atomic publication,
partial-layer loads, listing and deletion; the sweep store round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from core.errors import UserError
from core.store.activations import ActivationStore
from core.store.entries import content_key
from core.store.sweeps import SweepStore

KEY = content_key({"kind": "test", "n": 1})


def write_entry(store, key=KEY, n=7, layers=(0, 3, 5), dim=4, dtype="float32", seed=0):
    generator = torch.Generator().manual_seed(seed)
    pos = torch.randn(len(layers), n, dim, generator=generator)
    neg = torch.randn(len(layers), n, dim, generator=generator)
    labels = np.array([i % 2 for i in range(n)], dtype=np.int8)
    writer = store.begin(key, n, layers, dim, dtype)
    order = np.array([4, 0, 6, 2, 1, 5, 3])[:n]
    for chunk in np.array_split(order, 3):  # out of order, as length-sorted batches come
        writer.write(chunk, pos[:, chunk], neg[:, chunk])
    writer.commit(
        labels, [f"text {i}" for i in range(n)], [f"id{i}" for i in range(n)], {"layers": list(layers), "created": 1.0}
    )
    return pos, neg, labels


def test_streamed_file_is_valid_safetensors_and_round_trips(tmp_path):
    store = ActivationStore(tmp_path)
    pos, neg, labels = write_entry(store)
    path = store.path(KEY) / "activations.safetensors"
    tensors = load_file(str(path))  # the reference reader accepts the hand-laid header
    assert torch.equal(tensors["pos"], pos) and torch.equal(tensors["neg"], neg)
    assert tensors["labels"].tolist() == labels.tolist()
    with safe_open(str(path), framework="pt") as handle:
        assert handle.metadata()["key"] == KEY
    loaded = store.load(KEY)
    assert loaded.layers == (0, 3, 5) and loaded.texts[2] == "text 2" and loaded.ids[6] == "id6"
    assert torch.equal(loaded.pos, pos) and loaded.labels.tolist() == labels.tolist()


def test_partial_layer_load_reads_only_what_was_asked(tmp_path):
    store = ActivationStore(tmp_path)
    pos, neg, _ = write_entry(store)
    loaded = store.load(KEY, layers=[5, 0])
    assert loaded.layers == (5, 0)
    assert torch.equal(loaded.layer(5)[0], pos[2]) and torch.equal(loaded.layer(0)[1], neg[0])
    with pytest.raises(UserError, match=r"Layer\(s\) \[9\] were not extracted"):
        store.load(KEY, layers=[9])
    with pytest.raises(UserError, match="Layer 3 is not in this activation set"):
        loaded.layer(3)


def test_float16_storage_is_stated_and_close(tmp_path):
    store = ActivationStore(tmp_path)
    pos, _, _ = write_entry(store, dtype="float16")
    with safe_open(str(store.path(KEY) / "activations.safetensors"), framework="pt") as handle:
        assert handle.get_slice("pos").get_dtype() == "F16"
    torch.testing.assert_close(store.load(KEY).pos, pos, atol=2e-3, rtol=1e-3)


def test_aborted_write_leaves_no_entry_and_listing_ignores_staging(tmp_path):
    store = ActivationStore(tmp_path)
    writer = store.begin(KEY, 3, (0,), 2)
    writer.write(np.array([0]), torch.zeros(1, 1, 2), torch.zeros(1, 1, 2))
    assert not store.has(KEY) and store.entries() == []
    writer.abort()
    assert list(store.root.iterdir()) == []


def test_a_second_writer_of_the_same_key_keeps_the_first(tmp_path):
    store = ActivationStore(tmp_path)
    first, _, _ = write_entry(store, seed=0)
    write_entry(store, seed=1)
    assert torch.equal(store.load(KEY).pos, first)
    assert [p.name for p in store.root.iterdir()] == [KEY]


def test_entries_and_delete(tmp_path):
    store = ActivationStore(tmp_path)
    write_entry(store)
    [entry] = store.entries()
    assert entry["key"] == KEY and entry["size_bytes"] > 2 * 3 * 7 * 4 * 4
    with pytest.raises(UserError, match="not an activation key"):
        store.delete("../../etc")
    store.delete(KEY)
    assert not store.has(KEY) and store.entries() == []


def test_missing_key_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="No activation set"):
        ActivationStore(tmp_path).load("0" * 64)


def test_sweep_store_round_trip(tmp_path):
    store = SweepStore(tmp_path)
    table = pd.DataFrame({"method": ["ccs"], "p": [0.6], "accuracy": [0.75]})
    store.save("k" * 64, table, {"w": torch.arange(6.0).reshape(2, 3)}, {"seconds": 1.5})
    loaded_table, tensors, info = store.load("k" * 64)
    pd.testing.assert_frame_equal(loaded_table, table)
    assert torch.equal(tensors["w"], torch.arange(6.0).reshape(2, 3)) and info["seconds"] == 1.5
    assert set(info["checksums"]) == {"results.csv", "probes.safetensors"}
    assert json.loads((store.path("k" * 64) / "info.json").read_text())["seconds"] == 1.5
