"""Where deck steps find their numbers: finished sweeps by the key a run has on this machine
or the key an imported deck pinned for it, and measured views beside the sweep they were
measured from, from the disk caches.

Origin follows every result: a view measured from a pack's sweep is stored in that pack's
folder, never with this machine's own views, so it is never found as a local result and
goes with its pack (core.store.imports.remove_pack).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from core.config import config_hash, to_jsonable
from core.experiments.cells import SweepResult
from core.experiments.sweep import load_sweep, sweep_key
from core.extraction.extract import activation_key
from core.metrics import METRICS, summarize
from core.settings.sweep import Run, SweepConfig
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


@dataclass(frozen=True)
class Located:
    """Where a result is: its store and key, for a sweep the activation set it was trained on,
    and the pack it came from (None: computed on this machine)."""

    store: SweepStore | ViewStore
    key: str
    activations: str = ""
    pack: ImportedPack | None = None


class Results:
    """Where steps find their numbers: finished sweeps and measured views in this machine's
    cache under `root`, by the keys the runs have here. A deck imported from a pack (`pack`,
    with its `pins`: run_id -> [activation key, sweep key] where the pack was made) falls
    back to that pack's own results where this machine has none, and says so on the slides
    they draw. Nothing else ever reads an imported result."""

    def __init__(
        self, root: Path | None = None, pins: dict[str, list[str]] | None = None, pack: ImportedPack | None = None
    ):
        self.root = root
        self.sweeps, self.views, self.activations = SweepStore(root), ViewStore(root), ActivationStore(root)
        self.pins = pins or {}
        self.pack = pack

    @classmethod
    def of_deck(cls, deck: Deck, root: Path | None = None) -> Results:
        """Where `deck` finds its results: this machine's, then its pack's, if imported."""
        return cls(root, deck.pins, deck.pack)

    def keys(self, run: Run) -> tuple[str, str]:
        """(activation key, sweep key) of a run on this machine."""
        activations = activation_key(run[0])
        return activations, sweep_key(activations, run[1])

    def locate(self, run: Run) -> Located | None:
        """The finished sweep of `run`: this machine's, else the pack's under its pins; None
        when neither has it."""
        activations, key = self.keys(run)
        if self.sweeps.has(key):
            return Located(self.sweeps, key, activations)
        pinned = self.pins.get(run_id(run)) if self.pack is not None else None
        if pinned is not None and self.pack.sweeps.has(pinned[1]):
            return Located(self.pack.sweeps, pinned[1], pinned[0], self.pack)
        return None

    def sweep(self, run: Run) -> SweepResult | None:
        """The finished sweep of `run`, or None when it is not cached."""
        found = self.locate(run)
        return None if found is None else self.load_sweep(found, run[1])

    def load_sweep(self, found: Located, config: SweepConfig) -> SweepResult:
        """A located sweep, loaded (the dashboard keeps them in memory)."""
        return load_sweep(found.store, found.key, config, found.activations)

    def view_identity(self, step: Step, sweep: str) -> dict[str, Any]:
        """What a measured view depends on: the step's measured options and the sweep it was
        measured from (`sweep`, its key)."""
        options = {name: step.options[name] for name in step.spec.measured_options if name in step.options}
        return {
            "kind": "view",
            "revision": VIEW_REVISION,
            "type": step.type,
            "options": to_jsonable(options),
            "sweep": sweep,
        }

    def view_home(self, step: Step) -> Located | None:
        """Where a measured step's view is, or would be once measured: beside the sweep the
        step draws from (this machine's views for this machine's sweep, the pack's for the
        pack's), keyed by that sweep; None while the step's run has no sweep anywhere."""
        found = self.locate(step.configs())
        if found is None:
            return None
        store = self.views if found.pack is None else found.pack.views
        return Located(store, content_key(self.view_identity(step, found.key)), pack=found.pack)

    def locate_view(self, step: Step) -> Located | None:
        """A measured step's stored view, beside the sweep it draws from (view_home); while
        that sweep is absent, a view this machine measured before it was removed."""
        home = self.view_home(step)
        if home is None:
            local = Located(self.views, content_key(self.view_identity(step, self.keys(step.configs())[1])))
            return local if self.views.has(local.key) else None
        return home if home.store.has(home.key) else None

    def view(self, step: Step) -> dict[str, pd.DataFrame] | None:
        """The stored measurement of a measured step, or None."""
        found = self.locate_view(step)
        return None if found is None else self.load_view(found, step)

    def load_view(self, found: Located, step: Step) -> dict[str, pd.DataFrame] | None:
        """A located view, loaded and checked against the tables its step type measures (the
        dashboard keeps them in memory)."""
        return found.store.load(found.key, step.spec.view_tables)

    def origin(self, step: Step) -> str:
        """Where the step's numbers came from, when not from this machine: "from pack NAME,
        imported DATE", or how many of its runs did when some are this machine's; "" when
        every one is this machine's."""
        runs = step.runs()
        located = [self.locate(run) for run in runs]
        if step.measured:
            located.append(self.locate_view(step))
        packs = [found.pack for found in located if found is not None and found.pack is not None]
        if not packs:
            return ""
        imported = sum(found is not None and found.pack is not None for found in located[: len(runs)])
        if imported >= len(runs):
            return packs[0].origin()
        return f"{imported} of its {len(runs)} runs {packs[0].origin()}; the others computed here"


def step_summary(result: SweepResult, step: Step) -> pd.DataFrame:
    """The step's metric (default accuracy) of the methods it draws, summarized over seeds."""
    methods = step.options.get("methods", result.config.methods)
    return summarize(result.table[result.table.method.isin(methods)], step.options.get("metric", "accuracy"))


def metric_title(step: Step) -> str:
    """The display name of the metric a step draws."""
    return METRICS[step.options.get("metric", "accuracy")].label
