"""A safetensors file checked while it streams, never held whole: its header is read first
(the names, dtypes and shapes of its tensors, and where each lies), which fixes the file's
exact size, and the few small tensors a caller asks for are kept as they pass. A file from
another machine is refused as soon as it turns out longer than its header says.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable

import numpy as np

from core.store.schema import read_json

MAX_HEADER_BYTES = 1024 * 1024
ITEM_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F16": 2, "BF16": 2, "I16": 2, "F32": 4, "I32": 4, "F64": 8, "I64": 8}
NUMPY_DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4"}
HEADER_SCHEMA = {
    "type": "object",
    "properties": {"__metadata__": {"type": "object", "additionalProperties": {"type": "string"}}},
    "additionalProperties": {
        "type": "object",
        "required": ["dtype", "shape", "data_offsets"],
        "additionalProperties": False,
        "properties": {
            "dtype": {"enum": list(ITEM_BYTES)},
            "shape": {"type": "array", "maxItems": 4, "items": {"type": "integer", "minimum": 0}},
            "data_offsets": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "integer", "minimum": 0}},
        },
    },
}

Layout = dict[str, tuple[str, tuple[int, ...]]]


class TensorStream:
    """Feed a safetensors file's bytes in blocks (`update`), then `finish`. Once the header
    has passed, `check(layout)` is called with every tensor's (dtype, shape) and returns the
    names of the tensors to keep; `finish` returns those, as numpy arrays. A ValueError of one
    line at the first thing that is not a well-formed file of that layout."""

    def __init__(self, check: Callable[[Layout], tuple[str, ...]]):
        self.check = check
        self.head = bytearray()
        self.size: int | None = None  # the file's exact size, once the header is read
        self.seen = 0
        self.wanted: dict[str, tuple[int, int]] = {}  # name -> (start, end) in the file
        self.kept: dict[str, bytearray] = {}
        self.layout: Layout = {}

    def update(self, block: bytes) -> None:
        start, self.seen = self.seen, self.seen + len(block)
        if self.size is None:
            self.head += block
            if not self._read_header():
                return
            block, start, self.head = bytes(self.head), 0, bytearray()  # all so far, now the header says what to keep
        if self.seen > self.size:
            raise ValueError(f"it is longer than its header says ({self.size} bytes)")
        for name, (first, end) in self.wanted.items():
            low, high = max(first, start), min(end, self.seen)
            if low < high:
                self.kept[name] += block[low - start : high - start]

    def _read_header(self) -> bool:
        """Read the header once it has all arrived (False until then)."""
        if len(self.head) < 8:
            return False
        (length,) = struct.unpack("<Q", self.head[:8])
        if length > MAX_HEADER_BYTES:
            raise ValueError(f"its header is over {MAX_HEADER_BYTES // 1024} KB")
        if len(self.head) < 8 + length:
            return False
        header = read_json(bytes(self.head[8 : 8 + length]), HEADER_SCHEMA)
        header.pop("__metadata__", None)
        spans, data_start = [], 8 + length
        for name, entry in header.items():
            begin, end = entry["data_offsets"]
            if end - begin != int(np.prod(entry["shape"], dtype=np.int64)) * ITEM_BYTES[entry["dtype"]]:
                raise ValueError(f"its tensor {name[:60]!r} does not fit its shape")
            spans.append((begin, end))
            self.layout[name] = (entry["dtype"], tuple(entry["shape"]))
        spans.sort()
        if any(a[1] != b[0] for a, b in itertools.pairwise(spans)) or (spans and spans[0][0] != 0):
            raise ValueError("its tensors do not lie one after another")
        self.size = data_start + (spans[-1][1] if spans else 0)
        for name in self.check(self.layout):
            begin, end = header[name]["data_offsets"]
            self.wanted[name] = (data_start + begin, data_start + end)
            self.kept[name] = bytearray()
        return True

    def finish(self) -> dict[str, np.ndarray]:
        """The kept tensors; a ValueError if the file ended early."""
        if self.size is None or self.seen != self.size:
            raise ValueError("it ends before its header says it does")
        arrays = {}
        for name, data in self.kept.items():
            dtype, shape = self.layout[name]
            if dtype not in NUMPY_DTYPES:
                raise ValueError(f"its tensor {name[:60]!r} is {dtype}")
            arrays[name] = np.frombuffer(bytes(data), dtype=NUMPY_DTYPES[dtype]).reshape(shape)
        return arrays
