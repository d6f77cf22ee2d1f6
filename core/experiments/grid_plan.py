"""What a grid will do, said before it does anything: how many extractions and sweeps it
describes, how many the cache already holds, and about how long and how much disk the
rest will take, estimated from the cache's own records of earlier work (the seconds and
file size every activation set records, the seconds every sweep records). A grid beyond
CONFIRM_SWEEPS sweeps to run, CONFIRM_SECONDS or CONFIRM_BYTES asks before it starts.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from core.config import ExtractConfig
from core.experiments.grid import Grid
from core.experiments.runs import RunRecord, list_runs
from core.experiments.sweep import sweep_key
from core.extraction.extract import activation_key
from core.models.known import known_hidden_states
from core.probes import trains_with_ccs_optimizer
from core.settings.sweep import Run, SweepConfig
from core.store.activations import ActivationStore
from core.store.sweeps import SweepStore

CONFIRM_SWEEPS = 100
CONFIRM_SECONDS = 3600
CONFIRM_BYTES = 20 * 2**30


@dataclass
class GridPlan:
    """A grid's work before it runs. `sweeps` is None where a model's depth is unknown until
    it is loaded (a hub model not in the local cache, with layers = "all"); `seconds` and
    `bytes` are None without records to estimate from."""

    extractions: int
    extractions_cached: int
    sweeps: int | None
    sweeps_cached: int
    seconds: float | None
    bytes: int | None
    basis: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sweeps_to_run(self) -> int | None:
        return None if self.sweeps is None else self.sweeps - self.sweeps_cached

    def needs_confirmation(self) -> bool:
        """Beyond a threshold (or of unknown size), a person confirms before it starts."""
        return (
            self.sweeps_to_run is None
            or self.sweeps_to_run > CONFIRM_SWEEPS
            or (self.seconds or 0) > CONFIRM_SECONDS
            or (self.bytes or 0) > CONFIRM_BYTES
        )

    def lines(self) -> list[str]:
        """The plan as a person reads it."""
        sweeps = "an unknown number of" if self.sweeps is None else f"{self.sweeps}"
        time = "time unknown" if self.seconds is None else duration(self.seconds)
        disk = "an unknown size" if self.bytes is None else f"{self.bytes / 1e9:.2f} GB"
        return [
            *self.notes,
            f"plan: {self.extractions} extraction(s), {self.extractions_cached} already in the cache; {sweeps} "
            f"sweep(s), {self.sweeps_cached} already in the cache",
            f"estimate for the rest: {time} and {disk} of new activations on disk ({self.basis})",
        ]


def duration(seconds: float) -> str:
    """A time estimate as a person reads it: "about 4 min", "about 40 s"."""
    return f"about {seconds / 60:.0f} min" if seconds >= 90 else f"about {seconds:.0f} s"


def _extraction_records(store: ActivationStore) -> list[dict]:
    return [meta for meta in store.entries() if not meta.get("damaged") and meta.get("n") and meta.get("seconds")]


def _extraction_estimate(config: ExtractConfig, layers: int, records: list[dict]) -> tuple[float, int] | None:
    """(seconds, bytes) of an extraction, from the cached ones of the same model: seconds per
    example, and bytes per example and layer."""
    same = [
        meta for meta in records if (meta.get("config") or {}).get("model", {}).get("model_id") == config.model.model_id
    ]
    if not same:
        return None
    per_example = statistics.median(meta["seconds"] / meta["n"] for meta in same)
    per_cell = statistics.median(meta["file_size"] / (meta["n"] * len(meta["layers"])) for meta in same)
    return per_example * config.n_examples, int(per_cell * config.n_examples * layers)


def _sweep_estimate(sweep: SweepConfig, records: list[RunRecord]) -> float | None:
    """Seconds of a sweep, from the cached sweeps that train with the CCS optimizer exactly
    when it does: seconds per cell (a level of p and a seed), times its cells."""
    with_ccs = trains_with_ccs_optimizer(sweep.methods)
    rates = [
        record.seconds / (len(record.config.seeds) * len(record.config.p_levels))
        for record in records
        if trains_with_ccs_optimizer(record.config.methods) == with_ccs
    ]
    return statistics.median(rates) * len(sweep.seeds) * len(sweep.p_levels) if rates else None


def _sweep_records(root: Path | None = None) -> list[RunRecord]:
    """The finished sweeps computed on this machine (a pack's records no time of this one)."""
    return [r for r in list_runs(root) if not r.damaged and not r.pack and r.seconds > 0]


def estimate_runs(runs: list[Run], root: Path | None = None) -> float | None:
    """Seconds that computing `runs` would take in the cache under `root` (their extractions
    not yet cached, then their sweeps), estimated as plan_grid does from its records; None
    when there is nothing to estimate from."""
    activations = ActivationStore(root)
    extraction_records, sweep_records = _extraction_records(activations), _sweep_records(root)
    seconds = 0.0
    for extract in dict.fromkeys(run[0] for run in runs):
        if not activations.has(activation_key(extract)):
            estimate = _extraction_estimate(extract, 1, extraction_records)
            if estimate is None:
                return None
            seconds += estimate[0]
    for _extract, sweep in runs:
        estimate = _sweep_estimate(sweep, sweep_records)
        if estimate is None:
            return None
        seconds += estimate
    return seconds


def plan_grid(grid: Grid) -> GridPlan:
    """What running `grid` would do, from the cache as it is now; loads no model."""
    activations, sweeps = ActivationStore(), SweepStore()
    extraction_records = _extraction_records(activations)
    sweep_records = _sweep_records()
    extractions_cached = sweep_count = sweeps_cached = 0
    seconds: float | None = 0.0
    disk: int | None = 0
    unknown_size = False
    for extraction in grid.extractions:
        key = activation_key(extraction.config)
        cached = activations.has(key)
        extractions_cached += cached
        known = len(activations.meta(key)["layers"]) if cached else known_hidden_states(extraction.config.model)
        layers = extraction.layers or (tuple(range(known)) if known is not None else None)
        if layers is None:
            unknown_size = True
            continue
        if not cached:
            estimate = _extraction_estimate(extraction.config, len(layers), extraction_records)
            seconds = None if estimate is None or seconds is None else seconds + estimate[0]
            disk = None if estimate is None or disk is None else disk + estimate[1]
        for sweep in grid.sweeps(layers):
            sweep_count += 1
            if cached and sweeps.has(sweep_key(key, sweep)):
                sweeps_cached += 1
                continue
            estimate = _sweep_estimate(sweep, sweep_records)
            seconds = None if estimate is None or seconds is None else seconds + estimate
    basis = (
        f"from {len(extraction_records)} extraction(s) and {len(sweep_records)} sweep(s) in this cache"
        if extraction_records or sweep_records
        else "no earlier work in this cache to estimate from"
    )
    return GridPlan(
        len(grid.extractions),
        extractions_cached,
        None if unknown_size else sweep_count,
        sweeps_cached,
        seconds,
        disk,
        basis,
        grid.notes,
    )
