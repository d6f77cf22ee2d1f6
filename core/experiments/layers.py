"""The layer scan: one sweep config at each of several layers, one layer in memory at a time,
every layer's sweep cached on its own (the Layers page and `python -m core layers`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd

from core.config import ExtractConfig, ProgressFn
from core.experiments.pipeline import run_pipeline
from core.experiments.sweep import run_sweep
from core.extraction.companions import sweep_activations
from core.extraction.extract import ExtractionOutcome
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationStore
from core.store.sweeps import SweepStore


def run_layer_scan(
    activation_store,
    activation_key: str,
    config: SweepConfig,
    layers: list[int],
    progress: ProgressFn | None = None,
    device: str = "auto",
    store: SweepStore | None = None,
    status: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The sweep `config` at each of `layers` (one layer in memory at a time), as one
    table; every layer's sweep is cached on its own, so a rerun only trains new layers.
    The companion pairs the normalization asks for must have been extracted."""
    tables = []
    for position, layer in enumerate(layers):
        per_layer = dataclasses.replace(config, layer=layer)
        acts = sweep_activations(activation_store, activation_key, per_layer)
        tables.append(run_sweep(acts, per_layer, device=device, store=store, status=status).table)
        if progress is not None:
            progress(position + 1, len(layers), f"layer {layer}")
    return pd.concat(tables, ignore_index=True)


def scan_every_layer(
    extract_config: ExtractConfig,
    config: SweepConfig,
    device: str = "auto",
    extract_progress: ProgressFn | None = None,
    scan_progress: ProgressFn | None = None,
    status: Callable[[str], None] | None = None,
) -> tuple[ExtractionOutcome, pd.DataFrame]:
    """The layer scan of `config` over every layer the extraction keeps (all hidden states
    unless it names some): the pipeline extracts, or finds the cached set, with the pairs
    the normalization asks for and sweeps the first layer, then every layer is swept."""
    first = extract_config.layers[0] if extract_config.layers else 0  # 0, the embeddings: every model has it
    run = run_pipeline(
        extract_config,
        dataclasses.replace(config, layer=first),
        device=device,
        extract_progress=extract_progress,
        status=status,
    )
    store = ActivationStore()
    layers = list(store.meta(run.extraction.key)["layers"])
    table = run_layer_scan(store, run.extraction.key, config, layers, scan_progress, device, SweepStore(), status)
    return run.extraction, table
