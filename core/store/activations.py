"""Activation sets: hidden states of contrast pairs, in memory (ActivationSet) and on disk
under `<cache>/activations/<key>/` (ActivationStore).

Activation files are written while extraction runs: the safetensors header is laid out
first (shapes are known in advance) and each batch is written straight to its place in
the file, so an extraction never holds all hidden states in RAM. Every entry checks
itself: its commit records an xxh3 digest of each stored block (one per layer and side,
the labels, the header, the example texts), and a load verifies the blocks it reads.
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.errors import UserError
from core.paths import cache_root
from core.store.entries import (
    CHECKSUM_NOTE,
    content_key,
    digest,
    error_reason,
    folder_bytes,
    publish,
    quarantine,
    read_exact,
    remove_stale_staging,
)

ACTIVATIONS_FILE = "activations.safetensors"
# A template ensemble's entry holds no hidden states, only which one-template entries it
# stacks (core.extraction.ensembles): each template stays cached, and found, on its own.
ENSEMBLE_FILE = "ensemble.json"
ENSEMBLE_KIND = "template_ensemble"
SAFETENSORS_DTYPES = {"float32": ("F32", np.float32), "float16": ("F16", np.float16)}


@dataclass
class ActivationSet:
    """Hidden states of contrast pairs: `pos` and `neg` are float32 [layers, n, d] for the
    hidden-state indices in `layers`; labels int8 [n], 1 = the + completion is true. A
    template ensemble's are [layers, n, k, d], one slice per name in `templates`."""

    key: str
    pos: torch.Tensor
    neg: torch.Tensor
    labels: np.ndarray
    texts: tuple[str, ...]
    ids: tuple[str, ...]
    layers: tuple[int, ...]
    meta: dict[str, Any]
    companion: ActivationSet | None = None  # the pairs a normalization asks for (core.extraction.companions)
    templates: tuple[str, ...] = ()  # a template ensemble's, in the order of its slices

    def require_one_template(self, what: str) -> None:
        """A UserError naming `what` if this is a template ensemble: an analysis of one
        template's geometry (the mechanism, a projection) has no single set of pairs here."""
        if self.templates:
            raise UserError(
                f"{what} reads the pairs of one template; this set is a template ensemble "
                f"({', '.join(self.templates)}). Run it on one of its templates."
            )

    def layer(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(pos, neg) [n, d] (a template ensemble's [n, k, d]) at hidden-state index `index`."""
        if index not in self.layers:
            raise UserError(f"Layer {index} is not in this activation set (it has {list(self.layers)}).")
        position = self.layers.index(index)
        return self.pos[position], self.neg[position]


def write_safetensors_header(path: Path, tensors: list[tuple[str, str, list[int]]], metadata: dict[str, str]) -> int:
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

    def __init__(
        self, store: ActivationStore, key: str, n: int, layers: tuple[int, ...], hidden_size: int, storage_dtype: str
    ):
        if storage_dtype not in SAFETENSORS_DTYPES:
            raise UserError(f"Unknown storage dtype '{storage_dtype}' (use float32 or float16).")
        code, self.np_dtype = SAFETENSORS_DTYPES[storage_dtype]
        self.store, self.key, self.n, self.layers = store, key, n, layers
        store.root.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=store.root))
        shape = [len(layers), n, hidden_size]
        path = self.staging / ACTIVATIONS_FILE
        start = write_safetensors_header(
            path, [("pos", code, shape), ("neg", code, shape), ("labels", "I8", [n])], {"format": "pt", "key": key}
        )
        self.row_bytes = hidden_size * np.dtype(self.np_dtype).itemsize
        block = len(layers) * n * self.row_bytes
        self.header_bytes = start
        self.starts = {"pos": start, "neg": start + block, "labels": start + 2 * block}
        self.handle = open(path, "r+b")  # noqa: SIM115 - held open across write() calls, closed by commit or abort

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

    def blocks(self) -> dict[str, tuple[int, int]]:
        """(offset, length) of every checksummed block of the file: the header, each layer
        position of each side (`pos.0`, `neg.0`, ...) and the labels."""
        layer_bytes = self.n * self.row_bytes
        blocks = {"header": (0, self.header_bytes), "labels": (self.starts["labels"], self.n)}
        for side in ("pos", "neg"):
            for position in range(len(self.layers)):
                blocks[f"{side}.{position}"] = (self.starts[side] + position * layer_bytes, layer_bytes)
        return blocks

    def commit(self, labels: np.ndarray, texts: list[str], ids: list[str], meta: dict[str, Any]) -> Path:
        """Write labels, examples and metadata, flush, record the checksum of every block
        (read back from disk, so a failed write is caught here), and publish atomically."""
        os.pwrite(self.handle.fileno(), labels.astype(np.int8).tobytes(), self.starts["labels"])
        os.fsync(self.handle.fileno())
        checksums = {
            name: digest(read_exact(self.handle, offset, length)) for name, (offset, length) in self.blocks().items()
        }
        size = os.fstat(self.handle.fileno()).st_size
        self.handle.close()
        examples = json.dumps({"ids": list(ids), "texts": list(texts)}).encode("utf-8")
        (self.staging / "examples.json").write_bytes(examples)
        checksums["examples.json"] = digest(examples)
        meta = {**meta, "checksums": checksums, "file_size": size, "checksum": CHECKSUM_NOTE}
        (self.staging / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
        target = self.store.path(self.key)
        publish(self.staging, target, self.store.has)
        return target

    def abort(self) -> None:
        """Drop the staging folder (an interrupted or failed extraction)."""
        self.handle.close()
        shutil.rmtree(self.staging, ignore_errors=True)


class ActivationStore:
    """Activation sets under `<cache>/activations/<key>/`."""

    def __init__(self, root: Path | None = None):
        self.root = (root or cache_root()) / "activations"

    def path(self, key: str) -> Path:
        return self.root / key

    def has(self, key: str) -> bool:
        """True when a complete entry exists under `key`."""
        folder = self.path(key)
        return (folder / "meta.json").is_file() and (
            (folder / ACTIVATIONS_FILE).is_file() or (folder / ENSEMBLE_FILE).is_file()
        )

    def save_ensemble(self, key: str, identity: dict, meta: dict[str, Any]) -> None:
        """Publish a template ensemble's entry under `key` (= content_key(identity)):
        `identity["members"]` lists [template name, key] of its one-template entries."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=self.root))
        members = json.dumps(identity["members"]).encode("utf-8")
        (staging / ENSEMBLE_FILE).write_bytes(members)
        record = {**meta, "identity": identity, "key": key, "checksums": {ENSEMBLE_FILE: digest(members)}}
        (staging / "meta.json").write_text(json.dumps(record, indent=1, sort_keys=True))
        publish(staging, self.path(key), self.has)

    def _load_ensemble(self, key: str, meta: dict, layers: tuple[int, ...]) -> ActivationSet:
        """A template ensemble's members stacked along a template axis, on the examples all
        of them hold (in the first's order); a ValueError if its record or members disagree."""
        raw = (self.path(key) / ENSEMBLE_FILE).read_bytes()
        if digest(raw) != meta["checksums"][ENSEMBLE_FILE] or content_key(meta["identity"]) != key:
            raise ValueError("its template list does not match its key")
        members = [(str(name), str(member)) for name, member in json.loads(raw)]
        if members != [tuple(m) for m in meta["identity"]["members"]]:
            raise ValueError("its template list does not match its record")
        sets = [self.load(member, list(layers)) for _, member in members]
        shared = set.intersection(*(set(each.ids) for each in sets))
        ids = tuple(i for i in sets[0].ids if i in shared)
        rows = [torch.tensor([each.ids.index(i) for i in ids]) for each in sets]
        labels = sets[0].labels[rows[0].numpy()]
        if any(not np.array_equal(each.labels[r.numpy()], labels) for each, r in zip(sets, rows)):
            raise ValueError("its templates disagree on the labels of the same examples")
        texts = tuple(sets[0].texts[i] for i in rows[0].tolist())
        pos = torch.stack([each.pos[:, r] for each, r in zip(sets, rows)], dim=2)
        neg = torch.stack([each.neg[:, r] for each, r in zip(sets, rows)], dim=2)
        names = tuple(name for name, _ in members)
        return ActivationSet(key, pos, neg, labels, texts, ids, layers, {**meta, "n": len(ids)}, templates=names)

    def meta(self, key: str) -> dict[str, Any]:
        return json.loads((self.path(key) / "meta.json").read_text())

    def begin(
        self, key: str, n: int, layers: tuple[int, ...], hidden_size: int, storage_dtype: str = "float32"
    ) -> ActivationWriter:
        """Start streaming a new entry (see ActivationWriter)."""
        return ActivationWriter(self, key, n, layers, hidden_size, storage_dtype)

    def load(self, key: str, layers: list[int] | None = None) -> ActivationSet:
        """Load an entry as float32, all layers or only `layers` (hidden-state indices);
        only the requested layers are read from disk, and each block read is verified
        against its checksum (CorruptEntry, with the entry quarantined, if one fails)."""
        if not self.has(key):
            raise UserError(f"No activation set with key {key[:12]}… in the cache.")
        try:
            meta = self.meta(key)
            stored = tuple(meta["layers"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise quarantine(self.root, key, f"unreadable metadata: {type(error).__name__}") from None
        wanted = tuple(stored if layers is None else layers)
        missing = [layer for layer in wanted if layer not in stored]
        if missing:
            raise UserError(f"Layer(s) {missing} were not extracted; this set has layers {list(stored)}.")
        if (self.path(key) / ENSEMBLE_FILE).is_file():
            try:
                return self._load_ensemble(key, meta, wanted)
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise quarantine(self.root, key, error_reason(error)) from None
        try:
            pos, neg, labels, examples = self._read_verified(key, meta, [stored.index(layer) for layer in wanted])
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
            raise quarantine(self.root, key, error_reason(error)) from None
        return ActivationSet(key, pos, neg, labels, tuple(examples["texts"]), tuple(examples["ids"]), wanted, meta)

    def _read_verified(self, key: str, meta: dict, positions: list[int]):
        """(pos, neg, labels, examples) of the layer positions asked for, every block
        checked against the digests recorded at commit. Raises ValueError on a mismatch."""
        checksums = meta.get("checksums")
        if not isinstance(checksums, dict):
            raise ValueError("no checksums recorded (made by an older version)")
        if "identity" in meta and content_key(meta["identity"]) != key:
            raise ValueError("metadata does not match its key")
        folder = self.path(key)
        examples_raw = (folder / "examples.json").read_bytes()
        if digest(examples_raw) != checksums.get("examples.json"):
            raise ValueError("example texts do not match their checksum")
        examples = json.loads(examples_raw)
        with open(folder / ACTIVATIONS_FILE, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size != meta.get("file_size"):
                raise ValueError(f"activation file is {size} bytes, {meta.get('file_size')} were written")
            (header_length,) = struct.unpack("<Q", read_exact(handle, 0, 8))
            header_raw = read_exact(handle, 0, 8 + header_length)
            if digest(header_raw) != checksums.get("header"):
                raise ValueError("file header does not match its checksum")
            header = json.loads(header_raw[8:])
            start = 8 + header_length

            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped, memoryview(mapped) as whole:

                def checked(label: str, offset: int, into: torch.Tensor, dtype) -> None:
                    """Verify the block `label` in the mapped file and copy it into `into`."""
                    length = into.numel() * np.dtype(dtype).itemsize
                    with whole[offset : offset + length] as raw:
                        if len(raw) != length:
                            raise ValueError(f"file ends inside block {label}")
                        if digest(raw) != checksums.get(label):
                            raise ValueError(f"block {label} does not match its checksum")
                        into.numpy()[...] = np.frombuffer(raw, dtype=dtype).reshape(into.shape)

                def side(name: str) -> torch.Tensor:
                    entry = header[name]
                    stored = {"F32": np.float32, "F16": np.float16}[entry["dtype"]]
                    out = torch.empty((len(positions), *entry["shape"][1:]), dtype=torch.float32)
                    for row, index in enumerate(positions):
                        offset = start + entry["data_offsets"][0] + index * out[row].numel() * np.dtype(stored).itemsize
                        checked(f"{name}.{index}", offset, out[row], stored)
                    return out

                pos, neg = side("pos"), side("neg")
                label_tensor = torch.empty(header["labels"]["shape"], dtype=torch.int8)
                checked("labels", start + header["labels"]["data_offsets"][0], label_tensor, np.int8)
                labels = label_tensor.numpy()
        if len(labels) != len(examples["texts"]) or pos.shape[1] != len(labels):
            raise ValueError("labels, texts and hidden states disagree in length")
        return pos, neg, labels, examples

    def entries(self) -> list[dict[str, Any]]:
        """Metadata of every complete entry, newest first, with `key` and `size_bytes`.
        Stale staging folders of interrupted writes (older than a day) are removed."""
        if not self.root.is_dir():
            return []
        remove_stale_staging(self.root)
        rows = []
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or not self.has(folder.name):
                continue
            try:
                meta = self.meta(folder.name)
                if not isinstance(meta, dict) or not isinstance(meta.get("layers"), list):
                    raise ValueError("not an entry")
            except (OSError, ValueError):
                meta = {"damaged": True, "layers": [], "n": 0, "created": 0}
            rows.append({**meta, "key": folder.name, "size_bytes": folder_bytes(folder)})
        return sorted(
            rows,
            key=lambda row: row.get("created", 0) if isinstance(row.get("created"), (int, float)) else 0,
            reverse=True,
        )

    def delete(self, key: str) -> None:
        """Remove one entry (only ever on the user's explicit request)."""
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise UserError(f"'{key}' is not an activation key.")
        shutil.rmtree(self.path(key), ignore_errors=True)
