"""A sweep for a notebook (core.__all__'s sweep, load_run and Sweep): the engine the
command line and the dashboard run (core.experiments.sweep.run_sweep), its result read as
pandas tables, altair charts, single pairs and fitted estimators."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import torch

from core.analysis.examples import example_table
from core.api.estimators import ContrastProbe, estimator_for
from core.data.sampling import split_test, training_draw
from core.errors import UserError
from core.experiments.cells import SweepResult
from core.experiments.runs import find_runs
from core.experiments.runs import load_run as load_listed_run
from core.experiments.sweep import run_sweep
from core.extraction.companions import ensure_companion, with_companion
from core.extraction.runtime import Runtime
from core.metrics import summarize
from core.names import is_digest
from core.probes import HEADLINE_METHOD
from core.settings.sweep import SweepConfig
from core.store.activation_imports import imported_set, origin_of
from core.store.activations import ActivationSet, ActivationStore
from core.views.charts import imbalance_chart
from core.views.report import describe_sweep, subtitle_lines


@dataclass(frozen=True)
class Sweep:
    """A finished sweep and the activation set it was trained on (None for a run whose
    activations are not on this machine, such as one from a pack): its per-cell `table`
    (one row per method, p and seed; columns in core.experiments.sweep), its `config`, and
    views of it."""

    result: SweepResult
    activations: ActivationSet | None

    @property
    def table(self) -> pd.DataFrame:
        return self.result.table

    @property
    def config(self) -> SweepConfig:
        return self.result.config

    def describe(self) -> str:
        """How every number was computed: n, seeds, test split, normalization, optimizer, sign convention."""
        return describe_sweep(self.config, self.result.seconds, self.result.cached, self.result.reused)

    def summary(self, metric: str = "accuracy", by: tuple[str, ...] = ("method", "p")) -> pd.DataFrame:
        """The mean of `metric` over seeds per method and p, with its 95% t-interval (core.metrics.summarize)."""
        return summarize(self.table, metric, by)

    def chart(self, metric: str = "accuracy") -> alt.Chart:
        """`metric` against p, a line per method with its 95% band, captioned with describe()."""
        return imbalance_chart(self.summary(metric), subtitle=subtitle_lines(self.describe()))

    def _cell(self, method: str | None, p: float | None, seed: int | None) -> tuple[str, float, int]:
        method = method or HEADLINE_METHOD
        p = max(self.config.p_levels) if p is None else float(p)
        seed = self.config.seeds[0] if seed is None else int(seed)
        if (method, p, seed) not in self.result.probes:
            raise UserError(
                f"This sweep has no cell {method} at p = {p:g}, seed {seed}: it trains "
                f"{', '.join(self.config.methods)} at p {', '.join(f'{v:g}' for v in self.config.p_levels)}, "
                f"seeds {list(self.config.seeds)}."
            )
        return method, p, seed

    def _acts(self) -> ActivationSet:
        if self.activations is None:
            raise UserError("This run's activations are not on this machine (it came from a pack).")
        return self.activations

    def inspect(self, method: str | None = None, p: float | None = None, seed: int | None = None) -> pd.DataFrame:
        """One cell's probe on every test pair (the inspector): text, label, confidence,
        prediction, correct, oriented as its accuracy was. Defaults: the headline method
        (CCS), the highest p, the first seed."""
        return example_table(self._acts(), self.result, *self._cell(method, p, seed))

    def training_pairs(self, p: float, seed: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        """(pos, neg, labels) of the cell's training draw at the sweep's layer: what its probes were fitted on."""
        acts, config = self._acts(), self.config
        _, pool = split_test(acts.labels, config.n_test, config.split_seed, acts.texts)
        rows = training_draw(acts.labels, pool, float(p), config.n_train, int(seed))
        pos, neg = acts.layer(config.layer)
        return pos[rows], neg[rows], acts.labels[rows]

    def test_pairs(self) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        """(pos, neg, labels) of the sweep's fixed, balanced test split at its layer."""
        acts, rows = self._acts(), self.result.test_indices
        pos, neg = acts.layer(self.config.layer)
        return pos[rows], neg[rows], acts.labels[rows]

    def estimator(self, method: str | None = None, p: float | None = None, seed: int | None = None) -> ContrastProbe:
        """The cell's trained probe as a fitted estimator (core.estimators), with the sweep's settings."""
        self._acts().require_one_template("An estimator")
        method, p, seed = self._cell(method, p, seed)
        params = {"normalization": self.config.normalization, "test_normalization": self.config.test_normalization}
        estimator = estimator_for(method, random_state=seed, **params)
        ccs = dataclasses.asdict(self.config.ccs)
        estimator.set_params(**{k: v for k, v in ccs.items() if k in estimator.get_params()})
        return estimator.from_probe(self.result.probes[(method, p, seed)])


def _runtime_for(acts: ActivationSet, runtime: Runtime | None) -> Runtime:
    """The runtime a sweep of `acts` runs under: an imported set's sweeps are kept with it, and
    a set made in memory (not read from a store, so with no key of its own) is stored nowhere."""
    runtime = runtime or Runtime()
    if not is_digest(acts.key):  # made in memory, not read from a store: swept in memory, stored nowhere
        return dataclasses.replace(runtime, sweeps=None)
    origin = origin_of(acts)
    if origin is None:
        return runtime
    return runtime.for_import(imported_set(str(origin.get("id"))))


def sweep(activations: ActivationSet, config: SweepConfig | None = None, runtime: Runtime | None = None) -> Sweep:
    """Train every method of `config` at every p and seed on one layer of `activations` (or
    load the cached result). Default config: the demo's, at the set's own layer when it does
    not hold the demo's. A local set's companion pairs are extracted first where the
    normalization needs them; an imported set's sweeps are kept with it, apart from local ones."""
    if config is None:
        config = SweepConfig()
        if config.layer not in activations.layers:
            config = dataclasses.replace(config, layer=activations.layers[-1])
    runtime = _runtime_for(activations, runtime)
    if origin_of(activations) is None and runtime.sweeps is not None:
        ensure_companion(activations.key, config, runtime)  # extracted here once, if its normalization needs one
    acts = (
        activations if activations.companion is not None else with_companion(runtime.activations, activations, config)
    )
    return Sweep(run_sweep(acts, config, runtime), activations)


def load_run(address: str) -> Sweep:
    """A finished run of the library of runs (`python -m core runs` lists their addresses),
    with its activations when they are on this machine."""
    (record,) = find_runs([address])
    result = load_listed_run(record)
    store = imported_set(record.imported).activations if record.imported else ActivationStore()
    acts = store.load(record.activation_key, [record.config.layer]) if store.has(record.activation_key) else None
    return Sweep(result, acts)
