"""The imbalance sweep: every method at every level of p and every seed, on one layer of
one activation set, as a tidy table with one row per cell.

Columns (stable names, saved CSVs rely on them): method, normalization,
test_normalization, layer, p (fraction of training pairs whose + completion is true),
p_actual (the exact fraction drawn), seed, n_train, n_train_true, n_test, accuracy
(unsupervised methods sign-resolved as max(acc, 1 - acc), see core.metrics),
accuracy_raw, sign_flipped, auroc, accuracy_calibrated (threshold at the median test
score), accuracy_prior (the test split read with the training statistics, thresholded
where a mixture of the probe's training scores puts the classes' midpoint), ece
(expected calibration error; all in core.metrics), loss (the method's training loss: CCS loss of the
best restart, logistic log-loss; empty for TPC and random), config_hash, activation_key.
RESULT_TABLE says what each holds, and every table is checked against it where it is
loaded (check_results), so a table from a pack is held to it as well.

The cells are trained by core.experiments.training; this module keys, caches and
assembles them: each method's cells are also stored on their own, so a later sweep that
needs them (another CCS optimizer, another set of methods) reuses them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import pandas as pd

from core import __version__
from core.config import CCSConfig, ProgressFn, config_hash, to_jsonable
from core.errors import UserError
from core.experiments.cells import (
    SweepResult,
    check_probes,
    probes_from_tensors,
    probes_to_tensors,
)
from core.experiments.training import train_cells
from core.extraction.runtime import Runtime
from core.metrics import METRICS
from core.normalizations import NEGATED, NORMALIZATION_REGISTRY
from core.probes import METHOD_IDS, trains_with_ccs_optimizer
from core.settings.sweep import SweepConfig
from core.settings.validate import check_sweep
from core.store.activations import ActivationSet
from core.store.entries import CorruptEntry, content_key, error_reason, key_lock, quarantine
from core.store.schema import (
    FLAG,
    FRACTION,
    HEX_KEY,
    INT,
    MAYBE_FRACTION,
    MAYBE_NUMBER,
    TEXT,
    Column,
    Table,
    check_table,
)
from core.store.sweeps import SWEEP_FILES, SweepStore

# Raised whenever a change to the code alters a cell's numbers, so that sweeps cached by
# older code are recomputed instead of mixed with new ones (activations stay cached).
# 2: logistic regression solved on centered differences to tol 1e-6 (it had stopped short);
#    test confidences in float64 (float32 sigmoids saturated and tied).
# 3: training pool disjoint from the test split by text; checksummed entries.
# 4: calibrated accuracy and expected calibration error in every row.
# 5: accuracy_prior (the estimated-prior threshold) in every row.
SWEEP_REVISION = 5

# The columns of a results table and what each holds (its rows: one per cell of its run).
RESULT_COLUMNS = {
    "method": Column("text", choices=METHOD_IDS),
    "normalization": TEXT,
    "test_normalization": TEXT,
    "layer": INT,
    "p": FRACTION,
    "p_actual": FRACTION,
    "seed": INT,
    "n_train": INT,
    "n_train_true": INT,
    "n_test": INT,
    **dict.fromkeys(METRICS, MAYBE_FRACTION),
    "accuracy_raw": MAYBE_FRACTION,
    "sign_flipped": FLAG,
    "loss": MAYBE_NUMBER,
    "config_hash": TEXT,
    "activation_key": TEXT,
}
# What a sweep's record (info.json) holds: the config it ran (checked as a SweepConfig),
# where its activations came from, and the checksums of its other files.
RECORD_SCHEMA = {
    "type": "object",
    "required": ["config", "seconds", "activation_key", "key", "checksums"],
    "additionalProperties": False,
    "properties": {
        "config": {"type": "object"},
        "seconds": {"type": "number", "minimum": 0},
        "activation_key": HEX_KEY,
        "created": {"type": "number"},
        "key": HEX_KEY,
        "checksums": {
            "type": "object",
            "required": list(SWEEP_FILES),
            "additionalProperties": False,
            "properties": {name: {"type": "string", "pattern": "^[0-9a-f]{32}$"} for name in SWEEP_FILES},
        },
        "extraction": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "config": {"type": "object"},
                "model_name": {"type": "string", "maxLength": 400},
                "dataset_description": {"type": "string", "maxLength": 2000},
                "n": {"type": "integer", "minimum": 0},
            },
        },
    },
}


def check_results(table: pd.DataFrame, config: SweepConfig, activation_key: str) -> None:
    """A one-line ValueError unless `table` is what a sweep of `config` on the activation
    set `activation_key` writes: the columns of RESULT_COLUMNS, one row for each of its
    cells, and in every row its method, level of p and seed, its normalizations, layer,
    config hash and activation key."""
    config = read_config(config)
    cells = {(m, round(float(p), 12), int(s)) for m in config.methods for p in config.p_levels for s in config.seeds}
    check_table(table, Table(RESULT_COLUMNS, len(cells), len(cells)))
    found = {(m, round(float(p), 12), int(s)) for m, p, s in zip(table.method, table.p, table.seed)}
    if found != cells:
        raise ValueError("its rows are not one for each cell (method, p, seed) of its run")
    fixed = {
        "normalization": config.normalization,
        "test_normalization": config.test_normalization,
        "layer": config.layer,
        "config_hash": config_hash(config),
        "activation_key": activation_key,
    }
    for name, value in fixed.items():
        if not (table[name] == value).all():
            raise ValueError(f"its column {name} is not its run's")
    if not ((table.n_train_true >= 0) & (table.n_train_true <= table.n_train)).all():
        raise ValueError("its counts of true training pairs are not within its draws")


def read_config(config: SweepConfig) -> SweepConfig:
    """`config` with every field that its methods and normalization do not read at its
    default, so that two configs that train the same cells are one run, under one key: the
    negated prompt only under a normalization that asks for the negated pairs, the CCS
    optimizer settings only when a method that uses them is among the methods."""
    reads_negated = NORMALIZATION_REGISTRY[config.normalization].companion == NEGATED
    return dataclasses.replace(
        config,
        negated_prompt=config.negated_prompt if reads_negated else None,
        ccs=config.ccs if trains_with_ccs_optimizer(config.methods) else CCSConfig(),
    )


def sweep_key(activation_key: str, config: SweepConfig) -> str:
    """Cache key of a sweep: activation set + what the config reads (read_config) + library
    version + SWEEP_REVISION."""
    return content_key(
        {
            "kind": "sweep",
            "library": __version__,
            "revision": SWEEP_REVISION,
            "activations": activation_key,
            "config": to_jsonable(read_config(config)),
        }
    )


def validate_config(config: SweepConfig, acts: ActivationSet) -> None:
    """Raise a UserError for a config this activation set cannot run (core.settings.validate's
    checks, then the layer)."""
    check_sweep(config)
    if config.layer not in acts.layers:
        raise UserError(
            f"Layer {config.layer} was not extracted; this activation set has layers "
            f"{min(acts.layers)}..{max(acts.layers)}."
        )


def method_config(config: SweepConfig, method: str) -> SweepConfig:
    """The part of `config` that decides the cells of `method`: `config` with that method
    alone, and the CCS optimizer settings at their defaults unless the method uses them.
    Each method's cells are cached under this config, so changing the CCS optimizer reuses
    the baselines."""
    ccs = config.ccs if trains_with_ccs_optimizer((method,)) else CCSConfig()
    return dataclasses.replace(config, methods=(method,), ccs=ccs)


def _load_checked(
    store: SweepStore, key: str, config: SweepConfig, activation_key: str, status: Callable[[str], None]
) -> SweepResult | None:
    """The saved sweep under `key`, or None if there is none or it failed its check (then
    it has been quarantined and `status` says so)."""
    if not store.has(key):
        return None
    try:
        return load_sweep(store, key, config, activation_key)
    except CorruptEntry as error:
        status(str(error))
        return None


def run_sweep(
    acts: ActivationSet, config: SweepConfig, runtime: Runtime | None = None, ccs_layout: str = "per_seed"
) -> SweepResult:
    """Run (or load from runtime.sweeps) the sweep `config` on activation set `acts`, on the
    runtime's device, reporting to its sweep_progress and status; without a runtime (or
    with no sweep store) it is computed here and stored nowhere. With a store, each
    method's cells are also saved on their own and reused by any later sweep that needs
    them (see method_config), and the work runs under the key's lock, so a second process
    asking for it waits and loads. A saved result that fails its check is set aside and
    recomputed (the status says so). `ccs_layout` only changes how CCS cells are batched
    (see _ccs_problems), not what they compute."""
    validate_config(config, acts)
    config = read_config(config)
    runtime = runtime or Runtime(sweeps=None)
    store, progress, device, say = runtime.sweeps, runtime.sweep_progress, runtime.device, runtime.say
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


def _assemble(
    acts: ActivationSet,
    config: SweepConfig,
    key: str,
    parts: dict[str, SweepResult],
    progress: ProgressFn | None,
    device: str,
    store: SweepStore | None,
    ccs_layout: str,
) -> SweepResult:
    """Train the methods missing from `parts`, save each method's cells and the whole
    (with a store), and return the sweep."""
    started = time.perf_counter()
    missing = tuple(m for m in config.methods if m not in parts)
    if missing:
        trained = train_cells(acts, dataclasses.replace(config, methods=missing), progress, device, ccs_layout)
        for method in missing:
            parts[method] = _restrict(trained, method_config(config, method))
            if store is not None:
                _save(store, parts[method], acts)
    chash = config_hash(config)
    table = pd.concat([parts[m].table for m in config.methods], ignore_index=True).assign(config_hash=chash)
    probes = {cell: probe for m in config.methods for cell, probe in parts[m].probes.items()}
    result = SweepResult(
        key,
        config,
        acts.key,
        table,
        probes,
        parts[config.methods[0]].test_indices,
        time.perf_counter() - started,
        reused=tuple(m for m in config.methods if m not in missing),
    )
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
    store.save(
        result.key,
        result.table,
        probes_to_tensors(result.probes, result.test_indices),
        {
            "config": to_jsonable(result.config),
            "seconds": result.seconds,
            "activation_key": result.activation_key,
            "created": time.time(),
            "extraction": extraction_record(acts.meta),
        },
    )


def check_fits(result: SweepResult, acts: ActivationSet) -> None:
    """A UserError unless the probes of `result` read `acts`: vectors of the same width, and a
    test split inside it (a sweep from a pack, measured on this machine's activations)."""
    width = next(iter(result.probes.values())).weight.shape[-1]
    if acts.pos.shape[-1] != width or int(result.test_indices.max(initial=-1)) >= len(acts.labels):
        raise UserError(
            f"Run {result.key[:12]} was not trained on these activations: its probes read {width}-wide vectors "
            f"and its test split names up to example {int(result.test_indices.max(initial=-1))}; the activations "
            f"hold {len(acts.labels)} examples {acts.pos.shape[-1]} wide."
        )


def load_sweep(store: SweepStore, key: str, config: SweepConfig, activation_key: str) -> SweepResult:
    """A saved sweep, with its probes, marked as cached (CorruptEntry, the entry set aside,
    if its files pass their checksums but do not hold what `config` needs: its table
    checked by check_results, its probes by core.experiments.cells.check_probes)."""
    table, tensors, info = store.load(key)
    config = read_config(config)
    try:
        check_results(table, config, activation_key)
        check_probes(tensors, config)
        probes = probes_from_tensors(tensors, config)
        return SweepResult(
            key,
            config,
            activation_key,
            table,
            probes,
            tensors["test_indices"].numpy(),
            float(info["seconds"]),
            cached=True,
        )
    except (KeyError, IndexError, ValueError, TypeError) as error:
        reason = f"missing {error}" if isinstance(error, KeyError) else error_reason(error)
        raise quarantine(store.root, key, reason) from None
