"""Running a checked grid (core.experiments.grid) in this process: every extraction, then
its sweeps, one after another, into one tidy table (a sweep row per cell, tagged with the
grid's model, data set, templates and depth). Ray runs the same sweeps (core.experiments.grid_ray).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from core.config import ProgressFn
from core.experiments.cells import SweepResult
from core.experiments.grid import Extraction, Grid
from core.experiments.sweep import run_sweep, sweep_key
from core.extraction.companions import ensure_companion, sweep_activations
from core.extraction.extract import extract
from core.extraction.runtime import Runtime
from core.settings.sweep import SweepConfig


@dataclass(frozen=True)
class GridCell:
    """One sweep a grid ran: its extraction, the activation set's key and the sweep."""

    extraction: Extraction
    activation_key: str
    sweep: SweepConfig


@dataclass
class GridOutcome:
    """A finished grid: its tidy table, the sweeps it ran, how many extractions and sweeps
    were new (the rest came from the cache) and how long it took."""

    table: pd.DataFrame
    cells: list[GridCell] = field(default_factory=list)
    extracted: int = 0
    extractions_cached: int = 0
    swept: int = 0
    sweeps_cached: int = 0
    seconds: float = 0.0
    executor: str = "inprocess"
    notes: list[str] = field(default_factory=list)


def tag(table: pd.DataFrame, extraction: Extraction) -> pd.DataFrame:
    """A sweep table with the grid's model and data set names in front, and the relative
    depth each layer was named by (empty for a layer named by its index)."""
    depths = dict(extraction.depths)
    table = table.assign(
        model=extraction.model,
        dataset=extraction.dataset,
        templates=extraction.templates,
        depth=[depths.get(int(x), "") for x in table["layer"]],
    )
    front = ["model", "dataset", "templates", "depth"]
    return table[[*front, *[c for c in table.columns if c not in front]]]


def run_grid_sweep(activation_key: str, sweep: SweepConfig, runtime: Runtime) -> tuple[SweepResult, bool]:
    """One sweep of a grid on an extracted set, its companion prompts extracted first if its
    normalization needs them; returns the SweepResult and whether it came from the cache.
    Both executors run every sweep through here."""
    cached = runtime.sweeps.has(sweep_key(activation_key, sweep))
    ensure_companion(activation_key, sweep, runtime)
    result = run_sweep(sweep_activations(runtime.activations, activation_key, sweep), sweep, runtime)
    return result, cached


def run_inprocess(grid: Grid, runtime: Runtime | None = None, progress: ProgressFn | None = None) -> GridOutcome:
    """Every extraction, then its sweeps, one after another in this process, as `runtime`
    says; `progress` counts the grid's jobs."""
    started = time.perf_counter()
    runtime = runtime or Runtime()
    report = progress or (lambda done, total, message: None)
    acts_store = runtime.activations
    outcome = GridOutcome(pd.DataFrame())
    tables = []
    total = sum(1 + len(grid.sweeps(e.layers or (0,))) for e in grid.extractions)
    done = 0
    for extraction in grid.extractions:
        report(done, total, f"extracting {extraction.model} x {extraction.dataset}")
        extracted = extract(extraction.config, runtime)
        outcome.extracted += not extracted.cached
        outcome.extractions_cached += extracted.cached
        layers = extraction.layers or tuple(acts_store.meta(extracted.key)["layers"])
        configs = grid.sweeps(layers)
        total += len(configs) - len(grid.sweeps(extraction.layers or (0,)))
        done += 1
        for sweep in configs:
            report(
                done,
                total,
                f"sweeping {extraction.model} x {extraction.dataset}, layer {sweep.layer}, {sweep.normalization}",
            )
            result, cached = run_grid_sweep(extracted.key, sweep, runtime)
            tables.append(tag(result.table, extraction))
            outcome.cells.append(GridCell(extraction, extracted.key, sweep))
            outcome.swept += not cached
            outcome.sweeps_cached += cached
            done += 1
    report(total, total, "done")
    outcome.table = pd.concat(tables, ignore_index=True)
    outcome.seconds = time.perf_counter() - started
    return outcome
