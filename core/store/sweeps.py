"""Sweep results under `<cache>/sweeps/<key>/`: the table (results.csv), every cell's probe
(probes.safetensors) and the record (info.json, with the checksums of the other two).
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save_file

from core.paths import cache_root
from core.store.entries import digest, error_reason, file_digest, publish, quarantine

SWEEP_FILES = ("results.csv", "probes.safetensors")


class SweepStore:
    """Sweep results under `<cache>/sweeps/<key>/`: results.csv, probes.safetensors,
    config.json. A sweep is a pure function of (activation key, sweep config)."""

    def __init__(self, root: Path | None = None):
        self.root = (root or cache_root()) / "sweeps"

    def path(self, key: str) -> Path:
        return self.root / key

    def has(self, key: str) -> bool:
        """True when every file of an entry exists under `key` (a load verifies them)."""
        folder = self.path(key)
        return all((folder / name).is_file() for name in (*SWEEP_FILES, "info.json"))

    def save(self, key: str, table: pd.DataFrame, tensors: dict[str, torch.Tensor], info: dict[str, Any]) -> Path:
        """Publish a sweep's table, probe tensors and info (with the checksums of the
        other two files) atomically under `key`."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=self.root))
        try:
            table.to_csv(staging / "results.csv", index=False)
            save_file({name: t.contiguous() for name, t in tensors.items()}, str(staging / "probes.safetensors"))
            checksums = {name: file_digest(staging / name) for name in SWEEP_FILES}
            (staging / "info.json").write_text(
                json.dumps({**info, "key": key, "checksums": checksums}, indent=1, sort_keys=True)
            )
            publish(staging, self.path(key), self.has)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return self.path(key)

    def load(self, key: str) -> tuple[pd.DataFrame, dict[str, torch.Tensor], dict[str, Any]]:
        """(table, probe tensors, info) of a saved sweep, each file checked against its
        checksum (CorruptEntry, with the entry quarantined, if one fails)."""
        folder = self.path(key)
        try:
            info = json.loads((folder / "info.json").read_text())
            raw = {name: (folder / name).read_bytes() for name in SWEEP_FILES}
            bad = [name for name in SWEEP_FILES if digest(raw[name]) != info.get("checksums", {}).get(name)]
            if bad or info.get("key") != key:
                raise ValueError(f"{bad[0]} does not match its checksum" if bad else "info does not match its key")
            table = pd.read_csv(io.BytesIO(raw["results.csv"]))
            tensors = load_safetensors_bytes(raw["probes.safetensors"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError, SafetensorError) as error:
            raise quarantine(self.root, key, error_reason(error)) from None
        return table, tensors, info
