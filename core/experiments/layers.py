"""The layer scan: one sweep config at each of several layers, one layer in memory at a time,
every layer's sweep cached on its own (the Layers page and `python -m core layers`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.config import ExtractConfig
from core.experiments.pipeline import run_pipeline
from core.experiments.runs import list_runs
from core.experiments.sweep import run_sweep
from core.extraction.companions import sweep_activations
from core.extraction.extract import ExtractionOutcome
from core.extraction.runtime import Runtime
from core.settings.sweep import SweepConfig


def run_layer_scan(
    activation_key: str, config: SweepConfig, layers: list[int], runtime: Runtime | None = None
) -> pd.DataFrame:
    """The sweep `config` at each of `layers` (one layer in memory at a time), as one
    table; every layer's sweep is cached on its own in runtime.sweeps, so a rerun only
    trains new layers, and runtime.sweep_progress counts layers. The companion pairs the
    normalization asks for must have been extracted."""
    runtime = runtime or Runtime()
    per_sweep = dataclasses.replace(runtime, sweep_progress=None)
    tables = []
    for position, layer in enumerate(layers):
        per_layer = dataclasses.replace(config, layer=layer)
        acts = sweep_activations(runtime.activations, activation_key, per_layer)
        tables.append(run_sweep(acts, per_layer, per_sweep).table)
        if runtime.sweep_progress is not None:
            runtime.sweep_progress(position + 1, len(layers), f"layer {layer}")
    return pd.concat(tables, ignore_index=True)


def scan_every_layer(
    extract_config: ExtractConfig, config: SweepConfig, runtime: Runtime | None = None
) -> tuple[ExtractionOutcome, pd.DataFrame]:
    """The layer scan of `config` over every layer the extraction keeps (all hidden states
    unless it names some): the pipeline extracts, or finds the cached set, with the pairs
    the normalization asks for and sweeps the first layer, then every layer is swept."""
    runtime = runtime or Runtime()
    first = extract_config.layers[0] if extract_config.layers else 0  # 0, the embeddings: every model has it
    run = run_pipeline(
        extract_config, dataclasses.replace(config, layer=first), dataclasses.replace(runtime, sweep_progress=None)
    )
    layers = list(runtime.activations.meta(run.extraction.key)["layers"])
    return run.extraction, run_layer_scan(run.extraction.key, config, layers, runtime)


@dataclass(frozen=True)
class SavedScan:
    """A layer scan finished on this machine: its sweep config (at its first layer), the
    layers it has, and when its newest layer finished."""

    config: SweepConfig
    layers: tuple[int, ...]
    created: float


def saved_scans(activation_key: str, root: Path | None = None) -> list[SavedScan]:
    """The layer scans this machine finished on the activation set `activation_key`, newest
    first: its sweeps grouped by every setting but the layer, each group of two or more
    layers a scan (a pack's runs are not this machine's and are left out)."""
    groups: dict[SweepConfig, list] = {}
    for record in list_runs(root):
        if not record.damaged and not record.pack and record.activation_key == activation_key:
            groups.setdefault(dataclasses.replace(record.config, layer=0), []).append(record)
    scans = [
        SavedScan(
            dataclasses.replace(config, layer=min(r.config.layer for r in records)),
            tuple(sorted({r.config.layer for r in records})),
            max(r.created for r in records),
        )
        for config, records in groups.items()
        if len({r.config.layer for r in records}) >= 2
    ]
    return sorted(scans, key=lambda scan: scan.created, reverse=True)
