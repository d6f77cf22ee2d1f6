"""Activation sets imported from activation files (core.store.activation_files), kept apart
from what this machine extracted: each import unpacks into a folder of its own,
`<cache>/imported-activations/<import id>/`, with the set (an ActivationStore), every sweep
trained on it (a SweepStore) and import.json (the file's name and sha256, when it was
imported). No lookup of this machine's own results reads there, an imported set's key is
made from its file's sha256 (so it never claims the key of a local extraction), and removing
an import removes its folder: the set and everything derived from it.

An import's id is its file's name and the first 8 hex digits of its sha256
(`llama7b-layers-1a2b3c4d`); the same file imports once.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import UserError
from core.names import file_digest
from core.paths import cache_root
from core.store.activation_files import FORMAT, VERSION, ActivationFile, read_activation_file
from core.store.activations import ActivationSet, ActivationStore
from core.store.entries import content_key
from core.store.imports import pack_id
from core.store.schema import HEX_KEY, read_json
from core.store.sweeps import SweepStore

IMPORTED_ACTIVATIONS = "imported-activations"
RECORD = "import.json"
IMPORT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}-[0-9a-f]{8}")
RECORD_SCHEMA = {
    "type": "object",
    "required": ["key", "file_name", "sha256", "imported", "model", "n", "layers"],
    "properties": {
        "key": HEX_KEY,
        "file_name": {"type": "string", "maxLength": 400},
        "sha256": HEX_KEY,
        "imported": {"type": "number"},
        "model": {"type": "string", "maxLength": 400},
        "n": {"type": "integer", "minimum": 0},
        "layers": {"type": "array", "items": {"type": "integer"}},
    },
}


@dataclass(frozen=True)
class ImportedActivations:
    """One imported activation set: its id, the key of its set, where it came from (the
    file's name and sha256, when it was imported), its model, size and layers, and its folder."""

    id: str
    key: str
    file_name: str
    sha256: str
    imported: float
    model: str
    n: int
    layers: tuple[int, ...]
    folder: Path

    @property
    def activations(self) -> ActivationStore:
        return ActivationStore(self.folder)

    @property
    def sweeps(self) -> SweepStore:
        """Where the sweeps trained on it are kept: in its own folder, never the local store."""
        return SweepStore(self.folder)

    def origin(self) -> str:
        """Where it came from, as the command line and the dashboard say it."""
        return f"imported from {self.file_name}, {time.strftime('%Y-%m-%d', time.localtime(self.imported))}"

    def load(self, layers: list[int] | None = None) -> ActivationSet:
        """The set, all its layers or only `layers` (checked against the checksums of its import)."""
        return self.activations.load(self.key, layers)


def imported_activations_folder(root: Path | None = None) -> Path:
    return (root or cache_root()) / IMPORTED_ACTIVATIONS


def imported_key(sha256: str) -> str:
    """The key of the set imported from the file of `sha256`: never the key of an extraction,
    whose identity holds a model and a data set, not a file."""
    return content_key({"imported_activation_file": sha256, "format": FORMAT, "version": VERSION})


def _read_record(folder: Path) -> ImportedActivations:
    try:
        record = read_json((folder / RECORD).read_bytes(), RECORD_SCHEMA)
    except (OSError, ValueError):
        raise UserError(f"The imported activations {folder.name} have an unreadable record; remove them.") from None
    return ImportedActivations(
        folder.name,
        record["key"],
        record["file_name"],
        record["sha256"],
        float(record["imported"]),
        record["model"],
        int(record["n"]),
        tuple(record["layers"]),
        folder,
    )


def imported_sets(root: Path | None = None) -> list[ImportedActivations]:
    """Every imported activation set with a readable record, newest first."""
    folder = imported_activations_folder(root)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if IMPORT_ID.fullmatch(path.name) and (path / RECORD).is_file():
            try:
                found.append(_read_record(path))
            except UserError:
                continue
    return sorted(found, key=lambda each: each.imported, reverse=True)


def imported_set(identifier: str, root: Path | None = None) -> ImportedActivations:
    """The imported set `identifier` (an import id, never a path), or a UserError of one line."""
    if not isinstance(identifier, str) or not IMPORT_ID.fullmatch(identifier):
        raise UserError(
            f"{str(identifier)[:80]!r} is not an import id (a name and 8 hex digits, as "
            "`python -m core import-activations` lists)."
        )
    folder = imported_activations_folder(root) / identifier
    if not (folder / RECORD).is_file():
        raise UserError(
            f"There are no imported activations {identifier!r}; `python -m core import-activations` lists them."
        )
    return _read_record(folder)


def origin_of(acts: ActivationSet) -> dict[str, Any] | None:
    """Where an activation set came from when it was imported (its meta's origin), else None."""
    origin = acts.meta.get("origin")
    return origin if isinstance(origin, dict) else None


def _meta(file: ActivationFile, identifier: str, imported: float) -> dict[str, Any]:
    manifest = {k: v for k, v in file.manifest.items() if k not in ("texts", "ids")}
    return {
        "layers": list(file.layers),
        "n": len(file.labels),
        "hidden_size": int(file.pos.shape[-1]),
        "model_name": manifest["model"]["id"],
        "dataset_description": manifest.get("dataset") or f"activation file {file.file_name}",
        "manifest": manifest,
        "origin": {"kind": "activation file", "id": identifier, "file_name": file.file_name, "sha256": file.sha256},
        "created": imported,
    }


def import_activation_file(path: str | Path, root: Path | None = None) -> tuple[ImportedActivations, bool]:
    """Import the activation file at `path`: checked whole first (a BadActivationFile of one
    line, and nothing written), then stored in a folder of its own. Returns the import and
    whether it was there already (the same file, by sha256)."""
    path = Path(path)
    if path.is_file():
        identifier = pack_id(path.name, file_digest(path))
        existing = imported_activations_folder(root) / identifier
        if (existing / RECORD).is_file():
            return _read_record(existing), True
    file = read_activation_file(path)
    identifier = pack_id(file.file_name, file.sha256)
    parent = imported_activations_folder(root)
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{identifier}-", dir=parent))
    try:
        key, imported = imported_key(file.sha256), time.time()
        n, width = len(file.labels), int(file.pos.shape[-1])
        storage = "float16" if file.dtype == "F16" else "float32"  # F16 kept exactly; BF16 would overflow F16
        writer = ActivationStore(staging).begin(key, n, file.layers, width, storage)
        try:
            for start in range(0, n, 1024):
                stop = min(n, start + 1024)
                writer.write(np.arange(start, stop), file.pos[:, start:stop], file.neg[:, start:stop])
            writer.commit(file.labels, list(file.texts), list(file.ids), _meta(file, identifier, imported))
        except BaseException:
            writer.abort()
            raise
        record = {
            "key": key,
            "file_name": file.file_name,
            "sha256": file.sha256,
            "imported": imported,
            "model": file.manifest["model"]["id"],
            "n": n,
            "layers": list(file.layers),
        }
        (staging / RECORD).write_text(json.dumps(record, indent=1))
        target = parent / identifier
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _read_record(target), False


def remove_imported_set(identifier: str, root: Path | None = None) -> ImportedActivations:
    """Remove an imported set: its folder, with every sweep trained on it, and nothing else."""
    found = imported_set(identifier, root)
    shutil.rmtree(found.folder)
    return found
