"""Where deck steps find their numbers: finished sweeps by the key a run has on this machine
or the key an imported deck pinned for it, and measured views by the key of what they
measured, from the disk caches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from core.config import Run, SweepConfig, config_hash, to_jsonable
from core.experiments.cells import SweepResult
from core.experiments.sweep import load_sweep, sweep_key
from core.extraction.extract import activation_key
from core.metrics import METRICS, summarize
from core.store.activations import ActivationStore
from core.store.entries import content_key
from core.store.imports import ImportedPack
from core.store.sweeps import SweepStore
from core.store.views import ViewStore
from core.story.model import Deck, Step

# Raised when a change alters what a measured view holds, so stored views are measured again.
VIEW_REVISION = 1


def run_id(run: Run) -> str:
    """A run's identity, independent of the machine (keys into a deck's pins)."""
    return config_hash({"extract": run[0], "sweep": run[1]})


class Results:
    """Where steps find their numbers: finished sweeps and measured views in this machine's
    cache under `root`, by the keys the runs have here. A deck imported from a pack (`pack`,
    with its `pins`: run_id -> [activation key, sweep key] where the pack was made) falls
    back to that pack's own results where this machine has none, and remembers which
    (`from_pack`), so its slides say so. Nothing else ever reads an imported result."""

    def __init__(
        self, root: Path | None = None, pins: dict[str, list[str]] | None = None, pack: ImportedPack | None = None
    ):
        self.root = root
        self.sweeps, self.views, self.activations = SweepStore(root), ViewStore(root), ActivationStore(root)
        self.pins = pins or {}
        self.pack = pack
        self.from_pack: set[str] = set()  # the run ids whose sweep or view the pack answered

    @classmethod
    def of_deck(cls, deck: Deck, root: Path | None = None) -> Results:
        """Where `deck` finds its results: this machine's, then its pack's, if imported."""
        return cls(root, deck.pins, deck.pack)

    def keys(self, run: Run) -> tuple[str, str]:
        """(activation key, sweep key) of a run on this machine."""
        activations = activation_key(run[0])
        return activations, sweep_key(activations, run[1])

    def locate(self, run: Run) -> tuple[SweepStore, str, str] | None:
        """(store, activation key, sweep key) of the finished sweep of `run`: this machine's,
        else the pack's under its pins; None when neither has it."""
        activations, key = self.keys(run)
        if self.sweeps.has(key):
            return self.sweeps, activations, key
        pinned = self.pins.get(run_id(run)) if self.pack is not None else None
        if pinned is not None and self.pack.sweeps.has(pinned[1]):
            self.from_pack.add(run_id(run))
            return self.pack.sweeps, pinned[0], pinned[1]
        return None

    def sweep(self, run: Run) -> SweepResult | None:
        """The finished sweep of `run`, or None when it is not cached."""
        found = self.locate(run)
        return None if found is None else self.load_sweep(*found, run[1])

    def load_sweep(self, store: SweepStore, activations: str, key: str, config: SweepConfig) -> SweepResult:
        """A located sweep, loaded (the dashboard keeps them in memory)."""
        return load_sweep(store, key, config, activations)

    def view_identity(self, step: Step, sweep: str | None = None) -> dict[str, Any]:
        """What a measured view depends on: the step's measured options and its run's sweep
        (`sweep`, a sweep key; default the run's key on this machine)."""
        options = {name: step.options[name] for name in step.spec.measured_options if name in step.options}
        return {
            "kind": "view",
            "revision": VIEW_REVISION,
            "type": step.type,
            "options": to_jsonable(options),
            "sweep": sweep or self.keys(step.configs())[1],
        }

    def view_key(self, step: Step) -> str:
        """The key of a measured step's view on this machine."""
        return content_key(self.view_identity(step))

    def locate_view(self, step: Step) -> tuple[ViewStore, str] | None:
        """(store, key) of a measured step's stored view: this machine's, else the pack's."""
        key = self.view_key(step)
        if self.views.has(key):
            return self.views, key
        pinned = self.pins.get(run_id(step.configs())) if self.pack is not None else None
        if pinned is not None:
            key = content_key(self.view_identity(step, pinned[1]))
            if self.pack.views.has(key):
                self.from_pack.add(run_id(step.configs()))
                return self.pack.views, key
        return None

    def view(self, step: Step) -> dict[str, pd.DataFrame] | None:
        """The stored measurement of a measured step, or None."""
        found = self.locate_view(step)
        return None if found is None else self.load_view(*found)

    def load_view(self, store: ViewStore, key: str) -> dict[str, pd.DataFrame] | None:
        """A located view, loaded (the dashboard keeps them in memory)."""
        return store.load(key)

    def origin(self, step: Step) -> str:
        """Where the step's numbers came from, when not from this machine: "from pack NAME,
        imported DATE" if the pack answered any of its runs or its view, else ""."""
        answered = {run_id(run) for run in step.runs()} & self.from_pack
        return self.pack.origin() if answered and self.pack is not None else ""


def step_summary(result: SweepResult, step: Step) -> pd.DataFrame:
    """The step's metric (default accuracy) of the methods it draws, summarized over seeds."""
    methods = step.options.get("methods", result.config.methods)
    return summarize(result.table[result.table.method.isin(methods)], step.options.get("metric", "accuracy"))


def metric_title(step: Step) -> str:
    """The display name of the metric a step draws."""
    return METRICS[step.options.get("metric", "accuracy")].label
