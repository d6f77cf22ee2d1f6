"""Extraction then sweep, the path the CLI and the dashboard's demo button both take.
On a shared server a run has a time limit (core.settings.limits.SHARED): the runtime's
progress reporters stop it at its next report, caching nothing partial.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config import ExtractConfig
from core.experiments.cells import SweepResult
from core.experiments.sweep import load_sweep, run_sweep, sweep_key
from core.extraction.companions import ensure_companion, sweep_activations
from core.extraction.extract import ExtractionOutcome, activation_key, extract
from core.extraction.runtime import Runtime
from core.models.known import known_hidden_states
from core.settings.sweep import SweepConfig
from core.settings.validate import check_layers_exist, check_run, check_sweep
from core.store.activation_imports import ImportedActivations
from core.store.entries import CorruptEntry


@dataclass
class PipelineRun:
    """What one run produced and how long each half took (seconds; cached halves are fast)."""

    extraction: ExtractionOutcome
    sweep: SweepResult


def run_pipeline(
    extract_config: ExtractConfig, sweep_config: SweepConfig, runtime: Runtime | None = None
) -> PipelineRun:
    """Check both configs (core.settings.validate.check_run, under the runtime's limits),
    extract (or find cached) activations and the companion pairs the normalization asks
    for (core.extraction.companions), load only the sweep's layer, run (or load) the sweep,
    all as `runtime` says (default: this machine's cache, auto device, no progress). An
    activation set that fails its check on load is set aside and extracted again. Under
    limits with a time limit (a shared server's), the run stops with a UserError once
    that long has passed, caching nothing partial."""
    runtime = runtime or Runtime()
    check_run(extract_config, sweep_config, runtime.limits)
    check_layers_exist(extract_config, sweep_config.layer, known_hidden_states(extract_config.model))
    runtime = runtime.timed()
    for attempt in (1, 2):
        outcome = extract(extract_config, runtime)
        ensure_companion(outcome.key, sweep_config, runtime)
        runtime.say("Loading activations")
        try:
            activations = sweep_activations(runtime.activations, outcome.key, sweep_config)
            break
        except CorruptEntry as error:
            if attempt == 2:
                raise
            runtime.say(str(error))
    return PipelineRun(outcome, run_sweep(activations, sweep_config, runtime))


def run_imported(
    imported: ImportedActivations, sweep_config: SweepConfig, runtime: Runtime | None = None
) -> SweepResult:
    """The sweep `sweep_config` on an imported activation set, checked under the runtime's
    limits and run (or loaded) in the import's own stores (Runtime.for_import): the path the
    CLI and the dashboard take where run_pipeline would extract."""
    runtime = (runtime or Runtime()).for_import(imported)
    check_sweep(sweep_config, runtime.limits)
    return run_sweep(sweep_activations(runtime.activations, imported.key, sweep_config), sweep_config, runtime)


def cached_run(
    extract_config: ExtractConfig, sweep_config: SweepConfig, runtime: Runtime | None = None
) -> SweepResult | None:
    """The finished sweep if both halves are already cached (a page can show it at once),
    else None. Loads no model."""
    runtime = runtime or Runtime()
    key = activation_key(extract_config, runtime.torch_device)
    if not runtime.activations.has(key):
        return None
    result_key = sweep_key(key, sweep_config)
    if not runtime.sweeps.has(result_key):
        return None
    return load_sweep(runtime.sweeps, result_key, sweep_config, key)
