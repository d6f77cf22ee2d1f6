"""Contrast-Consistent Search, faithful to the reference code (Burns et al. 2022,
github.com/collin-burns/discovering_latent_knowledge, class `CCS`), as a batched engine.

The reference trains one linear probe p(x) = sigmoid(w.x + b) at a time on per-side
normalized pairs with loss = mean((p(x+) - (1 - p(x-)))^2) + mean(min(p(x+), p(x-))^2),
10 random restarts (nn.Linear's default init) of 1000 full-batch AdamW epochs (lr 1e-3,
weight decay 0.01 on weight and bias), keeping the restart with the lowest final loss.

Here every restart of every sweep cell trains at once. The cells of a problem share one
pool of examples: the logits of all probes are one matrix product of the pool against
all weights, each cell's normalization is folded into its probe (w.(x - mu) / sd =
(w / sd).x - (w / sd).mu, a per-probe bias), and each cell's training set is a weight
mask on the loss. Every probe's loss depends only on its own parameters and AdamW acts
element by element, so this is the reference algorithm, exactly, many times over.
(Measured on this project's 2-core CPU: one matrix product over a shared pool beat
a per-cell batched product with its own copy of the data, which is memory-bound.)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from core.config import CCSConfig

Progress = Callable[[int, int], None]
REPORT_INTERVAL_S = 0.2
sigmoid_backward = torch.ops.aten.sigmoid_backward


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

    membership [C, N] marks each cell's training examples. mean_pos and mean_neg [C, d] are
    the per-side centers each cell's probe reads its inputs through, and std_pos and
    std_neg [C, d] their per-dimension scales (None for a shift-only normalization): the
    statistics of the sweep's normalization (core.normalizations) fitted on each cell's
    training examples. init_weight [C, R, d] and init_bias [C, R] are the R restarts of
    each cell.
    """

    pos: torch.Tensor
    neg: torch.Tensor
    membership: torch.Tensor
    mean_pos: torch.Tensor
    mean_neg: torch.Tensor
    std_pos: torch.Tensor | None
    std_neg: torch.Tensor | None
    init_weight: torch.Tensor
    init_bias: torch.Tensor

    def training_pairs(self, cell: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Cell `cell`'s training pairs as its probe reads them: through its normalization."""
        rows = self.membership[cell]
        pos, neg = self.pos[rows] - self.mean_pos[cell], self.neg[rows] - self.mean_neg[cell]
        if self.std_pos is None:
            return pos, neg
        return pos / self.std_pos[cell], neg / self.std_neg[cell]


def ccs_problem(
    pos: torch.Tensor,
    neg: torch.Tensor,
    membership: torch.Tensor,
    stats: Sequence,
    init_weight: torch.Tensor,
    init_bias: torch.Tensor,
) -> CCSProblem:
    """A problem for the CCS engine: cells over one pool of pairs, each cell's probe reading
    its inputs through its own normalization statistics (`stats`, one per cell: NormStats,
    with mean_pos, mean_neg and std_pos, std_neg or None)."""
    scaled = stats[0].std_pos is not None
    return CCSProblem(
        pos,
        neg,
        membership,
        torch.stack([s.mean_pos for s in stats]),
        torch.stack([s.mean_neg for s in stats]),
        torch.stack([s.std_pos for s in stats]) if scaled else None,
        torch.stack([s.std_neg for s in stats]) if scaled else None,
        init_weight,
        init_bias,
    )


@dataclass
class CCSFit:
    """The best restart of each cell: weight [C, d] and bias [C] act on inputs normalized
    with the cell's statistics; loss [C] is its final training loss, restart_losses
    [C, R] all of them."""

    weight: torch.Tensor
    bias: torch.Tensor
    loss: torch.Tensor
    restart_losses: torch.Tensor


class _Group:
    """One problem laid out for training: the pool centered on its own mean (so the folded
    bias subtracts small numbers and float32 keeps its precision), per-probe normalization
    folded into means and scales, and the loss weights of every probe on every example."""

    def __init__(self, problem: CCSProblem, device: torch.device):
        self.cells, self.restarts, self.dim = problem.init_weight.shape
        shift_pos, shift_neg = problem.pos.mean(0), problem.neg.mean(0)
        self.pos = (problem.pos - shift_pos).to(device)
        self.neg = (problem.neg - shift_neg).to(device)
        per_probe = torch.arange(self.cells).repeat_interleave(self.restarts)
        self.mean_pos = (problem.mean_pos - shift_pos)[per_probe].to(device)
        self.mean_neg = (problem.mean_neg - shift_neg)[per_probe].to(device)
        self.scale_pos = self.scale_neg = None
        if problem.std_pos is not None:
            self.scale_pos = (1 / problem.std_pos)[per_probe].to(device)
            self.scale_neg = (1 / problem.std_neg)[per_probe].to(device)
        mask = problem.membership.to(torch.float32)
        mask = mask / mask.sum(1, keepdim=True)  # [C, N], each cell's rows sum to 1
        self.weights = mask[per_probe].to(device)  # [C*R, N]
        self.twice_weights = 2 * self.weights
        self.weight = problem.init_weight.reshape(-1, self.dim).clone().to(device)
        self.bias = problem.init_bias.reshape(-1).clone().to(device)
        self.weight.grad = torch.zeros_like(self.weight)
        self.bias.grad = torch.zeros_like(self.bias)

    def _side(self, x, mean, scale):
        w = self.weight * scale if scale is not None else self.weight
        # Probes by examples, [K, N]: on a CPU this product ran 1.3x faster than x @ w.T.
        logits = torch.addmm((self.bias - (mean * w).sum(1))[:, None], w, x.T)
        return logits.sigmoid_()

    def step_gradients(self, with_losses: bool) -> torch.Tensor | None:
        """Write the gradient of every probe's CCS loss into .grad; with `with_losses`,
        return the losses [C*R] too (only the last epoch's are needed). The gradient is
        written out by hand, with in-place arithmetic: on a CPU the autograd graph of
        this loss cost as much as its matrix products. The oracle test checks it."""
        a = self._side(self.pos, self.mean_pos, self.scale_pos)  # p(x+) [K, N]
        c = self._side(self.neg, self.mean_neg, self.scale_neg)  # p(x-)
        losses = (self.weights * ccs_loss(a, c)).sum(1) if with_losses else None
        gap = a + c - 1
        a_smaller = a < c
        # d loss / d p(x+) = 2 gap + 2 p(x+) [p(x+) < p(x-)], times sigmoid' = p (1 - p)
        # (sigmoid_backward computes that product in one pass), times the weight.
        g_a = sigmoid_backward(torch.where(a_smaller, a, 0.0).add_(gap), a).mul_(self.twice_weights)
        g_c = sigmoid_backward(torch.where(a_smaller, 0.0, c).add_(gap), c).mul_(self.twice_weights)
        sum_a, sum_c = g_a.sum(1), g_c.sum(1)
        grad_pos = (g_a @ self.pos).sub_(sum_a[:, None] * self.mean_pos)
        grad_neg = (g_c @ self.neg).sub_(sum_c[:, None] * self.mean_neg)
        if self.scale_pos is not None:
            grad_pos, grad_neg = grad_pos * self.scale_pos, grad_neg * self.scale_neg
        self.weight.grad.copy_(grad_pos + grad_neg)
        self.bias.grad.copy_(sum_a + sum_c)
        return losses

    def best(self, losses: torch.Tensor) -> CCSFit:
        restart_losses = losses.reshape(self.cells, self.restarts).cpu()
        best = restart_losses.argmin(1)
        cells = torch.arange(self.cells)
        weight = self.weight.reshape(self.cells, self.restarts, self.dim).cpu()[cells, best]
        bias = self.bias.reshape(self.cells, self.restarts).cpu()[cells, best]
        return CCSFit(weight, bias, restart_losses[cells, best], restart_losses)


def _train_group(group: _Group, config: CCSConfig, device: torch.device, tick: Callable[[], None]) -> torch.Tensor:
    """Every epoch of one problem with its own AdamW (AdamW acts element by element, so
    giving each problem its own optimizer changes nothing); returns the last epoch's losses.
    `tick()` runs after every epoch and may raise to cancel."""
    optimizer = torch.optim.AdamW(
        (group.weight, group.bias),
        lr=config.lr,
        weight_decay=config.weight_decay,
        foreach=device.type != "cpu",
        fused=device.type == "cpu",
    )
    with torch.no_grad():
        for epoch in range(config.epochs):
            # Like the reference, a restart's "final loss" is the loss of its last epoch,
            # computed before that epoch's update.
            losses = group.step_gradients(with_losses=epoch + 1 == config.epochs)
            optimizer.step()
            tick()
    return losses


@contextmanager
def _one_thread_per_worker(workers: int):
    """Give each worker thread one intra-op thread for the duration, then restore."""
    before = torch.get_num_threads()
    if workers > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Cancelled(Exception):
    """Raised inside a worker once the caller's progress callback has cancelled the run."""


def train_ccs(
    problems: Sequence[CCSProblem],
    config: CCSConfig,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> list[CCSFit]:
    """Train every restart of every cell of every problem, with the reference optimizer
    (full-batch AdamW), and return each cell's lowest-final-loss restart.

    A sweep makes one problem per seed: the cells of a seed share most of their examples,
    so each pool is small. On a CPU the problems go to one worker thread per core, each
    taking the next untrained problem and running all its epochs on one intra-op thread,
    so that no worker waits for another between epochs. `progress(done, total)` counts
    problem-epochs; it is called from the calling thread a few times a second and may
    raise to cancel."""
    device = torch.device(device)
    groups = [_Group(problem, device) for problem in problems]
    workers = min(torch.get_num_threads(), len(groups)) if device.type == "cpu" else 1
    total = len(groups) * config.epochs
    done = [0] * len(groups)  # epochs finished per problem, each written by one worker only
    cancelled = threading.Event()
    report = progress or (lambda done, total: None)
    last_report = [time.perf_counter()]

    def report_now() -> None:
        last_report[0] = time.perf_counter()
        report(sum(done), total)

    def train(index: int) -> torch.Tensor:
        def tick() -> None:
            done[index] += 1
            if cancelled.is_set():
                raise _Cancelled
            if workers == 1 and time.perf_counter() - last_report[0] > REPORT_INTERVAL_S:
                report_now()

        return _train_group(groups[index], config, device, tick)

    if workers == 1:
        # In the calling thread: a fresh thread would start its own intra-op thread
        # team, which measured twice as slow here.
        losses = [train(index) for index in range(len(groups))]
    else:
        with _one_thread_per_worker(workers), ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(train, index) for index in range(len(groups))]
            try:
                pending = futures
                while pending:
                    finished, pending = wait(futures, timeout=REPORT_INTERVAL_S, return_when=FIRST_EXCEPTION)
                    for future in finished:
                        future.result()  # a worker's error, raised here, stops the others
                    report_now()
            except BaseException:
                cancelled.set()
                raise
            losses = [future.result() for future in futures]
    report_now()
    return [group.best(loss) for group, loss in zip(groups, losses)]
