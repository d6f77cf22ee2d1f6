"""The activation file (format version 1): hidden states of contrast pairs extracted anywhere
(this lab's `extract` on a GPU cluster, TransformerLens, nnsight, elk), as one safetensors
file that anyone can write without this lab, read here without pickle and checked whole
before anything of it is kept.

Tensors (nothing else):
    pos     [layers, n, d] (or [n, d] for one layer), F32, F16 or BF16: the hidden state of x+
    neg     the same shape and dtype: the hidden state of x-
    labels  [n], an integer or bool dtype, 0/1: 1 where the + completion is the true one
The header's metadata holds, under the key "ccs_lab", a JSON manifest (MANIFEST_SCHEMA):
    format "ccs-lab-activations", version 1, n, hidden_size, layers (the hidden-state index
    of each row of pos: 0 = the embeddings, i = the output of block i), model (id, and
    optionally revision, dtype, num_layers), and optionally texts and ids (n each),
    template, dataset, token_position and extractor (free descriptions).
Every failure is a BadActivationFile of one line naming the file and what is wrong.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from core.errors import UserError
from core.names import file_digest
from core.store.schema import read_json, validate

FORMAT = "ccs-lab-activations"
VERSION = 1
MANIFEST_KEY = "ccs_lab"
TENSORS = ("pos", "neg", "labels")
FLOAT_DTYPES = ("F32", "F16", "BF16")
LABEL_DTYPES = ("BOOL", "U8", "I8", "I16", "I32", "I64")
ITEM_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "F16": 2, "BF16": 2, "I32": 4, "F32": 4, "I64": 8}

# The caps of what an activation file claims to be: a labeled data set of contrast pairs from
# one model, at most 200,000 pairs (twice the most examples an extraction here takes), 256
# hidden states and 16,384 wide (the widest hidden state of a model this lab would load).
MAX_PAIRS = 200_000
MAX_LAYERS = 256
MAX_HIDDEN = 16_384
MAX_FILE_BYTES = 64 * 1024**3
MAX_HEADER_BYTES = 64 * 1024**2  # the manifest with 200,000 texts
MAX_TEXT_CHARS = 20_000
MAX_FIELD_CHARS = 2_000
MIN_PAIRS = 8  # fewer cannot hold a test split and a training draw of both classes

_TEXT = {"type": "string", "maxLength": MAX_FIELD_CHARS}
MANIFEST_SCHEMA = {
    "type": "object",
    "required": ["format", "version", "n", "hidden_size", "layers", "model"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "n": {"type": "integer", "minimum": 0},
        "hidden_size": {"type": "integer", "minimum": 1},
        "layers": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_LAYERS,
            "uniqueItems": True,
            "items": {"type": "integer", "minimum": 0, "maximum": 1_000},
        },
        "model": {
            "type": "object",
            "required": ["id"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "minLength": 1, "maxLength": 400},
                "revision": _TEXT,
                "dtype": _TEXT,
                "num_layers": {"type": "integer", "minimum": 1, "maximum": 1_000},
            },
        },
        "texts": {"type": "array", "maxItems": MAX_PAIRS, "items": {"type": "string", "maxLength": MAX_TEXT_CHARS}},
        "ids": {
            "type": "array",
            "maxItems": MAX_PAIRS,
            "uniqueItems": True,
            "items": {"type": "string", "maxLength": 200},
        },
        "template": _TEXT,
        "dataset": _TEXT,
        "token_position": _TEXT,
        "extractor": _TEXT,
    },
}
_HEADER_ENTRY = {
    "type": "object",
    "required": ["dtype", "shape", "data_offsets"],
    "properties": {
        "dtype": {"type": "string"},
        "shape": {"type": "array", "maxItems": 8, "items": {"type": "integer", "minimum": 0}},
        "data_offsets": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "integer", "minimum": 0}},
    },
}


class BadActivationFile(UserError):
    """An activation file that is not one of format version 1, or breaks one of its caps;
    the message is one line naming the file and what is wrong. Nothing of it was kept."""


@dataclass(frozen=True)
class ActivationFile:
    """An activation file read and checked: `pos` and `neg` float32 [layers, n, d], `labels`
    int8 [n], its manifest, ids ("0".."n-1" when it has none) and texts (its ids when it has
    none), and its file's name and sha256."""

    pos: torch.Tensor
    neg: torch.Tensor
    labels: np.ndarray
    manifest: dict[str, Any]
    texts: tuple[str, ...]
    ids: tuple[str, ...]
    file_name: str
    sha256: str
    dtype: str  # the safetensors dtype its hidden states were written in

    @property
    def layers(self) -> tuple[int, ...]:
        return tuple(self.manifest["layers"])


def _header(path: Path, size: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(tensors, metadata) of the safetensors header of `path`, checked for its layout."""
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise ValueError("it is not a safetensors file (shorter than its header)")
        (length,) = struct.unpack("<Q", head)
        if length > min(MAX_HEADER_BYTES, size - 8):
            raise ValueError("it is not a safetensors file (its header length is out of range)")
        raw = handle.read(length)
    header = read_json(raw, {"type": "object", "additionalProperties": True})
    metadata = header.pop("__metadata__", {}) or {}
    if not isinstance(metadata, dict):
        raise ValueError("its header's metadata is not a table of strings")
    end = 0
    for name, entry in header.items():
        validate(entry, _HEADER_ENTRY)
        if entry["dtype"] not in ITEM_BYTES:
            raise ValueError(f"its tensor {name[:40]!r} has dtype {entry['dtype'][:12]}, not {', '.join(ITEM_BYTES)}")
        begin, stop = entry["data_offsets"]
        if stop - begin != math.prod(entry["shape"]) * ITEM_BYTES[entry["dtype"]]:
            raise ValueError(f"its tensor {name[:40]!r} does not fit its shape")
        end = max(end, stop)
    if 8 + length + end != size:
        raise ValueError(f"it is {size} bytes, and its header describes {8 + length + end}")
    return header, metadata


def _manifest(raw: str) -> dict[str, Any]:
    """The manifest in `raw`, checked against MANIFEST_SCHEMA (a ValueError naming what fails)."""
    try:
        manifest = read_json(raw, {"type": "object"})
        if manifest.get("format") != FORMAT:
            raise ValueError(f"has format {str(manifest.get('format'))[:40]!r}, not {FORMAT!r}")
        if manifest.get("version") != VERSION:
            raise ValueError(f"is version {str(manifest.get('version'))[:12]}; this lab reads version {VERSION}")
        unknown = sorted(set(manifest) - set(MANIFEST_SCHEMA["properties"]))
        if unknown:
            raise ValueError(f"has a field {unknown[0][:40]!r} that format version {VERSION} does not define")
        validate(manifest, MANIFEST_SCHEMA)
    except ValueError as error:
        raise ValueError(f"its manifest {str(error).removeprefix('its manifest ')}") from None
    return manifest


def _check_layout(tensors: dict[str, Any], manifest: dict[str, Any]) -> tuple[int, int, int]:
    """(layers, n, d) from the tensors' dtypes and shapes, checked against each other, the
    manifest and the caps, before any data is read."""
    missing = [name for name in TENSORS if name not in tensors]
    if missing:
        raise ValueError(f"it has no {missing[0]!r} array (it needs {', '.join(TENSORS)})")
    extra = sorted(set(tensors) - set(TENSORS))
    if extra:
        raise ValueError(f"it holds an array {extra[0][:40]!r} besides {', '.join(TENSORS)}")
    pos, neg, labels = (tensors[name] for name in TENSORS)
    for name, entry in (("pos", pos), ("neg", neg)):
        if entry["dtype"] not in FLOAT_DTYPES:
            raise ValueError(f"its {name} array is {entry['dtype']}, not {', '.join(FLOAT_DTYPES)}")
    if labels["dtype"] not in LABEL_DTYPES:
        raise ValueError(f"its labels are {labels['dtype']}, not an integer or bool array")
    if len(pos["shape"]) not in (2, 3):
        raise ValueError(f"its pos array is {list(pos['shape'])}, not [layers, n, d] or [n, d]")
    if neg["shape"] != pos["shape"] or neg["dtype"] != pos["dtype"]:
        raise ValueError(f"its neg array is {neg['dtype']} {neg['shape']}, and pos is {pos['dtype']} {pos['shape']}")
    layers, n, width = [1, *pos["shape"]][-3:]
    if labels["shape"] != [n]:
        raise ValueError(f"its labels are {labels['shape']}, and it has {n} pairs")
    claims = {"n": n, "hidden_size": width, "layers": layers}
    for field, actual in claims.items():
        said = len(manifest[field]) if field == "layers" else manifest[field]
        if said != actual:
            raise ValueError(f"its manifest says {field} {said}, and its arrays hold {actual}")
    for field in ("texts", "ids"):
        if field in manifest and len(manifest[field]) != n:
            raise ValueError(f"its manifest has {len(manifest[field])} {field} for {n} pairs")
    if n > MAX_PAIRS or width > MAX_HIDDEN:
        raise ValueError(f"it holds {n} pairs {width} wide; the caps are {MAX_PAIRS} pairs and {MAX_HIDDEN} wide")
    if n < MIN_PAIRS:
        raise ValueError(f"it holds {n} pairs; a sweep needs at least {MIN_PAIRS}")
    return layers, n, width


def _read_checked(path: Path, layers: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """The arrays of a file whose layout passed, as float32 and int8, with their values
    checked: finite hidden states, labels 0/1 with both present."""
    with safe_open(str(path), framework="pt") as handle:
        labels = handle.get_tensor("labels")
        if not bool(((labels == 0) | (labels == 1)).all()):
            raise ValueError("its labels are not all 0 or 1")
        labels = labels.to(torch.int8).numpy()
        if labels.min() == labels.max():
            raise ValueError(f"every one of its labels is {int(labels[0])}; a sweep needs pairs of both")
        sides = []
        for name in ("pos", "neg"):
            tensor = handle.get_tensor(name).to(torch.float32)
            tensor = tensor.reshape(layers, *tensor.shape[-2:])
            if not bool(torch.isfinite(tensor).all()):
                raise ValueError(f"its {name} array holds NaN or infinite values")
            sides.append(tensor)
    return sides[0], sides[1], labels


def read_activation_file(path: str | Path) -> ActivationFile:
    """The activation file at `path`, checked whole (its layout, its manifest, the caps, then
    its values); a BadActivationFile of one line otherwise."""
    path = Path(path)
    name = path.name[:80]
    try:
        if not path.is_file():
            raise ValueError("there is no such file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"it is {size / 1024**3:.1f} GiB; the cap is {MAX_FILE_BYTES // 1024**3} GiB")
        tensors, metadata = _header(path, size)
        if MANIFEST_KEY not in metadata:
            raise ValueError(f"its header's metadata has no {MANIFEST_KEY!r} manifest (docs: the activation file)")
        manifest = _manifest(metadata[MANIFEST_KEY])
        layers, n, _ = _check_layout(tensors, manifest)
        dtype = tensors["pos"]["dtype"]
        pos, neg, labels = _read_checked(path, layers)
    except ValueError as error:
        raise BadActivationFile(f"{name}: {error}") from None
    except (OSError, SafetensorError) as error:
        raise BadActivationFile(f"{name}: unreadable ({type(error).__name__})") from None
    ids = tuple(manifest.get("ids") or [str(i) for i in range(n)])
    texts = tuple(manifest.get("texts") or ids)  # distinct: a sweep keeps its test and training texts apart
    return ActivationFile(pos, neg, labels, manifest, texts, ids, path.name, file_digest(path), dtype)


def write_activation_file(
    path: str | Path,
    pos: torch.Tensor | np.ndarray,
    neg: torch.Tensor | np.ndarray,
    labels: Sequence[int] | np.ndarray | torch.Tensor,
    *,
    layers: Sequence[int],
    model: str | dict[str, Any],
    texts: Sequence[str] | None = None,
    **manifest: Any,
) -> Path:
    """Write an activation file (format version 1) from [layers, n, d] (or [n, d]) hidden
    states of x+ and x-, 0/1 labels (1 = the + completion is true) and the hidden-state
    index of each layer; `model` is its id or a dict (id, revision, dtype, num_layers);
    `texts` one per pair; `manifest` the other optional fields: ids, template, dataset,
    token_position and extractor. What it
    writes is read back by read_activation_file, and anyone can write it without this lab."""
    pos_t, neg_t = (torch.as_tensor(np.asarray(side) if not torch.is_tensor(side) else side) for side in (pos, neg))
    if pos_t.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        pos_t, neg_t = pos_t.to(torch.float32), neg_t.to(torch.float32)
    if pos_t.ndim == 2:
        pos_t, neg_t = pos_t[None], neg_t[None]
    ids = manifest.pop("ids", None)
    record = {
        "format": FORMAT,
        "version": VERSION,
        "n": int(pos_t.shape[1]),
        "hidden_size": int(pos_t.shape[2]),
        "layers": [int(layer) for layer in layers],
        "model": {"id": model} if isinstance(model, str) else dict(model),
        **({"texts": list(texts)} if texts is not None else {}),
        **({"ids": [str(i) for i in ids]} if ids is not None else {}),
        **manifest,
    }
    tensors = {
        "pos": pos_t.contiguous(),
        "neg": neg_t.to(pos_t.dtype).contiguous(),
        "labels": torch.as_tensor(np.asarray(labels), dtype=torch.int8),
    }
    save_file(tensors, str(path), metadata={MANIFEST_KEY: json.dumps(record)})
    return Path(path)
