"""What each cell of a finished grid says about undoing its imbalance, per method at the
cell's highest p under Burns centering (the grid summary's): the separation of the classes
along its probes and the label-free verdict (core.analysis.separation) and, where asked,
the label budget (core.analysis.label_budget): the smallest number of labelled pairs that
wins back half the drop, and the share won back at the largest budget, for each use of the
labels. Tagged by cell as the grid's table is."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.analysis.label_budget import USES, budget_shares, label_budget, smallest_budget
from core.analysis.separation import run_verdicts
from core.config import ProgressFn
from core.experiments.cells import SweepResult
from core.experiments.grid_run import GridCell, tag
from core.experiments.sweep import run_sweep
from core.extraction.companions import sweep_activations
from core.extraction.runtime import Runtime
from core.normalizations import BASELINE
from core.store.activations import ActivationSet


def cell_audit(acts: ActivationSet, result: SweepResult, budget: bool) -> pd.DataFrame:
    """One sweep's audit: a row per method (the random direction left out) with its
    separation and verdict and, with `budget`, `half_<use>` (the smallest k that wins back
    half; missing where none does or nothing dropped) and `share_<use>`, `share_<use>_low` and
    `share_<use>_high` (won back at the largest k with its interval, NaN where nothing
    dropped) for every use."""
    audit = run_verdicts(acts, result)
    if budget:
        shares = budget_shares(label_budget(acts, result))
        largest = shares[shares.k == shares.k.max()].set_index(["method", "use"])
        half = smallest_budget(shares).set_index(["method", "use"]).k
        for use in USES:
            at = [(method, use) for method in audit.method]
            audit[f"half_{use}"] = pd.array([half.get(key) for key in at], dtype="Int64")
            for column in ("share", "share_low", "share_high"):
                audit[column.replace("share", f"share_{use}")] = [largest[column].get(key, np.nan) for key in at]
    return audit.assign(layer=result.config.layer)


def grid_audit(
    cells: list[GridCell], runtime: Runtime, budget: bool, progress: ProgressFn | None = None
) -> pd.DataFrame:
    """cell_audit of every Burns-centered sweep of a finished grid with two or more levels of p, its
    activations and probes read from the runtime's stores (a rerun of the grid's own sweeps,
    so cache hits), tagged by core.experiments.grid_run.tag; `progress` counts the sweeps."""
    report = progress or (lambda done, total, message: None)
    audited = [cell for cell in cells if cell.sweep.normalization == BASELINE and len(cell.sweep.p_levels) > 1]
    parts = []
    for done, cell in enumerate(audited):
        report(done, len(audited), f"{cell.extraction.model} x {cell.extraction.dataset}, layer {cell.sweep.layer}")
        acts = sweep_activations(runtime.activations, cell.activation_key, cell.sweep)
        audit = cell_audit(acts, run_sweep(acts, cell.sweep, runtime), budget)
        parts.append(tag(audit, cell.extraction))
    report(len(audited), len(audited), "done")
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
