"""CCS searched in a small subspace: the top TOP_DIRECTIONS principal directions of each
cell's normalized training differences x+ - x- (TPC's space), instead of all d.

With hundreds of dimensions and a few hundred pairs, the CCS objective has directions more
consistent and confident than truth (on the across-models grid, loss under 0.07 along
CCS's own direction against about 0.2 along logistic regression's), and the reference
search finds one of them. Restricted to the directions along which the differences vary
most, which truth dominates where TPC works, it has fewer such directions to find.

Each cell is trained by the reference engine (core.probes.ccs.train_ccs) on its pairs
normalized and projected onto its basis B [d, k]; the probe it returns is w = B w_k on the
normalized pairs, an ordinary linear probe in the full space, so everything that reads a
CCS probe reads this one. The initial parameters are the cell's own (seeded) draw for the
full space, projected and rescaled by sqrt(d / k), so a weight in k dimensions starts with
the spread nn.Linear(k, 1) would give it and the bias exactly as nn.Linear(k, 1) draws it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from core.config import CCSConfig
from core.probes.ccs import CCSFit, CCSProblem, Progress, train_ccs
from core.probes.crc import top_principal_directions

TOP_DIRECTIONS = 5  # chosen on the across-models grid from 5 and 20 (docs: science/label-budget)


def projected_cell(problem: CCSProblem, cell: int) -> tuple[CCSProblem, torch.Tensor]:
    """Cell `cell` of `problem` as a problem of its own in its subspace, and the basis [d, k]."""
    pos, neg = problem.training_pairs(cell)
    basis = top_principal_directions(pos, neg, TOP_DIRECTIONS)
    dim, k = basis.shape
    spread = math.sqrt(dim / k)
    zero = torch.zeros(1, k)
    return (
        CCSProblem(
            pos @ basis,
            neg @ basis,
            torch.ones(1, len(pos), dtype=torch.bool),
            zero,
            zero.clone(),
            None,
            None,
            (problem.init_weight[cell] @ basis * spread)[None],
            problem.init_bias[cell][None] * spread,
        ),
        basis,
    )


def train_ccs_in_subspace(
    problems: Sequence[CCSProblem],
    config: CCSConfig,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> list[CCSFit]:
    """train_ccs's contract (each problem's cells' best restarts, weights acting on the
    cell's normalized pairs), every cell searched in its own top principal directions."""
    cells = [(index, cell) for index, problem in enumerate(problems) for cell in range(len(problem.membership))]
    projected = [projected_cell(problems[index], cell) for index, cell in cells]
    fits = train_ccs([problem for problem, _ in projected], config, device, progress)
    lifted = [
        (basis @ fit.weight[0], fit.bias[0], fit.loss[0], fit.restart_losses[0])
        for (_, basis), fit in zip(projected, fits)
    ]
    results = []
    for index in range(len(problems)):
        mine = [lifted[i] for i, (owner, _) in enumerate(cells) if owner == index]
        results.append(CCSFit(*(torch.stack(part) for part in zip(*mine))))
    return results
