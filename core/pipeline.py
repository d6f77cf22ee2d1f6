"""Extraction then sweep, the path the CLI and the dashboard's demo button both take."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.companions import ensure_companion, sweep_activations
from core.config import ExtractConfig, SweepConfig
from core.extract import ExtractionOutcome, extract
from core.models import LoadedModel, known_hidden_states, load_model
from core.serving import with_deadline
from core.store import ActivationStore, CorruptEntry, SweepStore
from core.sweep import SweepResult, run_sweep
from core.validate import check_layers_exist, check_run

ProgressFn = Callable[[int, int, str], None]


@dataclass
class PipelineRun:
    """What one run produced and how long each half took (seconds; cached halves are fast)."""

    extraction: ExtractionOutcome
    sweep: SweepResult


def run_pipeline(extract_config: ExtractConfig, sweep_config: SweepConfig,
                 activation_store: ActivationStore | None = None, sweep_store: SweepStore | None = None,
                 device: str = "auto", extract_progress: ProgressFn | None = None,
                 sweep_progress: ProgressFn | None = None, status: Callable[[str], None] | None = None,
                 batch_size: int | None = None, loader: Callable[..., LoadedModel] = load_model,
                 uploads: Path | None = None, shared: bool = False, time_limit_s: float | None = None) -> PipelineRun:
    """Check both configs (core.validate.check_run, with shared mode's caps when `shared`),
    extract (or find cached) activations and the companion pairs the normalization asks
    for (core.companions), load only the sweep's layer, run (or load) the sweep. An
    activation set that fails its check on load is set aside and extracted again.
    `loader` loads the model on a cache miss (the dashboard passes one that keeps it in
    memory); uploaded CSVs are read from `uploads`. With `time_limit_s` (a shared
    server's), the run stops with a UserError once that long has passed, caching nothing
    partial."""
    check_run(extract_config, sweep_config, shared)
    check_layers_exist(extract_config, sweep_config.layer, known_hidden_states(extract_config.model))
    if time_limit_s is not None:
        started = time.monotonic()
        extract_progress = with_deadline(extract_progress, started, time_limit_s)
        sweep_progress = with_deadline(sweep_progress, started, time_limit_s)
    activation_store = activation_store or ActivationStore()
    say = status or (lambda _message: None)
    for attempt in (1, 2):
        outcome = extract(extract_config, activation_store, device=device, batch_size=batch_size,
                          progress=extract_progress, status=status, loader=loader, uploads=uploads)
        ensure_companion(activation_store, outcome.key, sweep_config, device=device, loader=loader,
                         batch_size=batch_size, progress=extract_progress, status=status)
        say("Loading activations")
        try:
            activations = sweep_activations(activation_store, outcome.key, sweep_config)
            break
        except CorruptEntry as error:
            if attempt == 2:
                raise
            say(str(error))
    result = run_sweep(activations, sweep_config, progress=sweep_progress, device=device, status=status,
                       store=sweep_store if sweep_store is not None else SweepStore())
    return PipelineRun(outcome, result)


def cached_run(extract_config: ExtractConfig, sweep_config: SweepConfig,
               activation_store: ActivationStore | None = None, sweep_store: SweepStore | None = None,
               device: str = "auto") -> SweepResult | None:
    """The finished sweep if both halves are already cached (a page can show it at once),
    else None. Loads no model."""
    from core.extract import activation_key
    from core.sweep import load_sweep, sweep_key

    activation_store = activation_store or ActivationStore()
    sweep_store = sweep_store if sweep_store is not None else SweepStore()
    key = activation_key(extract_config, device)
    if not activation_store.has(key):
        return None
    result_key = sweep_key(key, sweep_config)
    if not sweep_store.has(result_key):
        return None
    return load_sweep(sweep_store, result_key, sweep_config, key)
