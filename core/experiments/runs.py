"""The library of runs: every finished sweep in the cache, what defines it, and several
of them side by side on one chart (the Runs page, `python -m core runs` and `compare`).

A sweep is listed with what its activations were extracted from, read from its own
record (sweeps stored since the Runs page) or from the activation set's metadata, so an
imported pack, which carries no activations, is listed in full. The per-method parts the
sweep cache keeps for reuse (core.experiments.sweep.method_config) are not listed beside the runs
they belong to.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core.config import from_dict
from core.errors import UserError
from core.experiments.cells import SweepResult
from core.experiments.sweep import extraction_record, load_sweep, method_config, sweep_key
from core.metrics import summarize
from core.probes import trains_with_ccs_optimizer
from core.settings.presets import optimizer_name
from core.settings.schema import SWEEP_SETTINGS, grouped
from core.settings.sweep import SPLIT, SweepConfig
from core.store.activation_imports import ImportedActivations, imported_set, imported_sets
from core.store.activations import ActivationStore
from core.store.entries import folder_bytes
from core.store.imports import PACK_ID, ImportedPack, imported_pack, imported_packs, remove_command
from core.store.sweeps import SweepStore

MIN_PREFIX = 6
COMPUTED_HERE = "computed here"


@dataclass(frozen=True)
class RunRecord:
    """One cached sweep: its key, its activation set's key, its config (None when its
    record cannot be read), what it was extracted from, when, how large, and how long it
    took to compute."""

    key: str
    activation_key: str
    config: SweepConfig | None
    extraction: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    size_bytes: int = 0
    seconds: float = 0.0
    pack: str = ""  # the imported pack it came from; "" when computed here
    origin: str = COMPUTED_HERE
    imported: str = ""  # the imported activation set it was trained here on (its id); "" for an extraction

    @property
    def damaged(self) -> bool:
        return self.config is None


def _record(
    store: SweepStore, activations: ActivationStore, folder: Path, source: ImportedPack | ImportedActivations | None
) -> RunRecord:
    size = folder_bytes(folder)
    origin = {}
    if isinstance(source, ImportedPack):
        origin = {"pack": source.id, "origin": source.origin()}
    elif isinstance(source, ImportedActivations):
        origin = {"imported": source.id, "origin": f"{COMPUTED_HERE} on activations {source.origin()}"}
    try:
        info = json.loads((folder / "info.json").read_text())
        config = from_dict(SweepConfig, info["config"])
        activation_key = str(info["activation_key"])
    except (OSError, ValueError, KeyError, TypeError):
        return RunRecord(folder.name, "", None, size_bytes=size, **origin)
    extraction = info.get("extraction") or {}
    if not extraction and activations.has(activation_key):
        try:
            extraction = extraction_record(activations.meta(activation_key))
        except (OSError, ValueError):
            extraction = {}
    created = info.get("created") or (folder / "info.json").stat().st_mtime
    seconds = info.get("seconds") if isinstance(info.get("seconds"), (int, float)) else 0.0
    return RunRecord(folder.name, activation_key, config, extraction, float(created), size, float(seconds), **origin)


def list_runs(root: Path | None = None) -> list[RunRecord]:
    """Every finished sweep in the cache, newest first: this machine's, those trained here on
    each imported activation set, and each imported pack's (each record saying which),
    without the per-method parts of sweeps that are listed themselves."""
    local = ActivationStore(root)
    sources = [
        (SweepStore(root), local, None),
        *((each.sweeps, each.activations, each) for each in imported_sets(root)),
        *((pack.sweeps, local, pack) for pack in imported_packs(root)),
    ]
    records = [
        record
        for store, activations, source in sources
        if store.root.is_dir()
        for record in _records(store, activations, source)
    ]
    return sorted(records, key=lambda r: r.created, reverse=True)


def _records(
    store: SweepStore, activations: ActivationStore, source: ImportedPack | ImportedActivations | None
) -> list[RunRecord]:
    """The runs of one store, without the per-method parts of the runs it lists."""
    records = [
        _record(store, activations, folder, source)
        for folder in store.root.iterdir()
        if not folder.name.startswith(".") and store.has(folder.name)
    ]
    parts = {
        (r.activation_key, method_config(r.config, m))
        for r in records
        if not r.damaged and len(r.config.methods) > 1
        for m in r.config.methods
    }
    return [r for r in records if r.damaged or (r.activation_key, r.config) not in parts]


def run_address(record: RunRecord) -> str:
    """How the command line names a listed run: its key's first 12 hex digits, after its
    pack's id (`PACK_ID:KEY`) when a pack brought it, or its imported activation set's
    (`IMPORT_ID:KEY`), so this machine's run and a pack's copy of it are never named alike."""
    source = record.pack or record.imported
    return f"{source}:{record.key[:12]}" if source else record.key[:12]


def find_runs(addresses: list[str], root: Path | None = None) -> list[RunRecord]:
    """The runs named by addresses: a key prefix (at least MIN_PREFIX hex digits) names this
    machine's run, or a pack's when only one has it; `PACK_ID:PREFIX` names that pack's copy.
    Each must name exactly one run."""
    records = list_runs(root)
    found = []
    for address in addresses:
        pack, _, prefix = address.lower().rpartition(":")
        if len(prefix) < MIN_PREFIX or any(c not in "0123456789abcdef" for c in prefix):
            raise UserError(
                f"{address!r} is not a run key; give at least {MIN_PREFIX} hex digits of one, after its pack's id "
                "and a colon for a pack's copy (python -m core runs lists them)."
            )
        if pack and not PACK_ID.fullmatch(pack):
            raise UserError(f"{address!r} names no pack: give PACK_ID:KEY as python -m core runs lists it.")
        matches = [r for r in records if r.key.startswith(prefix) and (not pack or pack in (r.pack, r.imported))]
        if not pack and len(matches) > 1 and sum(not r.pack for r in matches) == 1:  # this machine's first
            matches = [r for r in matches if not r.pack]
        if len(matches) != 1:
            raise UserError(
                f"{'No' if not matches else 'More than one'} cached run has the address {address!r}; "
                "python -m core runs lists them."
            )
        if matches[0].damaged:
            raise UserError(f"The cached run {address!r} has an unreadable record.")
        found.append(matches[0])
    return found


def run_store(record: RunRecord, root: Path | None = None) -> SweepStore:
    """The store a listed run lives in: this machine's, its pack's, or its imported activation set's."""
    if record.pack:
        return imported_pack(record.pack, root).sweeps
    return imported_set(record.imported, root).sweeps if record.imported else SweepStore(root)


def load_run(record: RunRecord, root: Path | None = None) -> SweepResult:
    """The sweep of a listed run (CorruptEntry, the entry set aside, if it fails its check)."""
    return load_sweep(run_store(record, root), record.key, record.config, record.activation_key)


def describe_run(record: RunRecord) -> dict[str, Any]:
    """What defines a run, as one row of the library's table."""
    if record.damaged:
        return {"key": record.key[:12], "origin": record.origin, "model": "(unreadable record)",
                "size (MB)": record.size_bytes / 1e6}  # fmt: skip
    config, extraction = record.config, record.extraction
    extract_config = extraction.get("config") or {}
    template = extract_config.get("template", {})
    return {
        "key": record.key[:12],
        "origin": record.origin,
        "model": extraction.get("model_name", "?"),
        "dataset": extraction.get("dataset_description", "?"),
        "template": f"{template.get('prompt', '?')} [{template.get('positive', '?')} /{template.get('negative', '?')}]"
        if template
        else "(not recorded)",
        "layer": config.layer,
        "normalization": f"{config.normalization}, test: {config.test_normalization}",
        "methods": ", ".join(config.methods),
        "p levels": ", ".join(f"{p:g}" for p in config.p_levels),
        "seeds": len(config.seeds),
        **{entry.name: entry.get(config) for entry in grouped(SWEEP_SETTINGS, SPLIT)},
        "CCS optimizer": f"{optimizer_name(config.ccs)} ({config.ccs.restarts} x {config.ccs.epochs} at lr "
        f"{config.ccs.lr:g})"
        if trains_with_ccs_optimizer(config.methods)
        else "",
        "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created)),
        "size (MB)": round(record.size_bytes / 1e6, 2),
    }


def record_labels(records: list[RunRecord]) -> list[str]:
    """Short names for runs side by side: the fields of the library's table in which they
    differ (the key when they differ in nothing shown)."""
    rows = [describe_run(r) for r in records]
    ignored = {"key", "created", "size (MB)"}
    differing = [name for name in rows[0] if name not in ignored and len({str(row.get(name)) for row in rows}) > 1]
    return [" · ".join(f"{name} {row.get(name)}" for name in differing) or f"run {row['key'][:8]}" for row in rows]


def overlay(
    records: list[RunRecord],
    metric: str = "accuracy",
    methods: list[str] | None = None,
    labels: list[str] | None = None,
    root: Path | None = None,
) -> pd.DataFrame:
    """core.metrics.summarize of each run (only `methods`, when given), with a "run"
    column naming it (record_labels by default), for core.views.charts.compare_chart."""
    labels = labels or record_labels(records)
    frames = []
    for record, label in zip(records, labels):
        table = load_run(record, root).table
        if methods:
            table = table[table.method.isin(methods)]
        if len(table):
            frames.append(summarize(table, metric).assign(run=label))
    if not frames:
        raise UserError("None of these runs trains the methods chosen.")
    return pd.concat(frames, ignore_index=True)


def delete_run(record: RunRecord, root: Path | None = None) -> None:
    """Remove one run and the per-method parts kept for its reuse from the cache (only
    ever on its owner's explicit request; another run that shared a part keeps its own
    whole copy, so it loses nothing). A run an imported pack brought goes only with its
    pack (core.store.imports.remove_pack)."""
    if record.pack:
        raise UserError(
            f"Run {record.key[:12]} came with pack {record.pack}; remove the pack to remove what it brought "
            f"({remove_command(record.pack)})."
        )
    store = run_store(record, root)
    parts = (
        [sweep_key(record.activation_key, method_config(record.config, m)) for m in record.config.methods]
        if not record.damaged
        else []
    )
    for key in (record.key, *parts):
        shutil.rmtree(store.path(key), ignore_errors=True)
