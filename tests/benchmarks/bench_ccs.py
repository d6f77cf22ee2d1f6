"""CCS sweep benchmark: the demo sweep (all levels x seeds, 10 restarts, 1000 epochs)
through the batched engine against the plain sequential reference loop, same activations.

The sequential reference (tests/oracle_ccs.py, a copy of the reference code's CCS
class) runs on a few cells only and its time is scaled per cell: running all 70 cells
would take about 6 minutes. Agreement is |accuracy difference| per cell: the batched
reference against the sequential one on the cells both ran, and the fast mode against
the batched reference on every cell.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from core.data.sampling import split_test, training_draw
from core.experiments.sweep import run_sweep
from core.probes.ccs import initial_parameters
from core.settings.presets import DEMO, FAST_CCS
from tests.benchmarks.common import bench_line, demo_layer, device_line, timed
from tests.oracle_ccs import OracleCCS

REFERENCE_CELLS = [(0.5, 0), (0.95, 0), (0.8, 1)]


def sequential_reference(acts, config) -> tuple[pd.Series, float]:
    """Accuracy of the plain reference loop on REFERENCE_CELLS, and seconds per cell."""
    pos, neg = acts.layer(config.layer)
    labels = acts.labels
    test, pool = split_test(labels, config.n_test, config.split_seed)
    accuracies, times = {}, {}
    for p, seed in REFERENCE_CELLS:
        train = training_draw(labels, pool, p, config.n_train, seed)
        weights, biases = initial_parameters(pos.shape[1], config.ccs.restarts, seed)
        with timed(times, (p, seed)):
            oracle = OracleCCS(
                neg[train].numpy(),
                pos[train].numpy(),
                weights.numpy(),
                biases.numpy(),
                nepochs=config.ccs.epochs,
                lr=config.ccs.lr,
                weight_decay=config.ccs.weight_decay,
            )
            oracle.repeated_train()
        accuracies[(p, seed)] = oracle.get_acc(neg[test].numpy(), pos[test].numpy(), labels[test])
    return pd.Series(accuracies), float(np.mean(list(times.values())))


def accuracies(table: pd.DataFrame) -> pd.Series:
    return table[table.method == "ccs"].set_index(["p", "seed"]).accuracy


def main() -> list[str]:
    print("== CCS sweep ==", flush=True)
    print(device_line())
    acts = demo_layer()
    config = dataclasses.replace(DEMO[1], methods=("ccs",))
    cells = len(config.p_levels) * len(config.seeds)
    print(
        f"demo sweep: {len(config.p_levels)} levels x {len(config.seeds)} seeds = {cells} cells, "
        f"{config.ccs.restarts} restarts x {config.ccs.epochs} epochs, n_train {config.n_train}, d 576"
    )
    times: dict = {}
    reference, per_cell = sequential_reference(acts, config)
    reference_total = per_cell * cells
    print(
        f"sequential reference: {per_cell:.2f} s per cell, measured on {len(REFERENCE_CELLS)} cells and scaled "
        f"to {cells} cells: {reference_total:.0f} s"
    )

    with timed(times, "layout shared pool"):
        short = dataclasses.replace(config, ccs=dataclasses.replace(config.ccs, epochs=100))
        run_sweep(acts, short, ccs_layout="shared")
    with timed(times, "layout per seed"):
        run_sweep(acts, short, ccs_layout="per_seed")
    print(
        f"layouts at 100 epochs: one shared pool for all cells {times['layout shared pool']:.1f} s, one pool per "
        f"seed {times['layout per seed']:.1f} s (the engine uses per seed)"
    )

    with timed(times, "batched"):
        batched = accuracies(run_sweep(acts, config).table)
    diff = (batched.loc[reference.index] - reference).abs()
    print(
        f"batched reference optimizer: {times['batched']:.1f} s for {cells} cells; |accuracy difference| against "
        f"the sequential reference on its {len(diff)} cells: mean {diff.mean():.4f}, max {diff.max():.4f}"
    )
    lines = [bench_line("ccs_sweep", reference_total / times["batched"], f"{diff.mean():.4f}")]

    with timed(times, "fast"):
        fast = accuracies(run_sweep(acts, dataclasses.replace(config, ccs=FAST_CCS)).table)
    fast_diff = (fast - batched.loc[fast.index]).abs()
    fast_vs_sequential = (fast.loc[reference.index] - reference).abs()
    print(
        f"fast mode ({FAST_CCS.epochs} epochs, lr {FAST_CCS.lr:g}): {times['fast']:.1f} s; |accuracy difference| "
        f"against the reference optimizer on all {cells} cells: mean {fast_diff.mean():.4f}, max "
        f"{fast_diff.max():.4f}; against the sequential reference on its cells: mean "
        f"{fast_vs_sequential.mean():.4f}"
    )
    lines.append(bench_line("ccs_sweep_fast", reference_total / times["fast"], f"{fast_diff.mean():.4f}"))
    for line in lines:
        print(line, flush=True)
    return lines


if __name__ == "__main__":
    main()
