"""What a deck is made of: steps in order, each a view of a step type with a title, body
text, speaker notes, the run its results come from (as link parameters) and the view's own
options. A step carries its StepType, so it knows its runs without a registry lookup
(the registry, core.story.registry, is where the deck loader finds the types).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core.experiments.cells import SweepResult
from core.settings.links import run_from_params
from core.settings.sweep import Run
from core.store.activations import ActivationSet
from core.store.imports import ImportedPack
from core.store.schema import Table
from core.story.slides import Slide


@dataclass(frozen=True)
class StepType:
    """A view a step can show. `id`: its name in a deck file; `options`: its own fields and
    their checks; `draw(step, results)`: its Slide from cached results (core.story.results),
    None while they are missing; `runs`: the runs it draws from (None: it shows no results);
    `measure`: what it computes from one run's activations and sweep, stored as a view keyed
    by `measured_options`, whose tables are `view_tables` (each checked where it is loaded, a
    pack's too); `required`: the fields a step of this type must set."""

    id: str
    description: str
    options: dict[str, Callable[[Any, str], Any]]
    draw: Callable[..., Slide | None]
    runs: Callable[[Step], list[Run]] | None = None
    measure: Callable[[Step, ActivationSet, SweepResult], dict[str, pd.DataFrame]] | None = None
    measured_options: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    view_tables: Mapping[str, Table] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One idea of a talk: a view (`spec`, its StepType), its title, body paragraphs, speaker
    notes and the view's own options; `run` holds the link parameters of the results it shows."""

    spec: StepType
    title: str
    body: str = ""
    notes: str = ""
    run: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        """The step type's name, as a deck file writes it."""
        return self.spec.id

    def configs(self, params: dict[str, str] | None = None) -> Run:
        """The (extraction, sweep) configs of the link parameters `params` (default: the
        step's `run`), starting from the demo's."""
        return run_from_params(self.run if params is None else params)

    def runs(self) -> list[Run]:
        """Every run the step draws from (none for a text step)."""
        return self.spec.runs(self) if self.spec.runs is not None else []

    @property
    def shows_results(self) -> bool:
        return self.spec.runs is not None

    @property
    def measured(self) -> bool:
        """Whether the step draws from a view measured on activations (core.store.views)."""
        return self.spec.measure is not None


@dataclass(frozen=True)
class Deck:
    """A titled sequence of steps. An imported deck has its `pack` (core.store.imports), and
    `pins`, which map a run's identity to the activation and sweep keys its results had
    where the pack was made."""

    title: str
    steps: tuple[Step, ...]
    pins: dict[str, list[str]] = field(default_factory=dict)
    pack: ImportedPack | None = None

    def runs(self) -> list[Run]:
        """The distinct runs the steps draw from, in order of first use."""
        return list(dict.fromkeys(run for step in self.steps for run in step.runs()))


def own_run(step: Step) -> list[Run]:
    """The one run of a step that draws from its `run` as it is (a StepType's `runs`)."""
    return [step.configs()]
