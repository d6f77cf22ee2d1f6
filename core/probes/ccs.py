"""Contrast-Consistent Search, faithful to the reference code (Burns et al. 2022,
github.com/collin-burns/discovering_latent_knowledge, class `CCS`), as a batched engine.

The reference trains one linear probe p(x) = sigmoid(w.x + b) at a time on per-side
normalized pairs with loss = mean((p(x+) - (1 - p(x-)))^2) + mean(min(p(x+), p(x-))^2),
10 random restarts (nn.Linear's default init) of 1000 full-batch AdamW epochs (lr 1e-3,
weight decay 0.01 on weight and bias), keeping the restart with the lowest final loss.

Here every restart of every sweep cell trains at once. All cells of a problem share one
pool of examples: the logits of all probes are one matrix product of the pool against
all weights, each cell's normalization is folded into its probe (w.(x - mu) / sd =
(w / sd).x - (w / sd).mu, a per-probe bias), and each cell's training set is a mask on
the loss. Every probe's loss depends only on its own parameters and AdamW acts element
by element, so this is the reference algorithm, exactly, many times over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from core.config import CCSConfig
from core.normalize import NormStats, fit_stats

Progress = Callable[[int, int], None]


def initial_parameters(dim: int, restarts: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Initial (weight [restarts, dim], bias [restarts]) drawn as nn.Linear(dim, 1) draws
    them (uniform in +-1/sqrt(dim) for both), reproducibly from `seed`."""
    generator = torch.Generator().manual_seed(int(np.random.SeedSequence([int(seed), 5]).generate_state(1)[0]))
    bound = 1.0 / math.sqrt(dim)
    weight = (torch.rand(restarts, dim, generator=generator, dtype=torch.float32) * 2 - 1) * bound
    bias = (torch.rand(restarts, generator=generator, dtype=torch.float32) * 2 - 1) * bound
    return weight, bias


def ccs_loss(p_pos: torch.Tensor, p_neg: torch.Tensor) -> torch.Tensor:
    """Per-example CCS loss: consistency (p(x+) - (1 - p(x-)))^2 plus confidence min(p(x+), p(x-))^2.
    Its mean over a training set is the reference loss."""
    return (p_pos - (1 - p_neg)) ** 2 + torch.minimum(p_pos, p_neg) ** 2


@dataclass
class CCSProblem:
    """Many CCS cells over one shared pool of [N, d] pairs.

    membership [C, N] marks each cell's training examples; the cell is normalized
    with the statistics of its own training examples. init_weight [C, R, d] and
    init_bias [C, R] are the R restarts of each cell.
    """

    pos: torch.Tensor
    neg: torch.Tensor
    membership: torch.Tensor
    normalization: str
    init_weight: torch.Tensor
    init_bias: torch.Tensor


@dataclass
class CCSFit:
    """The best restart of each cell: weight [C, d] and bias [C] act on inputs normalized
    with `stats[c]`; loss [C] is its final training loss, restart_losses [C, R] all of them."""

    weight: torch.Tensor
    bias: torch.Tensor
    loss: torch.Tensor
    restart_losses: torch.Tensor
    stats: list[NormStats]


def _cell_stats(problem: CCSProblem) -> list[NormStats]:
    return [fit_stats(problem.pos[row], problem.neg[row], problem.normalization) for row in problem.membership]


def train_ccs(problem: CCSProblem, config: CCSConfig, device: torch.device | str = "cpu",
              progress: Progress | None = None) -> CCSFit:
    """Train every restart of every cell of `problem` with the reference optimizer and
    return each cell's lowest-final-loss restart. `progress(epoch, epochs)` is called
    now and then; it may raise to cancel."""
    device = torch.device(device)
    cells, restarts, dim = problem.init_weight.shape
    stats = _cell_stats(problem)

    # Center the pool on its own mean first: the folded bias then subtracts small
    # numbers, not the large raw means, and float32 keeps its precision.
    shift_pos, shift_neg = problem.pos.mean(0), problem.neg.mean(0)
    pos = (problem.pos - shift_pos).to(device)
    neg = (problem.neg - shift_neg).to(device)
    mean_pos = torch.stack([s.mean_pos - shift_pos for s in stats]).to(device)
    mean_neg = torch.stack([s.mean_neg - shift_neg for s in stats]).to(device)
    scaled = problem.normalization == "meanstd"
    if scaled:
        inv_std_pos = torch.stack([1 / s.std_pos for s in stats]).to(device)
        inv_std_neg = torch.stack([1 / s.std_neg for s in stats]).to(device)

    mask = problem.membership.to(torch.float32)
    mask = (mask / mask.sum(1, keepdim=True)).to(device)              # [C, N], rows sum to 1
    mask_per_probe = mask.repeat_interleave(restarts, dim=0).T.contiguous()  # [N, C*R]
    cell_of_probe = torch.arange(cells, device=device).repeat_interleave(restarts)

    weight = problem.init_weight.reshape(cells * restarts, dim).clone().to(device).requires_grad_(True)
    bias = problem.init_bias.reshape(cells * restarts).clone().to(device).requires_grad_(True)
    optimizer = torch.optim.AdamW([weight, bias], lr=config.lr, weight_decay=config.weight_decay)
    report_every = max(1, config.epochs // 50)
    losses = torch.zeros(cells * restarts, device=device)
    for epoch in range(config.epochs):
        w_pos = weight * inv_std_pos[cell_of_probe] if scaled else weight
        w_neg = weight * inv_std_neg[cell_of_probe] if scaled else weight
        z_pos = pos @ w_pos.T - (mean_pos[cell_of_probe] * w_pos).sum(1) + bias
        z_neg = neg @ w_neg.T - (mean_neg[cell_of_probe] * w_neg).sum(1) + bias
        per_probe = (mask_per_probe * ccs_loss(torch.sigmoid(z_pos), torch.sigmoid(z_neg))).sum(0)
        optimizer.zero_grad(set_to_none=True)
        per_probe.sum().backward()
        optimizer.step()
        # Like the reference, a restart's "final loss" is the loss of its last epoch,
        # computed before that epoch's update.
        losses = per_probe.detach()
        if progress is not None and ((epoch + 1) % report_every == 0 or epoch + 1 == config.epochs):
            progress(epoch + 1, config.epochs)

    restart_losses = losses.reshape(cells, restarts).cpu()
    best = restart_losses.argmin(1)
    final_weight = weight.detach().reshape(cells, restarts, dim).cpu()[torch.arange(cells), best]
    final_bias = bias.detach().reshape(cells, restarts).cpu()[torch.arange(cells), best]
    return CCSFit(final_weight, final_bias, restart_losses[torch.arange(cells), best], restart_losses, stats)
