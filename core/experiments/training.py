"""Training and scoring one sweep's cells: each cell's normalization fitted on its
training draw, a method with a batched engine (Method.train_batched: CCS, core.probes.ccs)
trained for every cell at once, every other method fitted cell by cell, and every probe
scored on the fixed test split.

Each cell is a pure function of (activation set, config, cell): its training draw and its
CCS initial weights come from the seed alone, never from which other cells ran.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from core.config import ProgressFn
from core.data.sampling import check_pool, split_test, training_draw
from core.errors import UserError
from core.experiments.cells import CellKey, SweepResult, method_stats_kind
from core.extraction.models import pick_device
from core.metrics import ESTIMATED_PRIOR, evaluate_many, threshold_accuracy
from core.normalizations import CONTENT_FREE, NORMALIZATION_REGISTRY, fit_stats
from core.normalizations.stats import FitInputs, NormStats
from core.probes import METHOD_REGISTRY, Fit, LinearProbe
from core.probes.ccs import CCSFit, CCSProblem, Progress, ccs_problem, initial_parameters
from core.probes.mixture import two_gaussians_many
from core.probes.supervised import shifted_intercept
from core.settings.sweep import DEPLOYMENT, SweepConfig
from core.store.activations import ActivationSet


def _fit_baseline(
    method_id: str,
    pos: torch.Tensor,
    neg: torch.Tensor,
    labels: np.ndarray,
    seed: int,
    stats: NormStats,
    raw_fit: Callable[[Callable[..., Fit]], Fit],
) -> LinearProbe:
    """One baseline probe (a registry method with a fit) on a cell's raw training pairs,
    normalized with `stats`. A shift-equivariant method under a shift-only normalization
    is the cell's fit on raw pairs, `raw_fit(fit)`, with its intercept moved (see
    shifted_intercept), so the methods that share a fit share it per cell."""
    spec = METHOD_REGISTRY[method_id]
    if spec.shift_equivariant and stats.std_pos is None and pos.ndim == 2:
        fit = raw_fit(spec.fit)
        bias = shifted_intercept(fit.weight, fit.bias, stats.mean_pos - stats.mean_neg)
        return LinearProbe(method_id, spec.form, fit.weight, bias, stats, fit.loss)
    fit = spec.fit(*union(*stats.apply(pos, neg), labels), seed)
    return LinearProbe(method_id, spec.form, fit.weight, fit.bias, stats, fit.loss)


def union(pos: torch.Tensor, neg: torch.Tensor, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """A template ensemble's [n, k, d] pairs as the n * k pairs one probe is fitted on (each
    example's label on each of its templates); [n, d] pairs as they are."""
    if pos.ndim == 2:
        return pos, neg, labels
    return pos.flatten(0, 1), neg.flatten(0, 1), np.repeat(labels, pos.shape[1])


def split_inputs(acts: ActivationSet, config: SweepConfig, rows: np.ndarray) -> FitInputs:
    """The raw pairs of `rows` at the sweep's layer, their labels, and what the sweep's
    normalization reads of the companion set (the same rows of the negated pairs, or all
    the content-free pairs); a UserError if that companion is not attached."""
    pos, neg = acts.layer(config.layer)
    kind = NORMALIZATION_REGISTRY[config.normalization].companion
    if kind is None:
        return FitInputs(pos[rows], neg[rows], acts.labels[rows])
    if acts.companion is None:
        raise UserError(
            f"The normalization '{config.normalization}' needs its companion pairs, and this activation "
            "set has none attached (core.extraction.companions.with_companion)."
        )
    companion_pos, companion_neg = acts.companion.layer(config.layer)
    if kind != CONTENT_FREE:
        companion_pos, companion_neg = companion_pos[rows], companion_neg[rows]
    return FitInputs(pos[rows], neg[rows], acts.labels[rows], (companion_pos, companion_neg))


def fit_split(inputs: FitInputs, kind: str) -> NormStats:
    """Normalization `kind` fitted on one split's inputs."""
    return fit_stats(inputs.pos, inputs.neg, kind, inputs.labels, inputs.companion)


def normalize_test_pairs(
    probe: LinearProbe, test: FitInputs, test_normalization: str, own_stats: dict[str, NormStats] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The test pairs as this probe sees them: normalized with the test split's own
    statistics ("own", of the probe's normalization kind) or the probe's training ones."""
    if test_normalization == "own":
        kind = probe.train_stats.kind
        stats = own_stats[kind] if own_stats is not None else fit_split(test, kind)
    else:
        stats = probe.train_stats
    return stats.apply(test.pos, test.neg)


def _ccs_problems(
    pos: torch.Tensor,
    neg: torch.Tensor,
    cells: list[tuple[float, int]],
    draws: dict,
    cell_stats: dict,
    config: SweepConfig,
    layout: str,
) -> tuple[list[CCSProblem], list[list]]:
    """The CCS cells as engine problems. "per_seed" (the default, faster on a CPU): one
    problem per seed, whose draws are nested across p, so its cells share most of their
    examples and each pool stays small. "shared": one problem over every training row."""
    if pos.ndim == 3:
        return _ensemble_ccs_problems(pos, neg, cells, draws, cell_stats, config)
    groups = [[cell for cell in cells if cell[1] == seed] for seed in config.seeds] if layout == "per_seed" else [cells]
    problems = []
    for group in groups:
        rows = np.unique(np.concatenate([draws[cell] for cell in group]))
        init = [initial_parameters(pos.shape[1], config.ccs.restarts, seed) for _, seed in group]
        membership = torch.from_numpy(np.stack([np.isin(rows, draws[cell]) for cell in group]))
        problems.append(
            ccs_problem(
                pos[rows],
                neg[rows],
                membership,
                [cell_stats[cell] for cell in group],
                torch.stack([w for w, _ in init]),
                torch.stack([b for _, b in init]),
            )
        )
    return problems, groups


def _ensemble_ccs_problems(
    pos: torch.Tensor, neg: torch.Tensor, cells: list[tuple[float, int]], draws: dict, cell_stats: dict, config
) -> tuple[list[CCSProblem], list[list]]:
    """A template ensemble's CCS cells, one problem each: the cell's draw normalized per
    template with its own statistics, then every (example, template) pair a row of one
    pool, read as it is (statistics of zero mean)."""
    problems = []
    for cell in cells:
        rows = draws[cell]
        pos_n, neg_n, _ = union(*cell_stats[cell].apply(pos[rows], neg[rows]), np.zeros(len(rows)))
        zero = torch.zeros(pos.shape[-1])
        weight, bias = initial_parameters(pos.shape[-1], config.ccs.restarts, cell[1])
        problems.append(
            ccs_problem(
                pos_n,
                neg_n,
                torch.ones(1, len(pos_n), dtype=torch.bool),
                [NormStats("none", zero, zero)],
                weight[None],
                bias[None],
            )
        )
    return problems, [[cell] for cell in cells]


def _batched_probes(
    method: str, fits: list[CCSFit], owners: list[list], cell_stats: dict
) -> dict[CellKey, LinearProbe]:
    """The probe of every cell of `method` from its batched engine's fits, one per problem
    (whose cells `owners` lists, as _ccs_problems made them)."""
    form = METHOD_REGISTRY[method].form
    return {
        (method, *cell): LinearProbe(
            method, form, fit.weight[i], float(fit.bias[i]), cell_stats[cell], float(fit.loss[i])
        )
        for fit, cells in zip(fits, owners)
        for i, cell in enumerate(cells)
    }


def _epoch_progress(report: ProgressFn, label: str, problems: int, epochs: int, done: int, total: int) -> Progress:
    """A batched engine's progress (epochs done of every problem's) as the sweep's report,
    in which this method's `epochs` steps follow the `done` already reported."""
    return lambda epochs_done, epochs_total: report(
        done + epochs_done * epochs // epochs_total,
        total,
        f"{label} {100 * epochs_done // epochs_total}% of {problems} x {epochs} epochs",
    )


def _deployed_log_odds(probes: dict[CellKey, LinearProbe], test: FitInputs) -> np.ndarray:
    """Each probe's log-odds [P, n] on the test pairs read with its training statistics,
    as a deployed probe reads new pairs."""
    return np.stack(
        [probe.scores(*normalize_test_pairs(probe, test, DEPLOYMENT)).log_odds for probe in probes.values()]
    )


def _estimated_prior_thresholds(
    probes: dict[CellKey, LinearProbe], pos: torch.Tensor, neg: torch.Tensor, draws: dict
) -> np.ndarray:
    """Each probe's label-free threshold [P]: the midpoint of a two-Gaussian mixture of its
    log-odds on its own training pairs (core.probes.mixture), where balanced classes meet.
    Every draw holds n_train pairs, so all the mixtures are fitted in one batched EM."""
    scores = np.stack(
        [
            probe.scores(*probe.train_stats.apply(pos[draws[(p, seed)]], neg[draws[(p, seed)]])).log_odds
            for (_, p, seed), probe in probes.items()
        ]
    )
    return np.array([mixture.midpoint for mixture in two_gaussians_many(scores)])


def train_cells(
    acts: ActivationSet, config: SweepConfig, progress: ProgressFn | None, device: str, ccs_layout: str
) -> SweepResult:
    """Train and evaluate every cell of `config` on activation set `acts` (no cache involved)."""
    started = time.perf_counter()
    report = progress or (lambda done, total, message: None)
    pos, neg = acts.layer(config.layer)
    labels = acts.labels
    test_idx, pool = split_test(labels, config.n_test, config.split_seed, acts.texts)
    check_pool(labels, pool, config.p_levels, config.n_train)
    cells = [(float(p), int(seed)) for seed in config.seeds for p in config.p_levels]
    draws = {cell: training_draw(labels, pool, cell[0], config.n_train, cell[1]) for cell in cells}

    test = split_inputs(acts, config, test_idx)
    own_stats = {kind: fit_split(test, kind) for kind in {config.normalization, "none"}}
    # Each cell's normalization, fitted once and shared by every method that reads
    # normalized pairs (the others read raw pairs: "none").
    cell_stats = {cell: fit_split(split_inputs(acts, config, draws[cell]), config.normalization) for cell in cells}
    batched = [m for m in config.methods if METHOD_REGISTRY[m].train_batched is not None]
    baselines = [m for m in config.methods if METHOD_REGISTRY[m].fit is not None]
    total = len(batched) * config.ccs.epochs + len(baselines) * len(cells)
    probes: dict[CellKey, LinearProbe] = {}

    done = 0
    for method in batched:
        spec = METHOD_REGISTRY[method]
        problems, owners = _ccs_problems(pos, neg, cells, draws, cell_stats, config, ccs_layout)
        progress = _epoch_progress(report, spec.label, len(problems), config.ccs.epochs, done, total)
        fits = spec.train_batched(problems, config.ccs, pick_device(device), progress=progress)
        probes.update(_batched_probes(method, fits, owners, cell_stats))
        done += config.ccs.epochs

    @functools.cache
    def raw_fit(fit: Callable[..., Fit], cell: tuple[float, int]) -> Fit:
        rows = draws[cell]
        return fit(pos[rows], neg[rows], labels[rows], cell[1])

    # One BLAS thread: these fits make thousands of small matrix-vector products, and on
    # the 2-core dev machine numpy's two-thread BLAS made the demo's baselines 1.5x slower
    # (3.5-3.9 s against 2.3 s). It also makes them independent of the core count.
    with threadpool_limits(limits=1, user_api="blas"):
        for method in baselines:
            kind = method_stats_kind(method, config.normalization)
            for cell in cells:
                rows = draws[cell]
                stats = cell_stats[cell] if kind == config.normalization else fit_stats(pos[rows], neg[rows], kind)
                probes[(method, *cell)] = _fit_baseline(
                    method, pos[rows], neg[rows], labels[rows], cell[1], stats, functools.partial(raw_fit, cell=cell)
                )
                done += 1
                report(done, total, f"{METHOD_REGISTRY[method].label}: p={cell[0]}, seed {cell[1]}")

    scores = [
        probe.scores(*normalize_test_pairs(probe, test, config.test_normalization, own_stats))
        for probe in probes.values()
    ]
    confidences, log_odds = np.stack([s.confidence for s in scores]), np.stack([s.log_odds for s in scores])
    resolve_sign = np.array([not METHOD_REGISTRY[method].supervised for method, _, _ in probes])
    evaluated = evaluate_many(test.labels, confidences, resolve_sign, log_odds)
    deployed = log_odds if config.test_normalization == DEPLOYMENT else _deployed_log_odds(probes, test)
    prior_accuracy = threshold_accuracy(
        test.labels,
        deployed,
        _estimated_prior_thresholds(probes, pos, neg, draws),
        np.array([metrics["sign_flipped"] for metrics in evaluated]),
    )
    records = []
    for ((method, p, seed), probe), metrics, at_prior in zip(probes.items(), evaluated, prior_accuracy):
        rows = draws[(p, seed)]
        records.append(
            {
                "method": method,
                "normalization": config.normalization,
                "test_normalization": config.test_normalization,
                "layer": config.layer,
                "p": p,
                "p_actual": float(labels[rows].mean()),
                "seed": seed,
                "n_train": len(rows),
                "n_train_true": int(labels[rows].sum()),
                "n_test": len(test_idx),
                **metrics,
                ESTIMATED_PRIOR: float(at_prior),
                "loss": probe.loss,
                "config_hash": "",
                "activation_key": acts.key,
            }
        )
    table = pd.DataFrame.from_records(records)
    return SweepResult("", config, acts.key, table, probes, test_idx, time.perf_counter() - started)
