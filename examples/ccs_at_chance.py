"""Why CCS stays at chance at balance where it does, on the across-models grid with the
template ensemble (examples/grid-models-templates.toml).

Per cell and seed, at p = 0.5, on the training draw the grid's sweeps use: the CCS loss the
objective reaches along CCS's own direction, and along the direction logistic regression
finds with the labels (truth's), each with its scale and bias refitted to the CCS loss.
Where truth's loss is the higher, the objective prefers another consistent feature, and no
optimizer, restart count or training size changes what it finds; the grid's `ccs_top`
(core.probes.ccs_subspace) searches a smaller space instead.

    make setup-gemma
    python examples/ccs_at_chance.py
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import torch

from core.data.sampling import split_test, training_draw
from core.experiments.grid import load_grid
from core.experiments.sweep import run_sweep
from core.extraction.companions import sweep_activations
from core.extraction.extract import extract
from core.extraction.runtime import Runtime
from core.probes.ccs import ccs_loss

GRID = Path(__file__).with_name("grid-models-templates.toml")


def least_ccs_loss(pos: torch.Tensor, neg: torch.Tensor, direction: torch.Tensor) -> float:
    """The least mean CCS loss of sigmoid(a * w.x + b) over scale a and bias b (L-BFGS from
    four starting scales), on normalized pairs."""
    along_pos, along_neg = pos.double() @ direction.double(), neg.double() @ direction.double()
    spread = torch.cat([along_pos, along_neg]).std()
    along = torch.stack([along_pos, along_neg]) / spread
    return min(_refitted_loss(along, start) for start in (-4.0, -1.0, 1.0, 4.0))


def _refitted_loss(along: torch.Tensor, start: float) -> float:
    """The CCS loss of scores `along` ([2, n]: x+, x-) after fitting a scale (from `start`) and a bias."""
    scale = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([scale, bias], max_iter=200, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        confidence = torch.sigmoid(scale * along + bias)
        value = ccs_loss(confidence[0], confidence[1]).mean()
        value.backward()
        return value

    optimizer.step(loss)
    return float(loss().detach())


def main() -> None:
    grid, runtime = load_grid(GRID), Runtime()
    rows = []
    for extraction in grid.extractions:
        if not extraction.config.templates:
            continue
        key = extract(extraction.config, runtime).key
        for layer in extraction.layers:
            sweep = dataclasses.replace(
                grid.sweep, layer=layer, normalization="mean", methods=("ccs", "lr_norm"), p_levels=(0.5,)
            )
            acts = sweep_activations(runtime.activations, key, sweep)
            result = run_sweep(acts, sweep, runtime)
            pos, neg = acts.layer(layer)
            _, pool = split_test(acts.labels, sweep.n_test, sweep.split_seed, acts.texts)
            for seed in sweep.seeds:
                train = training_draw(acts.labels, pool, 0.5, sweep.n_train, seed)
                ccs, truth = result.probes[("ccs", 0.5, seed)], result.probes[("lr_norm", 0.5, seed)]
                train_pos, train_neg = (side.flatten(0, 1) for side in ccs.train_stats.apply(pos[train], neg[train]))
                rows.append(
                    {
                        "model": extraction.model,
                        "dataset": extraction.dataset,
                        "templates": extraction.templates,
                        "layer": layer,
                        "seed": seed,
                        "loss_ccs": least_ccs_loss(train_pos, train_neg, ccs.weight),
                        "loss_truth": least_ccs_loss(train_pos, train_neg, truth.weight),
                    }
                )
            print(extraction.model, extraction.dataset, layer, flush=True)
    found = pd.DataFrame(rows).groupby(["model", "dataset", "templates", "layer"], sort=False)
    cells = found[["loss_ccs", "loss_truth"]].mean().round(3)
    print(cells.rename(columns={"loss_ccs": "CCS loss, own direction", "loss_truth": "along truth's"}).to_string())
    print(f"truth's direction costs CCS more in {int((cells.loss_truth > cells.loss_ccs).sum())} of {len(cells)} cells")


if __name__ == "__main__":
    main()
