"""A deck on planted activations, shared by the tests of decks and packs: synthetic hidden
states under the demo's own activation key (a deck names runs as links do, so its runs are
the demo's), with the truth along one direction, so on balanced data every probe finds it
and the answers are known; and a pack rewritten member by member as a forger would, with
every checksum recomputed.
"""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
import xxhash

from core.config import to_jsonable
from core.experiments.sweep import run_sweep
from core.extraction.extract import activation_key, extraction_identity
from core.extraction.models import pick_device
from core.extraction.runtime import Runtime
from core.settings.presets import DEMO
from core.store.activations import ActivationStore
from core.store.sweeps import SweepStore
from core.story.deck import parse_deck
from core.story.pack import pack
from core.story.registry import compute
from core.story.results import Results

LAYERS = (2, 23)
RUN = '{ p = "0.5,0.9", seeds = 2, epochs = 60, restarts = 2, n_train = 100, n_test = 200 }'
DECK = f"""
title = "Planted </script> talk"
[[steps]]
type = "text"
title = "Hello <b>there</b>"
body = "First paragraph.\\n\\nSecond [link](http://x)."
notes = "say hi"
[[steps]]
type = "sweep"
title = "Sweep"
run = {RUN}
reveal = 0.5
[[steps]]
type = "inspector"
title = "One pair"
run = {RUN}
method = "lr_norm"
[[steps]]
type = "mechanism"
title = "Mechanism"
run = {RUN}
[[steps]]
type = "compare"
title = "Own against training statistics"
run = {RUN}
runs = [{{}}, {{ test_norm = "train" }}]
facet = "method"
methods = ["ccs", "tpc"]
[[steps]]
type = "layers"
title = "Layers"
run = {RUN}
layers = [2, 23]
[[steps]]
type = "remedies"
title = "Remedies"
run = {RUN}
method = "lr_norm"
remedies = ["oracle_balanced", "self_balanced"]
[[steps]]
type = "decomposition"
title = "Decomposition"
run = {RUN}
methods = ["lr_norm", "ccs"]
[[steps]]
type = "label_budget"
title = "Label budget"
run = {RUN}
"""


def plant_demo_activations(root: Path, n: int = 1600, d: int = 12, seed: int = 0, config=DEMO[0], layers=LAYERS) -> str:
    """Write synthetic hidden states under the activation key of `config` (the demo's):
    label 1 puts x+ a step along e0 and x- a step against it, plus noise and an
    answer-token offset."""
    key = activation_key(config)
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], n // 2)
    rng.shuffle(labels)
    truth = (2 * labels - 1)[:, None].astype(np.float32)
    store = ActivationStore(root)
    writer = store.begin(key, n, layers, d)
    pos, neg = [], []
    for position in range(len(layers)):
        shared = rng.normal(size=(n, d)).astype(np.float32)
        signal = np.zeros((n, d), dtype=np.float32)
        signal[:, 0] = 1.5 * truth[:, 0] / (position + 1)
        pos.append(shared + signal + rng.normal(scale=0.3, size=(n, d)).astype(np.float32) + 0.8)
        neg.append(shared - signal + rng.normal(scale=0.3, size=(n, d)).astype(np.float32))
    writer.write(np.arange(n), torch.from_numpy(np.stack(pos)), torch.from_numpy(np.stack(neg)))
    identity = extraction_identity(config, pick_device("auto"))
    writer.commit(
        labels,
        [f"review number {i}" for i in range(n)],
        [f"rt-{i}" for i in range(n)],
        {
            "identity": identity,
            "config": to_jsonable(config),
            "key": key,
            "created": time.time(),
            "n": n,
            "layers": list(layers),
            "model_name": "planted",
            "dataset_description": "planted truth along e0",
        },
    )
    return key


def sweep_runner(root: Path):
    """A run_one for core.story.registry.compute: the sweep on the planted activations."""

    def run_one(run):
        extract, sweep = run
        acts = ActivationStore(root).load(activation_key(extract), layers=[sweep.layer])
        return run_sweep(acts, sweep, Runtime(sweeps=SweepStore(root)))

    return run_one


def drop_views(members: dict[str, bytes]) -> None:
    """A forge() change: the pack's measured views left out."""
    for name in [n for n in members if n.startswith("views/")]:
        del members[name]


def forge(source: Path, target: Path, change) -> Path:
    """A copy of the pack `source` whose members `change(members)` edits in place (a dict of
    name -> bytes, the manifest left out), re-signed as a forger would: each run's record
    gets the xxh3 checksums of its files and the manifest the sha256 of every member."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    change(members)
    for name in [n for n in members if n.endswith("info.json")]:
        folder = name.rsplit("/", 1)[0]
        try:
            record = json.loads(members[name])
            record["checksums"] = {
                file: xxhash.xxh3_128_hexdigest(members[f"{folder}/{file}"])
                for file in ("results.csv", "probes.safetensors")
                if f"{folder}/{file}" in members
            }
            members[name] = json.dumps(record).encode()
        except (ValueError, TypeError, KeyError, RecursionError):
            pass  # a record the change made unreadable on purpose stays as it is
    manifest["members"] = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            out.writestr(name, data)
    return target


def compute_planted(root: Path, deck_text: str = DECK, seed: int = 0):
    """(deck, Results) of `deck_text` with every result computed on activations planted in
    the cache `root` (`seed` draws them: another seed is another machine's data under the same
    keys, as a forger would plant it)."""
    plant_demo_activations(root, seed=seed)
    deck = parse_deck(deck_text, "planted.toml")
    results = Results(root)
    compute(deck, results, sweep_runner(root))
    return deck, results


def pack_planted(results: Results, folder: Path, deck_text: str = DECK, name: str = "talk") -> Path:
    """`deck_text` (on runs computed in `results`' cache) packed as folder/NAME.zip."""
    (folder / f"{name}.toml").write_text(deck_text)
    pack(str(folder / f"{name}.toml"), folder / f"{name}.zip", root=results.root)
    return folder / f"{name}.zip"
