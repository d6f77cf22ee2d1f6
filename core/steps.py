"""The views a deck step can show, in one registry (STEP_TYPES): each type's options and
their checks, the runs it draws from, what it measures on activations (kept as a stored
view, core.viewstore, so it draws without them) and how it draws a Slide from cached
results. Story mode, the HTML export and `pack` all go through here, so a step looks the
same wherever it is shown.

Step options are written by a person in a deck file, so every check raises a UserError
naming the field (core.deck adds the deck and the step).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import altair as alt
import pandas as pd

from core.companions import sweep_activations
from core.config import METHODS, ExtractConfig, SweepConfig, Template, config_hash, to_jsonable
from core.errors import UserError
from core.metrics import METRICS
from core.normalizations import REMEDIES
from core.store import ActivationSet, ActivationStore, SweepStore, content_key
from core.sweep import SweepResult, load_sweep, sweep_key
from core.viewstore import ViewStore

if TYPE_CHECKING:
    from core.deck import Deck, Step

Run = tuple[ExtractConfig, SweepConfig]
FACETS = ("none", "method", "run")
MECHANISM_CHARTS = ("centering", "variance")
# Raised when a change alters what a measured view holds, so stored views are measured again.
VIEW_REVISION = 1


# ----- option checks: (value, where) -> the value as the step keeps it -----

def _methods(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(m not in METHODS for m in value):
        raise UserError(f"{where} must be a non-empty list of methods from {', '.join(METHODS)}, got {value!r}.")
    return tuple(value)


def _fraction(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise UserError(f"{where} must be a number strictly between 0 and 1, got {value!r}.")
    return float(value)


def _choice(allowed: tuple[str, ...]) -> Callable[[Any, str], str]:
    def check(value: Any, where: str) -> str:
        if value not in allowed:
            raise UserError(f"{where} must be one of {', '.join(allowed)}, got {value!r}.")
        return value
    return check


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise UserError(f"{where} must be true or false, got {value!r}.")
    return value


def _whole(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserError(f"{where} must be a whole number, 0 or more, got {value!r}.")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise UserError(f"{where} must be non-empty text, got {value!r}.")
    return value


def _layers(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not 2 <= len(value) <= 64 or len(set(value)) != len(value):
        raise UserError(f"{where} must be a list of 2 to 64 distinct layers, got {value!r}.")
    return tuple(_whole(layer, where) for layer in value)


def link_params(value: Any, where: str) -> dict[str, str]:
    """A table of link parameters (core.links) as the strings a link would carry."""
    if not isinstance(value, dict) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                              for v in value.values()):
        raise UserError(f"{where} must be a table of link parameters (text or numbers), got {value!r}.")
    return {str(k): str(v) for k, v in value.items()}


def _runs(value: Any, where: str) -> tuple[dict[str, str], ...]:
    if not isinstance(value, list) or not 2 <= len(value) <= 8:
        raise UserError(f"{where} must be a list of 2 to 8 tables of link parameters, got {value!r}.")
    return tuple(link_params(entry, f"{where} {i}") for i, entry in enumerate(value, start=1))


def _labels(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(label, str) and label for label in value):
        raise UserError(f"{where} must be a list of non-empty texts, got {value!r}.")
    return tuple(value)


def _remedies(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(norm not in REMEDIES for norm in value):
        raise UserError(f"{where} must be a non-empty list of remedies from {', '.join(REMEDIES)}, got {value!r}.")
    return tuple(dict.fromkeys(value))


def _mechanism_charts(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(chart not in MECHANISM_CHARTS for chart in value):
        raise UserError(f"{where} must be a non-empty list from {', '.join(MECHANISM_CHARTS)}, got {value!r}.")
    return tuple(dict.fromkeys(value))


# ----- what a step shows -----

@dataclass(frozen=True)
class Pair:
    """One inspected contrast pair: its example id, text, label (1 = + is true) and the
    template that turns it into x+ and x-."""

    example_id: str
    text: str
    label: int
    template: Template


@dataclass(frozen=True)
class Slide:
    """What a step shows under its title and body: a chart (slide-sized), the pair it
    inspects, and a caption saying how its numbers were computed."""

    chart: alt.TopLevelMixin | None = None
    pair: Pair | None = None
    caption: str = ""


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
        from core.extract import activation_key

        if run_id(run) in self.pins:
            activations, sweep = self.pins[run_id(run)]
            return activations, sweep
        activations = activation_key(run[0])
        return activations, sweep_key(activations, run[1])

    def sweep(self, run: Run) -> SweepResult | None:
        """The finished sweep of `run`, or None when it is not cached."""
        activations, key = self.keys(run)
        return load_sweep(self.sweeps, key, run[1], activations) if self.sweeps.has(key) else None

    def view_identity(self, step: "Step") -> dict[str, Any]:
        """What a measured view depends on: the step's measured options and its run's sweep."""
        spec = STEP_TYPES[step.type]
        options = {name: step.options[name] for name in spec.measured_options if name in step.options}
        return {"kind": "view", "revision": VIEW_REVISION, "type": step.type, "options": to_jsonable(options),
                "sweep": self.keys(step.configs())[1]}

    def view_key(self, step: "Step") -> str:
        return content_key(self.view_identity(step))

    def view(self, step: "Step") -> dict[str, pd.DataFrame] | None:
        """The stored measurement of a measured step, or None."""
        return self.views.load(self.view_key(step))


def _base_runs(step: "Step") -> list[Run]:
    return [step.configs()]


def _layer_runs(step: "Step") -> list[Run]:
    extract, sweep = step.configs()
    return [(extract, dataclasses.replace(sweep, layer=layer)) for layer in step.options["layers"]]


def _compare_runs(step: "Step") -> list[Run]:
    return [step.configs({**step.run, **changes}) for changes in step.options["runs"]]


def _remedy_runs(step: "Step") -> list[Run]:
    from core.remedies import remedy_runs

    return remedy_runs(step.configs(), step.options.get("remedies", REMEDIES))


def _summary(result: SweepResult, step: "Step") -> pd.DataFrame:
    from core.metrics import summarize

    methods = step.options.get("methods", result.config.methods)
    return summarize(result.table[result.table.method.isin(methods)], step.options.get("metric", "accuracy"))


def _metric_title(step: "Step") -> str:
    return METRICS[step.options.get("metric", "accuracy")].label


def _draw_sweep(step: "Step", results: Results) -> Slide | None:
    from core.charts import imbalance_chart
    from core.report import chart_caption, subtitle_lines

    extract, sweep = step.configs()
    result = results.sweep((extract, sweep))
    if result is None:
        return None
    summary = _summary(result, step)
    shown = summary[summary.p <= step.options.get("reveal", 1.0) + 1e-9]
    chart = imbalance_chart(shown, title=f"{_metric_title(step)}: mean over seeds, 95% band",
                            subtitle=subtitle_lines(chart_caption(sweep), 110), p_levels=sweep.p_levels,
                            show_theory=step.options.get("theory", False))
    return Slide(chart)


def run_labels(runs: list[Run]) -> list[str]:
    """Short names for runs side by side: the link parameters in which they differ."""
    from core.links import extract_to_params, sweep_to_params

    params = [{**extract_to_params(e), **sweep_to_params(s)} for e, s in runs]
    differing = [name for name in dict.fromkeys(k for p in params for k in p)
                 if len({p.get(name, "(demo)") for p in params}) > 1]
    return [" · ".join(f"{name}={p.get(name, '(demo)')}" for name in differing) or f"run {i}"
            for i, p in enumerate(params, start=1)]


def _draw_compare(step: "Step", results: Results) -> Slide | None:
    from core.charts import compare_chart

    runs = step.runs()
    found = [results.sweep(run) for run in runs]
    if any(result is None for result in found):
        return None
    labels = step.options.get("labels") or run_labels(runs)
    summary = pd.concat([_summary(result, step).assign(run=label) for result, label in zip(found, labels)])
    chart = compare_chart(summary, facet=step.options.get("facet", "none"),
                          title=f"{_metric_title(step)}: mean over seeds, 95% band")
    return Slide(chart, caption=_compare_caption(found, labels))


def _compare_caption(found: list[SweepResult], labels: list[str]) -> str:
    """Each run's chart caption; once, when the runs share it."""
    from core.report import chart_caption

    captions = [chart_caption(result.config) for result in found]
    if len(set(captions)) == 1:
        return f"Every run: {captions[0]}"
    return " | ".join(f"{label}: {caption}" for caption, label in zip(captions, labels))


def _draw_layers(step: "Step", results: Results) -> Slide | None:
    from core.charts import layer_chart
    from core.metrics import summarize
    from core.report import chart_caption

    found = [results.sweep(run) for run in step.runs()]
    if any(result is None for result in found):
        return None
    table = pd.concat([result.table for result in found], ignore_index=True)
    methods = step.options.get("methods", found[0].config.methods)
    summary = summarize(table[table.method.isin(methods)], step.options.get("metric", "accuracy"),
                        by=("method", "p", "layer"))
    caption = chart_caption(found[0].config).replace(f", layer {found[0].config.layer}", "")
    return Slide(layer_chart(summary), caption=caption)


def _draw_remedies(step: "Step", results: Results) -> Slide | None:
    from core.charts import method_label, remedy_chart
    from core.remedies import remedy_summary
    from core.report import chart_caption

    runs = step.runs()
    found = [results.sweep(run) for run in runs]
    if any(result is None for result in found):
        return None
    method = step.options.get("method", "ccs")
    summary = remedy_summary({run[1].normalization: result.table for run, result in zip(runs, found)}, method)
    chart = remedy_chart(summary, f"{method_label(method)} under each normalization: mean over seeds, 95% band")
    caption = (f"The same run with only its normalization changed: {chart_caption(runs[0][1])}. Oracle-balanced "
               "(dashed) reads labels: the upper bound of a normalization fix.")
    return Slide(chart, caption=caption)


def _draw_decomposition(step: "Step", results: Results) -> Slide | None:
    from core.charts import decomposition_chart
    from core.remedies import decomposition
    from core.report import chart_caption

    result = results.sweep(step.configs())
    if result is None:
        return None
    methods = step.options.get("methods", result.config.methods)
    parts = decomposition(result.table[result.table.method.isin(methods)])
    caption = ("Accuracy lost since balance = moved threshold (won back by a threshold at the median test score) + "
               "lost direction (the drop in that calibrated accuracy); means over seeds. "
               + chart_caption(result.config))
    return Slide(decomposition_chart(parts, title="Accuracy lost since p = 0.5, by method"), caption=caption)


def _measure_inspector(step: "Step", acts: ActivationSet, result: SweepResult) -> dict[str, pd.DataFrame]:
    from core.examples import flipping_example, prediction_trajectory

    method = step.options.get("method", "ccs")
    seed = step.options.get("seed", result.config.seeds[0])
    if "example" in step.options:
        if step.options["example"] not in acts.ids:
            raise UserError(f"Example {step.options['example']!r} is not in this run's data.")
        example = acts.ids.index(step.options["example"])
    else:
        example = flipping_example(acts, result, method, seed)
    trajectory = prediction_trajectory(acts, result, method, seed, example)
    pair = pd.DataFrame({"id": [acts.ids[example]], "text": [acts.texts[example]],
                         "label": [int(acts.labels[example])], "method": [method], "seed": [seed]})
    return {"trajectory": trajectory, "pair": pair}


def _draw_inspector(step: "Step", results: Results) -> Slide | None:
    from core.charts import method_label, trajectory_chart

    view = results.view(step)
    if view is None:
        return None
    extract, sweep = step.configs()
    pair = view["pair"].iloc[0]
    caption = (f"{method_label(pair['method'])}, seed {int(pair['seed'])}, layer {sweep.layer}: the probe trained at "
               f"each p on {sweep.n_train} pairs judges this held-out test pair; confidence that + is true, oriented "
               "as the reported accuracy (max(acc, 1 - acc) for unsupervised methods).")
    chart = trajectory_chart(view["trajectory"])
    return Slide(chart, Pair(str(pair["id"]), str(pair["text"]), int(pair["label"]), extract.template), caption)


def _measure_mechanism(step: "Step", acts: ActivationSet, result: SweepResult) -> dict[str, pd.DataFrame]:
    from core.mechanism import centering_table

    return {"centering": centering_table(acts, result.config)}


def _draw_mechanism(step: "Step", results: Results) -> Slide | None:
    from core.charts import centering_chart, variance_chart

    view = results.view(step)
    if view is None:
        return None
    table = view["centering"]
    makers = {"centering": (centering_chart, "Where centered pairs sit"),
              "variance": (variance_chart, "Truth variance left")}
    shown = step.options.get("charts", MECHANISM_CHARTS)
    width = 960 if len(shown) == 1 else 470
    charts = [makers[name][0](table).properties(width=width, height=380, title=makers[name][1]) for name in shown]
    sweep = step.configs()[1]
    caption = (f"Points: measured on the training draws of layer {sweep.layer} ({len(sweep.seeds)} seeds per level, "
               f"n_train {sweep.n_train}, mean over seeds); dashed: the two-point prediction. The truth direction is "
               "the mass-mean direction of the pair differences on the training pool.")
    chart = charts[0] if len(charts) == 1 else alt.hconcat(*charts).resolve_scale(color="independent")
    return Slide(chart, caption=caption)


def _check_run_methods(step: "Step") -> None:
    """The run trains every method the step draws, and a reveal level draws something."""
    for extract, sweep in step.runs():
        drawn = step.options.get("methods", ())
        missing = sorted(set(drawn) - set(sweep.methods))
        if missing:
            raise UserError(f"methods {missing} are not in the run (it trains {', '.join(sweep.methods)}).")
        method = step.options.get("method")
        if method is not None and method not in sweep.methods:
            raise UserError(f"method {method!r} is not in the run (it trains {', '.join(sweep.methods)}).")
        if "seed" in step.options and step.options["seed"] not in sweep.seeds:
            raise UserError(f"seed {step.options['seed']} is not one of the run's seeds.")
        if "reveal" in step.options and step.options["reveal"] < min(sweep.p_levels):
            raise UserError(f"reveal {step.options['reveal']:g} is below the run's lowest level of p "
                            f"({min(sweep.p_levels):g}), so nothing would be drawn.")
    labels = step.options.get("labels")
    if labels is not None and len(labels) != len(step.options.get("runs", ())):
        raise UserError("labels must name each of the runs, one label a run.")


@dataclass(frozen=True)
class StepType:
    """A view a step can show. `options`: its own fields and their checks; `runs`: the
    runs it draws from (None: it shows no results); `measure`: what it computes from one
    run's activations and sweep, stored as a view (keyed by `measured_options`); `draw`:
    its Slide from cached results, None while they are missing."""

    description: str
    options: dict[str, Callable[[Any, str], Any]]
    draw: Callable[["Step", Results], Slide | None]
    runs: Callable[["Step"], list[Run]] | None = None
    measure: Callable[["Step", ActivationSet, SweepResult], dict[str, pd.DataFrame]] | None = None
    measured_options: tuple[str, ...] = ()
    required: tuple[str, ...] = ()


STEP_TYPES = {
    "text": StepType("a text slide: title, body paragraphs", {}, lambda step, results: Slide()),
    "sweep": StepType(
        "the accuracy-versus-p chart of a run: `methods` to draw, `reveal` (draw the levels of p up to this one, on "
        "the full axis), `metric` (accuracy or auroc), `theory` (the 4p(1-p) curve)",
        {"methods": _methods, "reveal": _fraction, "metric": _choice(tuple(METRICS)), "theory": _flag},
        _draw_sweep, _base_runs),
    "compare": StepType(
        "several runs on one chart: `runs` (a list of link-parameter tables, each applied on top of `run`), "
        "`labels` (one per run; default: what differs), `methods`, `metric`, `facet` (none, method or run)",
        {"runs": _runs, "labels": _labels, "methods": _methods, "metric": _choice(tuple(METRICS)),
         "facet": _choice(FACETS)},
        _draw_compare, _compare_runs, required=("runs",)),
    "layers": StepType(
        "accuracy by layer: `layers` (hidden-state indices, each a run of `run` at that layer), `methods`, `metric`",
        {"layers": _layers, "methods": _methods, "metric": _choice(tuple(METRICS))},
        _draw_layers, _layer_runs, required=("layers",)),
    "inspector": StepType(
        "one test pair's verdict as p grows: `method` (default ccs), `seed` (default the run's first), `example` "
        "(an example id; default the pair whose verdict flips most)",
        {"method": _choice(METHODS), "seed": _whole, "example": _text},
        _draw_inspector, _base_runs, _measure_inspector, ("method", "seed", "example")),
    "remedies": StepType(
        "one method's accuracy and AUROC against p under Burns centering and each remedy: `method` (default ccs), "
        "`remedies` (default all)",
        {"method": _choice(METHODS), "remedies": _remedies}, _draw_remedies, _remedy_runs),
    "decomposition": StepType(
        "each method's accuracy drop split into a moved threshold and a lost direction: `methods`",
        {"methods": _methods}, _draw_decomposition, _base_runs),
    "mechanism": StepType(
        "what centering does along the truth direction, measured: `charts` (centering, variance)",
        {"charts": _mechanism_charts}, _draw_mechanism, _base_runs, _measure_mechanism),
}


def check_step(step: "Step") -> None:
    """Checks that need the step's runs (UserError)."""
    if STEP_TYPES[step.type].runs is not None:
        _check_run_methods(step)


def slide(step: "Step", results: Results) -> Slide | None:
    """The step's Slide from cached results (None while any are missing), its chart in
    slide style (core.charts.slide_style)."""
    from core.charts import slide_style

    drawn = STEP_TYPES[step.type].draw(step, results)
    if drawn is None or drawn.chart is None:
        return drawn
    return dataclasses.replace(drawn, chart=slide_style(drawn.chart))


def missing(deck: "Deck", results: Results) -> tuple[list[Run], list["Step"]]:
    """What a deck lacks in the cache: runs without a finished sweep, in order of first
    use, and measured steps without a stored view."""
    runs = [run for run in deck.runs() if results.sweep(run) is None]
    views = [step for step in deck.steps if STEP_TYPES[step.type].measure is not None and results.view(step) is None]
    return runs, views


def compute(deck: "Deck", results: Results, run_one: Callable[[Run], SweepResult],
            status: Callable[[str], None] = lambda message: None) -> int:
    """Compute what a deck lacks: each missing run with `run_one` (the caller's pipeline,
    with its progress display), then each missing view, measured on the run's
    activations. Returns how many runs and views were computed."""
    runs, steps = missing(deck, results)
    for run in runs:
        run_one(run)
    for step in steps:
        status(f"Measuring step '{step.title}'")
        extract, sweep = step.configs()
        result = results.sweep((extract, sweep))
        activations = sweep_activations(results.activations, results.keys((extract, sweep))[0], sweep)
        tables = STEP_TYPES[step.type].measure(step, activations, result)
        results.views.save(results.view_identity(step), tables)
    return len(runs) + len(steps)

