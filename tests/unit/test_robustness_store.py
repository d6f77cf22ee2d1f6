"""Store faults: every cache entry checks itself on load, a bad one is set aside and
recomputed (never used), an incomplete one never blocks its key, a listing survives any
entry, and two runs of the same key compute it once. Each test id is a row of
docs/robustness.md."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
import torch

from core.config import CCSConfig, DatasetSpec, ExtractConfig, ModelSpec
from core.experiments.pipeline import run_pipeline
from core.experiments.sweep import run_sweep, sweep_key
from core.extraction.extract import activation_key, extract
from core.extraction.models import load_model
from core.extraction.runtime import Runtime
from core.settings.sweep import SweepConfig
from core.store.activations import ACTIVATIONS_FILE, ActivationStore
from core.store.entries import QUARANTINE, CorruptEntry, key_lock
from core.store.sweeps import SweepStore
from tests.unit.test_store import KEY, write_entry


def flip_byte(path, offset_from_end: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(-offset_from_end, os.SEEK_END)
        byte = handle.read(1)
        handle.seek(-offset_from_end, os.SEEK_END)
        handle.write(bytes([byte[0] ^ 0xFF]))


def assert_set_aside(store) -> None:
    assert not store.has(KEY)
    assert any(p.name.startswith(KEY) for p in (store.root / QUARANTINE).iterdir())


def test_truncated_activation_file_is_detected_and_set_aside(tmp_path):
    store = ActivationStore(tmp_path)
    write_entry(store)
    path = store.path(KEY) / ACTIVATIONS_FILE
    os.truncate(path, path.stat().st_size - 10)
    with pytest.raises(CorruptEntry, match="set aside and will be recomputed"):
        store.load(KEY)
    assert_set_aside(store)


def test_flipped_byte_in_a_layer_is_detected_when_that_layer_is_read(tmp_path):
    store = ActivationStore(tmp_path)
    write_entry(store, layers=(0, 3, 5), n=7, dim=4)
    # The last bytes before the 7 label bytes belong to neg of layer 5 (position 2).
    flip_byte(store.path(KEY) / ACTIVATIONS_FILE, 7 + 3)
    assert store.load(KEY, layers=[0]).pos.shape == (1, 7, 4)  # layer 0 is intact and verified
    with pytest.raises(CorruptEntry, match=r"neg\.2"):
        store.load(KEY, layers=[5])
    assert_set_aside(store)


def test_corrupted_labels_are_detected(tmp_path):
    store = ActivationStore(tmp_path)
    write_entry(store)
    flip_byte(store.path(KEY) / ACTIVATIONS_FILE, 1)
    with pytest.raises(CorruptEntry, match="labels"):
        store.load(KEY, layers=[0])


def test_edited_example_texts_are_detected(tmp_path):
    store = ActivationStore(tmp_path)
    write_entry(store)
    examples = store.path(KEY) / "examples.json"
    examples.write_text(examples.read_text().replace("text 3", "text 9"))
    with pytest.raises(CorruptEntry, match="example texts"):
        store.load(KEY)


def test_tampered_header_is_detected(tmp_path):
    store = ActivationStore(tmp_path)
    write_entry(store)
    path = store.path(KEY) / ACTIVATIONS_FILE
    raw = bytearray(path.read_bytes())
    index = raw.index(b'"F32"')
    raw[index : index + 5] = b'"F16"'
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptEntry, match="header"):
        store.load(KEY)


def test_unreadable_metadata_is_listed_as_damaged_and_set_aside_on_load(tmp_path):
    store = ActivationStore(tmp_path)
    write_entry(store, key=KEY)
    other = "f" * 64
    write_entry(store, key=other)
    (store.path(KEY) / "meta.json").write_text("{not json")
    listing = {row["key"]: row for row in store.entries()}
    assert listing[KEY]["damaged"] and not listing[other].get("damaged")  # one bad entry breaks no listing
    with pytest.raises(CorruptEntry, match="metadata"):
        store.load(KEY)
    assert store.has(other)


def test_entry_without_checksums_from_an_older_version_is_not_used(tmp_path):
    store = ActivationStore(tmp_path)
    write_entry(store)
    meta_path = store.path(KEY) / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta.pop("checksums")
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(CorruptEntry, match="no checksums"):
        store.load(KEY)


def test_entry_without_its_metadata_does_not_block_its_key(tmp_path):
    store = ActivationStore(tmp_path)
    write_entry(store)
    (store.path(KEY) / "meta.json").unlink()
    assert not store.has(KEY)
    pos, _, _ = write_entry(store, seed=5)  # a new extraction of the same key publishes
    assert store.has(KEY) and torch.equal(store.load(KEY).pos, pos)


def test_deleted_activation_file_means_recompute(tmp_path):
    store = ActivationStore(tmp_path)
    write_entry(store)
    (store.path(KEY) / ACTIVATIONS_FILE).unlink()
    assert not store.has(KEY)
    write_entry(store)
    assert store.has(KEY)


def test_delete_refuses_anything_but_a_key(tmp_path):
    from core.errors import UserError

    store = ActivationStore(tmp_path)
    with pytest.raises(UserError, match="not an activation key"):
        store.delete("../../etc")


SWEEP_FAULTS = {
    "sweep-results-edited": lambda folder: (folder / "results.csv").write_text("method,p\nccs,0.5\n"),
    "sweep-probes-deleted": lambda folder: (folder / "probes.safetensors").unlink(),
    "sweep-info-not-json": lambda folder: (folder / "info.json").write_text("{"),
    "sweep-probes-truncated": lambda folder: os.truncate(folder / "probes.safetensors", 100),
}


@pytest.fixture(scope="module")
def small_set():
    from core.analysis.theory import synthetic_pairs

    return synthetic_pairs(300, 8, seed=0).as_activation_set()


@pytest.mark.parametrize("fault", list(SWEEP_FAULTS))
def test_damaged_sweep_result_is_recomputed_and_says_so(fault, small_set, tmp_path):
    store = SweepStore(tmp_path)
    config = SweepConfig(
        layer=0,
        p_levels=(0.5, 0.8),
        n_train=60,
        n_test=60,
        seeds=(0, 1),
        methods=("tpc", "lr_raw"),
        ccs=CCSConfig(epochs=20, restarts=2),
    )
    first = run_sweep(small_set, config, Runtime(sweeps=store))
    key = sweep_key(small_set.key, config)
    SWEEP_FAULTS[fault](store.path(key))
    for part in store.root.iterdir():  # the per-method parts too, so nothing healthy is left to reuse
        if part.name != key and not part.name.startswith("."):
            SWEEP_FAULTS[fault](part)
    notices = []
    again = run_sweep(small_set, config, Runtime(sweeps=store, status=notices.append))
    pd.testing.assert_frame_equal(again.table, first.table)
    assert not again.cached and store.has(key)
    if fault != "sweep-probes-deleted":  # a missing file is simply not an entry
        assert any("set aside and will be recomputed" in notice for notice in notices)
    assert run_sweep(small_set, config, Runtime(sweeps=store)).cached


def tiny_configs(model_dir, csv_path):
    extract_config = ExtractConfig(
        model=ModelSpec(model_id=str(model_dir)), dataset=DatasetSpec(source="csv", name=str(csv_path)), n_examples=40
    )
    sweep = SweepConfig(
        layer=2,
        p_levels=(0.5, 0.75),
        n_train=12,
        n_test=16,
        seeds=(0,),
        methods=("tpc",),
        ccs=CCSConfig(epochs=10, restarts=1),
    )
    return extract_config, sweep


def test_corrupt_activations_are_extracted_again_by_the_pipeline(tiny_llama, sentiment_csv):
    extract_config, sweep = tiny_configs(tiny_llama, sentiment_csv)
    first = run_pipeline(extract_config, sweep, Runtime(device="cpu"))
    store = ActivationStore()
    flip_byte(store.path(first.extraction.key) / ACTIVATIONS_FILE, 50)
    notices = []
    second = run_pipeline(
        extract_config, dataclasses.replace(sweep, seeds=(1,)), Runtime(device="cpu", status=notices.append)
    )
    assert not second.extraction.cached  # recomputed, not used
    assert any("failed its check" in notice for notice in notices)
    assert torch.equal(store.load(first.extraction.key).pos[:, :, :2], store.load(second.extraction.key).pos[:, :, :2])


def test_two_runs_of_the_same_key_compute_it_once(tiny_llama, sentiment_csv):
    extract_config, _ = tiny_configs(tiny_llama, sentiment_csv)
    calls, waits = [], []

    def slow_loader(spec, device, status=None):
        calls.append(spec)
        time.sleep(1.0)
        return load_model(spec, device)

    outcomes = []

    def run():
        outcomes.append(extract(extract_config, Runtime(device="cpu", loader=slow_loader, status=waits.append)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(calls) == 1 and sorted(o.cached for o in outcomes) == [False, True]
    assert any("Another run is extracting" in message for message in waits)


def test_a_lock_file_left_behind_does_not_block(tmp_path):
    (tmp_path / ".locks").mkdir()
    (tmp_path / ".locks" / f"{KEY}.lock").write_text("left by a killed process")
    with key_lock(tmp_path, KEY):
        pass


KILL_SCRIPT = """
import sys, time
from core.config import DatasetSpec, ExtractConfig, ModelSpec
from core.extraction.extract import extract
from core.extraction.runtime import Runtime
config = ExtractConfig(model=ModelSpec(model_id=sys.argv[1]), dataset=DatasetSpec("csv", sys.argv[2]), n_examples=40)
def progress(done, total, message):
    print("writing", flush=True)
    time.sleep(30)
extract(config, Runtime(device="cpu", batch_size=4, extract_progress=progress))
"""


def test_kill_9_during_extraction_leaves_no_entry_and_a_rerun_completes(tiny_llama, sentiment_csv):
    process = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(tiny_llama), str(sentiment_csv)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert process.stdout.readline().strip() == "writing"  # the staging file exists and is being written
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    extract_config, _ = tiny_configs(tiny_llama, sentiment_csv)
    store = ActivationStore()
    key = activation_key(extract_config, "cpu")
    assert not store.has(key) and any(p.name.startswith(".tmp-") for p in store.root.iterdir())
    outcome = extract(extract_config, Runtime(activations=store, device="cpu"))  # the lock died with the process
    assert not outcome.cached and store.load(key).pos.shape[1] == 40
