"""Stored views: the small tables a deck step measures on activations (one pair's verdict
as p grows, the centering statistics), kept under `<cache>/views/<key>.json` so the step
draws, and travels in a pack, without the activations it was measured on.

A view is one JSON file: its identity, its tables (pandas' "split" JSON) and the xxh3 digest of
the tables' canonical JSON (VIEW_SCHEMA). It is written to a temporary file and renamed
into place; a file that fails its check (against VIEW_SCHEMA, its key, its checksum and the
tables its step type measures) is moved to `.quarantine/` and recomputed, like every cache
entry (core.store.entries).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from core.paths import cache_root
from core.store.entries import CorruptEntry, content_key, digest, quarantine
from core.store.schema import HEX_KEY, Table, check_table, read_json

VIEW_SUFFIX = ".json"
# The most a stored view may hold (the demo's are a few kB): a pack's view is refused beyond it.
MAX_VIEW_BYTES = 1024 * 1024
MAX_VIEW_TABLES = 8
# A view file: what it measured (its identity: the step type, its measured options and the
# sweep it was measured from), its tables and their checksum.
VIEW_SCHEMA = {
    "type": "object",
    "required": ["identity", "key", "tables", "checksum"],
    "additionalProperties": False,
    "properties": {
        "identity": {
            "type": "object",
            "required": ["kind", "revision", "type", "options", "sweep"],
            "additionalProperties": False,
            "properties": {
                "kind": {"const": "view"},
                "revision": {"type": "integer"},
                "type": {"type": "string", "maxLength": 40},
                "options": {
                    "type": "object",
                    "maxProperties": 16,
                    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                },
                "sweep": HEX_KEY,
            },
        },
        "key": HEX_KEY,
        "tables": {
            "type": "object",
            "maxProperties": MAX_VIEW_TABLES,
            "additionalProperties": {
                "type": "object",
                "required": ["columns", "data"],
                "additionalProperties": False,
                "properties": {
                    "columns": {"type": "array", "maxItems": 64, "items": {"type": "string", "maxLength": 80}},
                    "data": {"type": "array", "items": {"type": "array", "maxItems": 64}},
                },
            },
        },
        "checksum": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
    },
}


def _payload_digest(tables: dict[str, Any]) -> str:
    return digest(json.dumps(tables, sort_keys=True, separators=(",", ":")).encode("utf-8"))


class ViewStore:
    """Measured step views under `<cache>/views/<key>.json`."""

    def __init__(self, root: Path | None = None):
        self.root = (root or cache_root()) / "views"

    def path(self, key: str) -> Path:
        return self.root / f"{key}{VIEW_SUFFIX}"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def save(self, identity: dict[str, Any], tables: dict[str, pd.DataFrame]) -> str:
        """Store `tables` under the key of `identity`; returns the key."""
        key = content_key(identity)
        columns = {
            name: json.loads(frame.to_json(orient="split", index=False, double_precision=15))
            for name, frame in tables.items()
        }
        self._publish(
            key,
            json.dumps(
                {"identity": identity, "key": key, "tables": columns, "checksum": _payload_digest(columns)}
            ).encode("utf-8"),
        )
        return key

    def _publish(self, key: str, data: bytes) -> None:
        """Write a view file's bytes under `key` atomically (a temporary file renamed into place)."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".tmp-{key[:12]}-", dir=self.root)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(staging, self.path(key))

    @staticmethod
    def read_raw(key: str, data: bytes) -> dict[str, Any]:
        """The view in a view file's bytes, checked against VIEW_SCHEMA, its key and its
        checksum; a one-line ValueError when it is not a whole, untampered view stored under
        `key`."""
        view = read_json(data, VIEW_SCHEMA)
        if view["key"] != key or content_key(view["identity"]) != key:
            raise ValueError("view does not match its key")
        if _payload_digest(view["tables"]) != view["checksum"]:
            raise ValueError("view tables do not match their checksum")
        return view

    @staticmethod
    def view_tables(view: dict[str, Any], schema: dict[str, Table]) -> dict[str, pd.DataFrame]:
        """The tables of a view read by read_raw, each checked against `schema` (the tables
        its step type measures: exactly those, each with its columns and rows); ValueError."""
        if set(view["tables"]) != set(schema):
            raise ValueError(f"its tables are not {', '.join(sorted(schema))}")
        tables = {}
        for name, table in view["tables"].items():
            if any(len(row) != len(table["columns"]) for row in table["data"]):
                raise ValueError(f"a row of its table {name} does not fit its columns")
            tables[name] = pd.DataFrame(table["data"], columns=table["columns"])
            try:
                check_table(tables[name], schema[name])
            except ValueError as error:
                raise ValueError(f"its table {name}: {error}") from None
        return tables

    def load(self, key: str, schema: dict[str, Table]) -> dict[str, pd.DataFrame] | None:
        """The tables stored under `key`, checked against `schema`, or None when there are
        none. A view that fails its check is set aside (CorruptEntry) and will be measured
        again."""
        if not self.has(key):
            return None
        try:
            return self.view_tables(self.read_raw(key, self.path(key).read_bytes()), schema)
        except (OSError, ValueError) as error:
            raise _set_aside(self.root, key, str(error)) from None


def _set_aside(root: Path, key: str, reason: str) -> CorruptEntry:
    """quarantine() for a one-file view: move it into a folder of its own first."""
    folder = root / key
    folder.mkdir(exist_ok=True)
    os.replace(root / f"{key}{VIEW_SUFFIX}", folder / f"view{VIEW_SUFFIX}")
    error = quarantine(root, key, reason[:120])
    return CorruptEntry(str(error).replace("sweep result", "step view"))
