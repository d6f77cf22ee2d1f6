"""Extraction then sweep, the path the CLI and the dashboard's demo button both take.
On a shared server a run has a time limit (core.settings.limits.SHARED): with_deadline stops it at
its next progress report, caching nothing partial.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.config import ExtractConfig, ProgressFn
from core.errors import UserError
from core.experiments.cells import SweepResult
from core.experiments.sweep import load_sweep, run_sweep, sweep_key
from core.extraction.companions import ensure_companion, sweep_activations
from core.extraction.extract import ExtractionOutcome, activation_key, extract
from core.extraction.models import LoadedModel, load_model
from core.models.known import known_hidden_states
from core.settings.limits import OWNER, Limits
from core.settings.sweep import SweepConfig
from core.settings.validate import check_layers_exist, check_run
from core.store.activations import ActivationStore
from core.store.entries import CorruptEntry
from core.store.sweeps import SweepStore


@dataclass
class PipelineRun:
    """What one run produced and how long each half took (seconds; cached halves are fast)."""

    extraction: ExtractionOutcome
    sweep: SweepResult


def run_pipeline(
    extract_config: ExtractConfig,
    sweep_config: SweepConfig,
    activation_store: ActivationStore | None = None,
    sweep_store: SweepStore | None = None,
    device: str = "auto",
    extract_progress: ProgressFn | None = None,
    sweep_progress: ProgressFn | None = None,
    status: Callable[[str], None] | None = None,
    batch_size: int | None = None,
    loader: Callable[..., LoadedModel] = load_model,
    uploads: Path | None = None,
    limits: Limits = OWNER,
) -> PipelineRun:
    """Check both configs (core.settings.validate.check_run, under `limits`),
    extract (or find cached) activations and the companion pairs the normalization asks
    for (core.extraction.companions), load only the sweep's layer, run (or load) the sweep. An
    activation set that fails its check on load is set aside and extracted again.
    `loader` loads the model on a cache miss (the dashboard passes one that keeps it in
    memory); uploaded CSVs are read from `uploads`. Under `limits` with a time limit (a shared
    server's), the run stops with a UserError once that long has passed, caching nothing
    partial."""
    check_run(extract_config, sweep_config, limits)
    check_layers_exist(extract_config, sweep_config.layer, known_hidden_states(extract_config.model))
    if limits.work_seconds is not None:
        started = time.monotonic()
        extract_progress = with_deadline(extract_progress, started, limits.work_seconds)
        sweep_progress = with_deadline(sweep_progress, started, limits.work_seconds)
    activation_store = activation_store or ActivationStore()
    say = status or (lambda _message: None)
    for attempt in (1, 2):
        outcome = extract(
            extract_config,
            activation_store,
            device=device,
            batch_size=batch_size,
            progress=extract_progress,
            status=status,
            loader=loader,
            uploads=uploads,
        )
        ensure_companion(
            activation_store,
            outcome.key,
            sweep_config,
            device=device,
            loader=loader,
            batch_size=batch_size,
            progress=extract_progress,
            status=status,
        )
        say("Loading activations")
        try:
            activations = sweep_activations(activation_store, outcome.key, sweep_config)
            break
        except CorruptEntry as error:
            if attempt == 2:
                raise
            say(str(error))
    result = run_sweep(
        activations,
        sweep_config,
        progress=sweep_progress,
        device=device,
        status=status,
        store=sweep_store if sweep_store is not None else SweepStore(),
    )
    return PipelineRun(outcome, result)


def cached_run(
    extract_config: ExtractConfig,
    sweep_config: SweepConfig,
    activation_store: ActivationStore | None = None,
    sweep_store: SweepStore | None = None,
    device: str = "auto",
) -> SweepResult | None:
    """The finished sweep if both halves are already cached (a page can show it at once),
    else None. Loads no model."""
    activation_store = activation_store or ActivationStore()
    sweep_store = sweep_store if sweep_store is not None else SweepStore()
    key = activation_key(extract_config, device)
    if not activation_store.has(key):
        return None
    result_key = sweep_key(key, sweep_config)
    if not sweep_store.has(result_key):
        return None
    return load_sweep(sweep_store, result_key, sweep_config, key)


def with_deadline(progress, started: float, seconds: float):
    """`progress` (a (done, total, message) callback or None) that raises a UserError once
    `seconds` have passed since `started` (time.monotonic); every long loop reports
    progress, so the run stops there and nothing partial is cached."""

    def report(done: int, total: int, message: str) -> None:
        if time.monotonic() - started > seconds:
            raise UserError(
                f"This shared server stops a run after {seconds / 60:.0f} minutes; ask for fewer "
                "examples, seeds or epochs, or a smaller model."
            )
        if progress is not None:
            progress(done, total, message)

    return report
