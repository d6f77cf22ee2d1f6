"""Every step type a deck can use, in one registry (STEP_TYPES, one module per type in
core.story.steps), and what story mode, `pack` and the HTML export do with a deck through
it: check a step against its runs, draw its slide, find what the cache lacks, compute it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import UserError
from core.experiments.cells import SweepResult
from core.experiments.grid_plan import duration, estimate_runs
from core.experiments.sweep import check_fits
from core.extraction.companions import sweep_activations
from core.settings.sweep import Run
from core.story.model import Deck, Step
from core.story.results import Results
from core.story.slides import Slide
from core.story.steps import compare, decomposition, inspector, label_budget, layers, mechanism, models, remedies, text
from core.story.steps import sweep as sweep_step
from core.views.style import slide_style

STEP_TYPES = {
    spec.id: spec
    for spec in (
        text.STEP,
        sweep_step.STEP,
        compare.STEP,
        layers.STEP,
        inspector.STEP,
        remedies.STEP,
        label_budget.STEP,
        decomposition.STEP,
        mechanism.STEP,
        models.STEP,
    )
}


def check_step(step: Step) -> None:
    """Checks that need the step's runs (UserError): the run trains every method the step
    draws, and a reveal level draws something."""
    for _extract, sweep in step.runs():
        for field in ("methods", "show_seeds"):
            missing = sorted(set(step.options.get(field, ())) - set(sweep.methods))
            if missing:
                raise UserError(f"{field} {missing} are not in the run (it trains {', '.join(sweep.methods)}).")
        method = step.options.get("method")
        if method is not None and method not in sweep.methods:
            raise UserError(f"method {method!r} is not in the run (it trains {', '.join(sweep.methods)}).")
        if "seed" in step.options and step.options["seed"] not in sweep.seeds:
            raise UserError(f"seed {step.options['seed']} is not one of the run's seeds.")
        if "reveal" in step.options and step.options["reveal"] < min(sweep.p_levels):
            raise UserError(
                f"reveal {step.options['reveal']:g} is below the run's lowest level of p "
                f"({min(sweep.p_levels):g}), so nothing would be drawn."
            )
    labels = step.options.get("labels")
    if labels is not None and len(labels) != len(step.options.get("runs", ())):
        raise UserError("labels must name each of the runs, one label a run.")


def slide(step: Step, results: Results) -> Slide | None:
    """The step's Slide from cached results (None while any are missing), its chart in the
    presenting theme, filling its container (core.views.style.slide_style), saying where its numbers came from when an
    imported pack drew it."""
    drawn = step.spec.draw(step, results)
    if drawn is None:
        return None
    chart = None if drawn.chart is None else slide_style(drawn.chart, fill=True)
    return dataclasses.replace(drawn, chart=chart, origin=results.origin(step))


def step_ready(step: Step, results: Results) -> bool:
    """Whether the step draws at once: it shows no results, or every run it draws has a
    finished sweep and its measured view (if it has one) is stored."""
    return all(results.sweep(run) is not None for run in step.runs()) and (
        not step.measured or results.view(step) is not None
    )


@dataclass(frozen=True)
class Readiness:
    """How much of a deck draws at once: `ready` of its `total` steps, and what preparing
    the rest computes (`runs`, `views`, missing) in about `seconds` (None: no records here to
    estimate from, core.experiments.grid_plan.estimate_runs)."""

    ready: int
    total: int
    runs: list[Run]
    views: list[Step]
    seconds: float | None

    @property
    def complete(self) -> bool:
        return self.ready == self.total

    def line(self) -> str:
        """The deck's state in one line, as story mode's first step and the present command say it."""
        if self.complete:
            return f"All {self.total} steps ready"
        work = f"{len(self.runs)} run(s) and {len(self.views)} measured view(s)"
        time = "" if self.seconds is None else f", {duration(self.seconds)}"
        return f"{self.ready} of {self.total} steps ready · preparing the rest computes {work}{time}"


def readiness(deck: Deck, results: Results) -> Readiness:
    """How much of `deck` draws from the cache now, and what the rest would cost."""
    runs, views = missing(deck, results)
    ready = sum(step_ready(step, results) for step in deck.steps)
    return Readiness(ready, len(deck.steps), runs, views, estimate_runs(runs, results.root) if runs else 0.0)


def missing(deck: Deck, results: Results) -> tuple[list[Run], list[Step]]:
    """What a deck lacks in the cache: runs without a finished sweep, in order of first
    use, and measured steps without a stored view."""
    runs = [run for run in deck.runs() if results.sweep(run) is None]
    views = [step for step in deck.steps if step.measured and results.view(step) is None]
    return runs, views


def compute(
    deck: Deck,
    results: Results,
    run_one: Callable[[Run], SweepResult],
    status: Callable[[str], None] = lambda message: None,
) -> int:
    """Compute what a deck lacks: each missing run with `run_one` (the caller's pipeline,
    with its progress display), then each missing view, measured from the sweep the step
    draws on the activations that sweep was trained on, and stored beside that sweep
    (Results.view_home): a view measured from a pack's sweep is the pack's, never this
    machine's. Returns how many runs and views were computed."""
    runs, steps = missing(deck, results)
    for run in runs:
        run_one(run)
    for step in steps:
        status(f"Measuring step '{step.title}'")
        found = results.locate(step.configs())
        if found is None:
            raise UserError(f"Step '{step.title}' has no finished run to measure its view from.")
        if not results.activations.has(found.activations):
            raise UserError(
                f"Step '{step.title}' is measured on the activations its run was trained on, which this machine "
                "does not have" + (f"; its pack {found.pack.id} brought no view for it." if found.pack else ".")
            )
        result = results.load_sweep(found, step.configs()[1])
        activations = sweep_activations(results.activations, found.activations, result.config)
        check_fits(result, activations)
        tables = step.spec.measure(step, activations, result)
        results.view_home(step).store.save(results.view_identity(step, found.key), tables)
    return len(runs) + len(steps)
