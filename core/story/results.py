"""Where deck steps find their numbers: finished sweeps by the key a run has on this machine
or the key an imported deck pinned for it, and measured views by the key of what they
measured, from the disk caches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from core.config import Run, config_hash, to_jsonable
from core.experiments.cells import SweepResult
from core.experiments.sweep import load_sweep, sweep_key
from core.extraction.extract import activation_key
from core.metrics import METRICS, summarize
from core.store.activations import ActivationStore
from core.store.entries import content_key
from core.store.sweeps import SweepStore
from core.store.views import ViewStore
from core.story.model import Step

# Raised when a change alters what a measured view holds, so stored views are measured again.
VIEW_REVISION = 1


def run_id(run: Run) -> str:
    """A run's identity, independent of the machine (keys into a deck's pins)."""
    return config_hash({"extract": run[0], "sweep": run[1]})


class Results:
    """Where steps find their numbers: finished sweeps, by the key the run has on this
    machine or the key an imported deck pinned for it (`pins`: run_id -> [activation key,
    sweep key]), and measured views, from the disk caches under `root`."""

    def __init__(self, root: Path | None = None, pins: dict[str, list[str]] | None = None):
        self.root = root
        self.sweeps, self.views, self.activations = SweepStore(root), ViewStore(root), ActivationStore(root)
        self.pins = pins or {}

    def keys(self, run: Run) -> tuple[str, str]:
        """(activation key, sweep key) of a run."""
        if run_id(run) in self.pins:
            activations, sweep = self.pins[run_id(run)]
            return activations, sweep
        activations = activation_key(run[0])
        return activations, sweep_key(activations, run[1])

    def sweep(self, run: Run) -> SweepResult | None:
        """The finished sweep of `run`, or None when it is not cached."""
        activations, key = self.keys(run)
        return load_sweep(self.sweeps, key, run[1], activations) if self.sweeps.has(key) else None

    def view_identity(self, step: Step) -> dict[str, Any]:
        """What a measured view depends on: the step's measured options and its run's sweep."""
        options = {name: step.options[name] for name in step.spec.measured_options if name in step.options}
        return {
            "kind": "view",
            "revision": VIEW_REVISION,
            "type": step.type,
            "options": to_jsonable(options),
            "sweep": self.keys(step.configs())[1],
        }

    def view_key(self, step: Step) -> str:
        return content_key(self.view_identity(step))

    def view(self, step: Step) -> dict[str, pd.DataFrame] | None:
        """The stored measurement of a measured step, or None."""
        return self.views.load(self.view_key(step))


def step_summary(result: SweepResult, step: Step) -> pd.DataFrame:
    """The step's metric (default accuracy) of the methods it draws, summarized over seeds."""
    methods = step.options.get("methods", result.config.methods)
    return summarize(result.table[result.table.method.isin(methods)], step.options.get("metric", "accuracy"))


def metric_title(step: Step) -> str:
    """The display name of the metric a step draws."""
    return METRICS[step.options.get("metric", "accuracy")].label
