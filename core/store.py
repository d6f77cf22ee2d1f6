"""Content-addressed caches: activation sets and sweep results, keyed by the sha256 of
the canonical JSON of what produced them.

Nothing here is pickled. Tensors are safetensors, everything else is JSON or CSV.
Every entry is written into a temporary folder and renamed into place in one step,
so a crash or a concurrent writer never leaves a half-written entry under a key.

Activation files are written while extraction runs: the safetensors header is laid out
first (shapes are known in advance) and each batch is written straight to its place in
the file, so an extraction never holds all hidden states in RAM.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from core.config import config_hash
from core.errors import UserError
from core.paths import cache_root

ACTIVATIONS_FILE = "activations.safetensors"
SAFETENSORS_DTYPES = {"float32": ("F32", np.float32), "float16": ("F16", np.float16)}
STALE_TEMP_SECONDS = 24 * 3600


def content_key(identity: dict[str, Any]) -> str:
    """The cache key of anything: sha256 of its canonical JSON."""
    return config_hash(identity)


def _publish(staging: Path, target: Path) -> None:
    """Rename a finished staging folder to its key; if another writer got there first,
    keep theirs (same key, same content) and drop ours."""
    try:
        staging.rename(target)
    except OSError:
        if not target.exists():
            raise
        shutil.rmtree(staging, ignore_errors=True)


def _sweep_stale_temps(root: Path) -> None:
    now = time.time()
    for path in root.glob(".tmp-*"):
        try:
            if now - path.stat().st_mtime > STALE_TEMP_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


@dataclass
class ActivationSet:
    """Hidden states of contrast pairs: `pos` and `neg` are float32 [layers, n, d] for the
    hidden-state indices in `layers`; labels int8 [n], 1 = the + completion is true."""

    key: str
    pos: torch.Tensor
    neg: torch.Tensor
    labels: np.ndarray
    texts: tuple[str, ...]
    ids: tuple[str, ...]
    layers: tuple[int, ...]
    meta: dict[str, Any]

    def layer(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(pos, neg) [n, d] at hidden-state index `index`."""
        if index not in self.layers:
            raise UserError(f"Layer {index} is not in this activation set (it has {list(self.layers)}).")
        position = self.layers.index(index)
        return self.pos[position], self.neg[position]


def write_safetensors_header(path: Path, tensors: list[tuple[str, str, list[int]]],
                             metadata: dict[str, str]) -> int:
    """Create a safetensors file of the right size with its header for `tensors`
    (name, safetensors dtype, shape), data zero-filled; return where the data starts.
    The layout follows the format spec: u64 header length, JSON header padded with
    spaces to 8 bytes, then each tensor's bytes back to back in header order."""
    itemsize = {"F32": 4, "F16": 2, "I8": 1}
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for name, dtype, shape in tensors:
        size = int(np.prod(shape)) * itemsize[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(raw)))
        handle.write(raw)
        handle.truncate(8 + len(raw) + offset)
    return 8 + len(raw)


class ActivationWriter:
    """Streams one extraction into a staging folder; `commit` publishes it under its key.

    Rows go to their place in the file with positioned writes (os.pwrite), not a memory
    map: mapped pages would count as the process's resident memory until the kernel
    drops them, and a 20,000-example extraction would look like it holds gigabytes."""

    def __init__(self, store: "ActivationStore", key: str, n: int, layers: tuple[int, ...], hidden_size: int,
                 storage_dtype: str):
        if storage_dtype not in SAFETENSORS_DTYPES:
            raise UserError(f"Unknown storage dtype '{storage_dtype}' (use float32 or float16).")
        code, self.np_dtype = SAFETENSORS_DTYPES[storage_dtype]
        self.store, self.key, self.n, self.layers = store, key, n, layers
        store.root.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=store.root))
        shape = [len(layers), n, hidden_size]
        path = self.staging / ACTIVATIONS_FILE
        start = write_safetensors_header(path, [("pos", code, shape), ("neg", code, shape), ("labels", "I8", [n])],
                                         {"format": "pt", "key": key})
        self.row_bytes = hidden_size * np.dtype(self.np_dtype).itemsize
        block = len(layers) * n * self.row_bytes
        self.starts = {"pos": start, "neg": start + block, "labels": start + 2 * block}
        self.handle = open(path, "r+b")

    def _put(self, side: str, rows: np.ndarray, states: torch.Tensor) -> None:
        values = states.to(torch.float32).cpu().numpy().astype(self.np_dtype, copy=False)
        for layer in range(values.shape[0]):
            for column, row in enumerate(rows):
                offset = self.starts[side] + (layer * self.n + int(row)) * self.row_bytes
                os.pwrite(self.handle.fileno(), values[layer, column].tobytes(), offset)

    def write(self, rows: np.ndarray, pos: torch.Tensor, neg: torch.Tensor) -> None:
        """Store hidden states [layers, len(rows), d] of x+ and x- for examples `rows`."""
        self._put("pos", rows, pos)
        self._put("neg", rows, neg)

    def commit(self, labels: np.ndarray, texts: list[str], ids: list[str], meta: dict[str, Any]) -> Path:
        """Write labels, examples and metadata, flush, and publish atomically."""
        os.pwrite(self.handle.fileno(), labels.astype(np.int8).tobytes(), self.starts["labels"])
        os.fsync(self.handle.fileno())
        self.handle.close()
        (self.staging / "examples.json").write_text(json.dumps({"ids": list(ids), "texts": list(texts)}))
        (self.staging / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
        target = self.store.path(self.key)
        _publish(self.staging, target)
        return target

    def abort(self) -> None:
        """Drop the staging folder (an interrupted or failed extraction)."""
        self.handle.close()
        shutil.rmtree(self.staging, ignore_errors=True)


class ActivationStore:
    """Activation sets under <cache>/activations/<key>/."""

    def __init__(self, root: Path | None = None):
        self.root = (root or cache_root()) / "activations"

    def path(self, key: str) -> Path:
        return self.root / key

    def has(self, key: str) -> bool:
        """True when a complete entry exists under `key`."""
        folder = self.path(key)
        return (folder / "meta.json").is_file() and (folder / ACTIVATIONS_FILE).is_file()

    def meta(self, key: str) -> dict[str, Any]:
        return json.loads((self.path(key) / "meta.json").read_text())

    def begin(self, key: str, n: int, layers: tuple[int, ...], hidden_size: int,
              storage_dtype: str = "float32") -> ActivationWriter:
        """Start streaming a new entry (see ActivationWriter)."""
        return ActivationWriter(self, key, n, layers, hidden_size, storage_dtype)

    def load(self, key: str, layers: list[int] | None = None) -> ActivationSet:
        """Load an entry as float32, all layers or only `layers` (hidden-state indices);
        only the requested layers are read from disk."""
        if not self.has(key):
            raise UserError(f"No activation set with key {key[:12]}… in {self.root}.")
        meta = self.meta(key)
        stored = tuple(meta["layers"])
        wanted = tuple(stored if layers is None else layers)
        missing = [layer for layer in wanted if layer not in stored]
        if missing:
            raise UserError(f"Layer(s) {missing} were not extracted; this set has layers {list(stored)}.")
        positions = [stored.index(layer) for layer in wanted]
        with safe_open(str(self.path(key) / ACTIVATIONS_FILE), framework="pt") as handle:
            pos_slice, neg_slice = handle.get_slice("pos"), handle.get_slice("neg")
            pos = torch.stack([pos_slice[i].to(torch.float32) for i in positions])
            neg = torch.stack([neg_slice[i].to(torch.float32) for i in positions])
            labels = handle.get_tensor("labels").numpy().astype(np.int8)
        examples = json.loads((self.path(key) / "examples.json").read_text())
        return ActivationSet(key, pos, neg, labels, tuple(examples["texts"]), tuple(examples["ids"]), wanted, meta)

    def entries(self) -> list[dict[str, Any]]:
        """Metadata of every complete entry, newest first, with `key` and `size_bytes`.
        Stale staging folders of interrupted writes (older than a day) are removed."""
        if not self.root.is_dir():
            return []
        _sweep_stale_temps(self.root)
        rows = []
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or not self.has(folder.name):
                continue
            meta = self.meta(folder.name)
            rows.append({**meta, "key": folder.name, "size_bytes": _folder_bytes(folder)})
        return sorted(rows, key=lambda row: row.get("created", 0), reverse=True)

    def delete(self, key: str) -> None:
        """Remove one entry (only ever on the user's explicit request)."""
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise UserError(f"'{key}' is not an activation key.")
        shutil.rmtree(self.path(key), ignore_errors=True)


class SweepStore:
    """Sweep results under <cache>/sweeps/<key>/: results.csv, probes.safetensors,
    config.json. A sweep is a pure function of (activation key, sweep config)."""

    def __init__(self, root: Path | None = None):
        self.root = (root or cache_root()) / "sweeps"

    def path(self, key: str) -> Path:
        return self.root / key

    def has(self, key: str) -> bool:
        return (self.path(key) / "results.csv").is_file()

    def save(self, key: str, table: pd.DataFrame, tensors: dict[str, torch.Tensor], info: dict[str, Any]) -> Path:
        """Publish a sweep's table, probe tensors and info atomically under `key`."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=self.root))
        try:
            table.to_csv(staging / "results.csv", index=False)
            save_file({name: t.contiguous() for name, t in tensors.items()}, str(staging / "probes.safetensors"))
            (staging / "info.json").write_text(json.dumps(info, indent=1, sort_keys=True))
            _publish(staging, self.path(key))
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return self.path(key)

    def load(self, key: str) -> tuple[pd.DataFrame, dict[str, torch.Tensor], dict[str, Any]]:
        """(table, probe tensors, info) of a saved sweep."""
        folder = self.path(key)
        table = pd.read_csv(folder / "results.csv")
        tensors = load_file(str(folder / "probes.safetensors"))
        info = json.loads((folder / "info.json").read_text())
        return table, tensors, info


def environment_info() -> dict[str, str]:
    """Library versions recorded in every entry's metadata."""
    import transformers

    from core import __version__

    return {"ccs_lab": __version__, "torch": torch.__version__, "transformers": transformers.__version__}
