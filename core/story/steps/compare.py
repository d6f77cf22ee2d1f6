"""The compare step: several runs on one chart, labelled by what differs between them."""

from __future__ import annotations

import pandas as pd

from core.experiments.cells import SweepResult
from core.metrics import METRICS
from core.settings.links import extract_to_params, sweep_to_params
from core.settings.sweep import Run
from core.story import options
from core.story.model import Step, StepType
from core.story.results import Results, metric_title, step_summary
from core.story.slides import Slide
from core.views.charts import COMPARE_FACETS, compare_chart
from core.views.report import chart_caption


def compare_runs(step: Step) -> list[Run]:
    """The step's `run` with each entry of its `runs` applied on top."""
    return [step.configs({**step.run, **changes}) for changes in step.options["runs"]]


def run_labels(runs: list[Run]) -> list[str]:
    """Short names for runs side by side: the link parameters in which they differ."""
    params = [{**extract_to_params(e), **sweep_to_params(s)} for e, s in runs]
    differing = [
        name for name in dict.fromkeys(k for p in params for k in p) if len({p.get(name, "(demo)") for p in params}) > 1
    ]
    return [
        " · ".join(f"{name}={p.get(name, '(demo)')}" for name in differing) or f"run {i}"
        for i, p in enumerate(params, start=1)
    ]


def draw_compare(step: Step, results: Results) -> Slide | None:
    runs = step.runs()
    found = [results.sweep(run) for run in runs]
    if any(result is None for result in found):
        return None
    labels = step.options.get("labels") or run_labels(runs)
    summary = pd.concat([step_summary(result, step).assign(run=label) for result, label in zip(found, labels)])
    chart = compare_chart(
        summary, facet=step.options.get("facet", "none"), title=f"{metric_title(step)}: mean over seeds, 95% band"
    )
    return Slide(chart, caption=compare_caption(found, labels))


def compare_caption(found: list[SweepResult], labels: list[str]) -> str:
    """Each run's chart caption; once, when the runs share it."""
    captions = [chart_caption(result.config) for result in found]
    if len(set(captions)) == 1:
        return f"Every run: {captions[0]}"
    return " | ".join(f"{label}: {caption}" for caption, label in zip(captions, labels))


STEP = StepType(
    "compare",
    "several runs on one chart: `runs` (a list of link-parameter tables, each applied on top of `run`), "
    "`labels` (one per run; default: what differs), `methods`, `metric`, `facet` (none, method or run)",
    {
        "runs": options.runs,
        "labels": options.labels,
        "methods": options.methods,
        "metric": options.choice(tuple(METRICS)),
        "facet": options.choice(COMPARE_FACETS),
    },
    draw_compare,
    compare_runs,
    required=("runs",),
)
