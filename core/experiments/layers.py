"""The layer scan: one sweep config at each of several layers, one layer in memory at a time,
every layer's sweep cached on its own (the Layers page and `python -m core layers`).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import pandas as pd

from core.config import ProgressFn, SweepConfig
from core.experiments.sweep import run_sweep
from core.extraction.companions import sweep_activations
from core.store.sweeps import SweepStore


def run_layer_scan(activation_store, activation_key: str, config: SweepConfig, layers: list[int],
                   progress: ProgressFn | None = None, device: str = "auto",
                   store: SweepStore | None = None, status: Callable[[str], None] | None = None) -> pd.DataFrame:
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
