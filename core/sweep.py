"""The imbalance sweep: every method at every level of p and every seed, on one layer of
one activation set, as a tidy table with one row per cell.

Columns (stable names, saved CSVs rely on them): method, normalization,
test_normalization, layer, p (fraction of training pairs whose + completion is true),
p_actual (the exact fraction drawn), seed, n_train, n_train_true, n_test, accuracy
(unsupervised methods sign-resolved as max(acc, 1 - acc), see core.metrics),
accuracy_raw, sign_flipped, auroc, accuracy_calibrated (threshold at the median test
score), ece (expected calibration error; both in core.metrics), loss (the method's training loss: CCS loss of the
best restart, logistic log-loss; empty for TPC and random), config_hash, activation_key.

Each cell is a pure function of (activation set, config, cell): its training draw and
its CCS initial weights come from the seed alone, never from which other cells ran.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from core import __version__
from core.config import CCSConfig, SweepConfig, config_hash, to_jsonable
from core.errors import UserError
from core.metrics import evaluate_many
from core.models import pick_device
from core.normalizations import CONTENT_FREE, NORMALIZATION_REGISTRY, fit_stats
from core.normalizations.stats import FitInputs, NormStats
from core.probes import METHOD_REGISTRY, PAIR
from core.probes.base import LinearProbe
from core.probes.ccs import CCSProblem, initial_parameters, train_ccs
from core.probes.supervised import shifted_intercept
from core.sampling import check_pool, split_test, training_draw
from core.store import ActivationSet, CorruptEntry, SweepStore, content_key, key_lock, quarantine
from core.validate import check_sweep

ProgressFn = Callable[[int, int, str], None]
CellKey = tuple[str, float, int]


@dataclass
class SweepResult:
    """A finished sweep: its table, every cell's trained probe, and the test split.
    `cached`: loaded whole from the store; `reused`: methods whose cells came from it."""

    key: str
    config: SweepConfig
    activation_key: str
    table: pd.DataFrame
    probes: dict[CellKey, LinearProbe]
    test_indices: np.ndarray
    seconds: float
    cached: bool = False
    reused: tuple[str, ...] = ()


# Raised whenever a change to the code alters a cell's numbers, so that sweeps cached by
# older code are recomputed instead of mixed with new ones (activations stay cached).
# 2: logistic regression solved on centered differences to tol 1e-6 (it had stopped short);
#    test confidences in float64 (float32 sigmoids saturated and tied).
# 3: training pool disjoint from the test split by text; checksummed entries.
# 4: calibrated accuracy and expected calibration error in every row.
SWEEP_REVISION = 4


def sweep_key(activation_key: str, config: SweepConfig) -> str:
    """Cache key of a sweep: activation set + config + library version + SWEEP_REVISION."""
    return content_key({"kind": "sweep", "library": __version__, "revision": SWEEP_REVISION,
                        "activations": activation_key, "config": to_jsonable(config)})


def validate_config(config: SweepConfig, acts: ActivationSet) -> None:
    """Raise a UserError for a config this activation set cannot run (core.validate's
    checks, then the layer)."""
    check_sweep(config)
    if config.layer not in acts.layers:
        raise UserError(f"Layer {config.layer} was not extracted; this activation set has layers "
                        f"{min(acts.layers)}..{max(acts.layers)}.")


def _method_stats_kind(method: str, normalization: str) -> str:
    return normalization if METHOD_REGISTRY[method].normalized_inputs else "none"


def _fit_baseline(method_id: str, pos: torch.Tensor, neg: torch.Tensor, labels: np.ndarray, seed: int,
                  stats: NormStats, raw_fit: Callable[[Callable], tuple[torch.Tensor, float, float]]) -> LinearProbe:
    """One baseline probe (a registry method with a fit) on a cell's raw training pairs,
    normalized with `stats`. A shift-equivariant method under a shift-only normalization
    is the cell's fit on raw pairs, `raw_fit(fit)`, with its intercept moved (see
    shifted_intercept), so the methods that share a fit share it per cell."""
    spec = METHOD_REGISTRY[method_id]
    if spec.shift_equivariant and stats.std_pos is None:
        weight, bias, loss = raw_fit(spec.fit)
        return LinearProbe(method_id, spec.form, weight,
                           shifted_intercept(weight, bias, stats.mean_pos - stats.mean_neg), stats, loss)
    pos_n, neg_n = stats.apply(pos, neg)
    weight, bias, loss = spec.fit(pos_n, neg_n, labels, seed)
    return LinearProbe(method_id, spec.form, weight, bias, stats, loss)


def split_inputs(acts: ActivationSet, config: SweepConfig, rows: np.ndarray) -> FitInputs:
    """The raw pairs of `rows` at the sweep's layer, their labels, and what the sweep's
    normalization reads of the companion set (the same rows of the negated pairs, or all
    the content-free pairs); a UserError if that companion is not attached."""
    pos, neg = acts.layer(config.layer)
    kind = NORMALIZATION_REGISTRY[config.normalization].companion
    if kind is None:
        return FitInputs(pos[rows], neg[rows], acts.labels[rows])
    if acts.companion is None:
        raise UserError(f"The normalization '{config.normalization}' needs its companion pairs, and this activation "
                        "set has none attached (core.companions.with_companion).")
    companion_pos, companion_neg = acts.companion.layer(config.layer)
    if kind != CONTENT_FREE:
        companion_pos, companion_neg = companion_pos[rows], companion_neg[rows]
    return FitInputs(pos[rows], neg[rows], acts.labels[rows], (companion_pos, companion_neg))


def fit_split(inputs: FitInputs, kind: str) -> NormStats:
    """Normalization `kind` fitted on one split's inputs."""
    return fit_stats(inputs.pos, inputs.neg, kind, inputs.labels, inputs.companion)


def normalize_test_pairs(probe: LinearProbe, test: FitInputs, test_normalization: str,
                         own_stats: dict[str, NormStats] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The test pairs as this probe sees them: normalized with the test split's own
    statistics ("own", of the probe's normalization kind) or the probe's training ones."""
    if test_normalization == "own":
        kind = probe.train_stats.kind
        stats = own_stats[kind] if own_stats is not None else fit_split(test, kind)
    else:
        stats = probe.train_stats
    return stats.apply(test.pos, test.neg)


def _ccs_problems(pos: torch.Tensor, neg: torch.Tensor, cells: list[tuple[float, int]], draws: dict,
                  cell_stats: dict, config: SweepConfig, layout: str) -> tuple[list[CCSProblem], list[list]]:
    """The CCS cells as engine problems. "per_seed" (the default, faster on a CPU): one
    problem per seed, whose draws are nested across p, so its cells share most of their
    examples and each pool stays small. "shared": one problem over every training row."""
    groups = [[cell for cell in cells if cell[1] == seed] for seed in config.seeds] if layout == "per_seed" \
        else [cells]
    problems = []
    for group in groups:
        rows = np.unique(np.concatenate([draws[cell] for cell in group]))
        init = [initial_parameters(pos.shape[1], config.ccs.restarts, seed) for _, seed in group]
        problems.append(CCSProblem(
            pos=pos[rows], neg=neg[rows],
            membership=torch.from_numpy(np.stack([np.isin(rows, draws[cell]) for cell in group])),
            stats=[cell_stats[cell] for cell in group], init_weight=torch.stack([w for w, _ in init]),
            init_bias=torch.stack([b for _, b in init])))
    return problems, groups


def method_config(config: SweepConfig, method: str) -> SweepConfig:
    """The part of `config` that decides the cells of `method`: `config` with that method
    alone, and the CCS settings at their defaults for every method but CCS. Each method's
    cells are cached under this config, so changing the CCS optimizer reuses the baselines."""
    return dataclasses.replace(config, methods=(method,), ccs=config.ccs if method == "ccs" else CCSConfig())


def _load_checked(store: SweepStore, key: str, config: SweepConfig, activation_key: str,
                  status: Callable[[str], None]) -> SweepResult | None:
    """The saved sweep under `key`, or None if there is none or it failed its check (then
    it has been quarantined and `status` says so)."""
    if not store.has(key):
        return None
    try:
        return load_sweep(store, key, config, activation_key)
    except CorruptEntry as error:
        status(str(error))
        return None


def run_sweep(acts: ActivationSet, config: SweepConfig, progress: ProgressFn | None = None,
              device: str = "auto", store: SweepStore | None = None, ccs_layout: str = "per_seed",
              status: Callable[[str], None] | None = None) -> SweepResult:
    """Run (or load from `store`) the sweep `config` on activation set `acts`. With a store,
    each method's cells are also saved on their own and reused by any later sweep that
    needs them (see method_config), and the work runs under the key's lock, so a second
    process asking for it waits and loads. A saved result that fails its check is set
    aside and recomputed (`status` says so). `ccs_layout` only changes how CCS cells are
    batched (see _ccs_problems), not what they compute."""
    validate_config(config, acts)
    say = status or (lambda _message: None)
    key = sweep_key(acts.key, config)
    if store is None:
        return _assemble(acts, config, key, {}, progress, device, None, ccs_layout)
    found = _load_checked(store, key, config, acts.key, say)
    if found is not None:
        return found
    with key_lock(store.root, key, on_wait=lambda: say("Another run is training this sweep; waiting for it")):
        found = _load_checked(store, key, config, acts.key, say)
        if found is not None:
            return found
        parts = {}
        for method in config.methods:
            part_config = method_config(config, method)
            part = _load_checked(store, sweep_key(acts.key, part_config), part_config, acts.key, say)
            if part is not None:
                parts[method] = part
        return _assemble(acts, config, key, parts, progress, device, store, ccs_layout)


def _assemble(acts: ActivationSet, config: SweepConfig, key: str, parts: dict[str, SweepResult],
              progress: ProgressFn | None, device: str, store: SweepStore | None, ccs_layout: str) -> SweepResult:
    """Train the methods missing from `parts`, save each method's cells and the whole
    (with a store), and return the sweep."""
    started = time.perf_counter()
    missing = tuple(m for m in config.methods if m not in parts)
    if missing:
        trained = _train(acts, dataclasses.replace(config, methods=missing), progress, device, ccs_layout)
        for method in missing:
            parts[method] = _restrict(trained, method_config(config, method))
            if store is not None:
                _save(store, parts[method], acts)
    chash = config_hash(config)
    table = pd.concat([parts[m].table for m in config.methods], ignore_index=True).assign(config_hash=chash)
    probes = {cell: probe for m in config.methods for cell, probe in parts[m].probes.items()}
    result = SweepResult(key, config, acts.key, table, probes, parts[config.methods[0]].test_indices,
                         time.perf_counter() - started, reused=tuple(m for m in config.methods if m not in missing))
    if store is not None and not store.has(key):
        _save(store, result, acts)
    return result


def _restrict(result: SweepResult, config: SweepConfig) -> SweepResult:
    """The cells of the one method of `config` out of a trained sweep, as a sweep of their own."""
    (method,) = config.methods
    key = sweep_key(result.activation_key, config)
    table = result.table[result.table.method == method].reset_index(drop=True).assign(config_hash=config_hash(config))
    probes = {cell: probe for cell, probe in result.probes.items() if cell[0] == method}
    return SweepResult(key, config, result.activation_key, table, probes, result.test_indices, result.seconds)


def extraction_record(meta: dict) -> dict:
    """What an activation set was extracted from (config, model name, dataset description,
    size), out of its metadata: a sweep's record carries it, so the library of runs can
    say so without the activations."""
    return {name: meta[name] for name in ("config", "model_name", "dataset_description", "n") if name in meta}


def _save(store: SweepStore, result: SweepResult, acts: ActivationSet) -> None:
    store.save(result.key, result.table, probes_to_tensors(result),
               {"config": to_jsonable(result.config), "seconds": result.seconds,
                "activation_key": result.activation_key, "created": time.time(),
                "extraction": extraction_record(acts.meta)})


def _train(acts: ActivationSet, config: SweepConfig, progress: ProgressFn | None, device: str,
           ccs_layout: str) -> SweepResult:
    """Train and evaluate every cell of `config` (no cache involved)."""
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
    baselines = [m for m in config.methods if METHOD_REGISTRY[m].fit is not None]
    total = (config.ccs.epochs if "ccs" in config.methods else 0) + len(baselines) * len(cells)
    probes: dict[CellKey, LinearProbe] = {}

    if "ccs" in config.methods:
        problems, owners = _ccs_problems(pos, neg, cells, draws, cell_stats, config, ccs_layout)
        fits = train_ccs(problems, config.ccs, pick_device(device),
                         progress=lambda epochs_done, epochs_total: report(
                             epochs_done * config.ccs.epochs // epochs_total, total,
                             f"CCS {100 * epochs_done // epochs_total}% of {len(problems)} x {config.ccs.epochs} "
                             "epochs"))
        for fit, seed_cells in zip(fits, owners):
            for i, cell in enumerate(seed_cells):
                probes[("ccs", *cell)] = LinearProbe("ccs", PAIR, fit.weight[i], float(fit.bias[i]), fit.stats[i],
                                                     float(fit.loss[i]))

    @functools.cache
    def raw_fit(fit: Callable, cell: tuple[float, int]) -> tuple[torch.Tensor, float, float]:
        rows = draws[cell]
        return fit(pos[rows], neg[rows], labels[rows], cell[1])

    done = config.ccs.epochs if "ccs" in config.methods else 0
    # One BLAS thread: these fits make thousands of small matrix-vector products, and on
    # the 2-core dev machine numpy's two-thread BLAS made the demo's baselines 1.5x slower
    # (3.5-3.9 s against 2.3 s). It also makes them independent of the core count.
    with threadpool_limits(limits=1, user_api="blas"):
        for method in baselines:
            kind = _method_stats_kind(method, config.normalization)
            for cell in cells:
                rows = draws[cell]
                stats = cell_stats[cell] if kind == config.normalization else fit_stats(pos[rows], neg[rows], kind)
                probes[(method, *cell)] = _fit_baseline(method, pos[rows], neg[rows], labels[rows], cell[1], stats,
                                                        functools.partial(raw_fit, cell=cell))
                done += 1
                report(done, total, f"{METHOD_REGISTRY[method].label}: p={cell[0]}, seed {cell[1]}")

    scores = [probe.scores(*normalize_test_pairs(probe, test, config.test_normalization, own_stats))
              for probe in probes.values()]
    confidences, log_odds = np.stack([s.confidence for s in scores]), np.stack([s.log_odds for s in scores])
    resolve_sign = np.array([not METHOD_REGISTRY[method].supervised for method, _, _ in probes])
    records = []
    for ((method, p, seed), probe), metrics in zip(probes.items(), evaluate_many(test.labels, confidences,
                                                                                   resolve_sign, log_odds)):
        rows = draws[(p, seed)]
        records.append({"method": method, "normalization": config.normalization,
                        "test_normalization": config.test_normalization, "layer": config.layer, "p": p,
                        "p_actual": float(labels[rows].mean()), "seed": seed, "n_train": len(rows),
                        "n_train_true": int(labels[rows].sum()), "n_test": len(test_idx), **metrics,
                        "loss": probe.loss, "config_hash": "", "activation_key": acts.key})
    table = pd.DataFrame.from_records(records)
    return SweepResult("", config, acts.key, table, probes, test_idx, time.perf_counter() - started)


def probes_to_tensors(result: SweepResult) -> dict[str, torch.Tensor]:
    """Flatten every cell's probe into named tensors (safetensors), stacked per method in
    the order of `<method>.cells` ([C, 2]: p, seed)."""
    tensors: dict[str, torch.Tensor] = {"test_indices": torch.from_numpy(result.test_indices.astype(np.int64))}
    for method in dict.fromkeys(m for m, _, _ in result.probes):
        keys = [k for k in result.probes if k[0] == method]
        probes = [result.probes[k] for k in keys]
        tensors[f"{method}.cells"] = torch.tensor([[p, seed] for _, p, seed in keys], dtype=torch.float64)
        tensors[f"{method}.weight"] = torch.stack([probe.weight for probe in probes])
        tensors[f"{method}.bias"] = torch.tensor([probe.bias for probe in probes], dtype=torch.float64)
        tensors[f"{method}.loss"] = torch.tensor([probe.loss for probe in probes], dtype=torch.float64)
        stats = [probe.train_stats.to_tensors(f"{method}.") for probe in probes]
        tensors.update({name: torch.stack([each[name] for each in stats]) for name in stats[0]})
    return tensors


def probes_from_tensors(tensors: dict[str, torch.Tensor], config: SweepConfig) -> dict[CellKey, LinearProbe]:
    """Inverse of probes_to_tensors."""
    probes = {}
    for method in config.methods:
        kind = _method_stats_kind(method, config.normalization)
        form = METHOD_REGISTRY[method].form
        for i, (p, seed) in enumerate(tensors[f"{method}.cells"].tolist()):
            stats = NormStats.from_tensors(kind, tensors, f"{method}.", i)
            probes[(method, float(p), int(seed))] = LinearProbe(
                method, form, tensors[f"{method}.weight"][i], float(tensors[f"{method}.bias"][i]), stats,
                float(tensors[f"{method}.loss"][i]))
    return probes


def load_sweep(store: SweepStore, key: str, config: SweepConfig, activation_key: str) -> SweepResult:
    """A saved sweep, with its probes, marked as cached (CorruptEntry, the entry set aside,
    if its files pass their checksums but do not hold what `config` needs)."""
    table, tensors, info = store.load(key)
    try:
        probes = probes_from_tensors(tensors, config)
        return SweepResult(key, config, activation_key, table, probes, tensors["test_indices"].numpy(),
                           float(info["seconds"]), cached=True)
    except (KeyError, IndexError, ValueError, TypeError) as error:
        raise quarantine(store.root, key, f"missing {error}") from None


def run_layer_scan(activation_store, activation_key: str, config: SweepConfig, layers: list[int],
                   progress: ProgressFn | None = None, device: str = "auto",
                   store: SweepStore | None = None, status: Callable[[str], None] | None = None) -> pd.DataFrame:
    """The sweep `config` at each of `layers` (one layer in memory at a time), as one
    table; every layer's sweep is cached on its own, so a rerun only trains new layers.
    The companion pairs the normalization asks for must have been extracted."""
    from core.companions import sweep_activations

    tables = []
    for position, layer in enumerate(layers):
        per_layer = dataclasses.replace(config, layer=layer)
        acts = sweep_activations(activation_store, activation_key, per_layer)
        tables.append(run_sweep(acts, per_layer, device=device, store=store, status=status).table)
        if progress is not None:
            progress(position + 1, len(layers), f"layer {layer}")
    return pd.concat(tables, ignore_index=True)
