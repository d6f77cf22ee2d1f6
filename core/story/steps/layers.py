"""The layers step: accuracy by layer, each layer a run of the step's run."""

from __future__ import annotations

import dataclasses

import pandas as pd

from core.metrics import METRICS, summarize
from core.settings.sweep import Run
from core.story import options
from core.story.model import Step, StepType
from core.story.results import Results
from core.story.slides import Slide
from core.views.charts import layer_chart
from core.views.report import chart_caption


def layer_runs(step: Step) -> list[Run]:
    """The step's run at each of its `layers`."""
    extract, sweep = step.configs()
    return [(extract, dataclasses.replace(sweep, layer=layer)) for layer in step.options["layers"]]


def draw_layers(step: Step, results: Results) -> Slide | None:
    found = [results.sweep(run) for run in step.runs()]
    if any(result is None for result in found):
        return None
    table = pd.concat([result.table for result in found], ignore_index=True)
    methods = step.options.get("methods", found[0].config.methods)
    summary = summarize(
        table[table.method.isin(methods)], step.options.get("metric", "accuracy"), by=("method", "p", "layer")
    )
    caption = chart_caption(found[0].config).replace(f", layer {found[0].config.layer}", "")
    return Slide(layer_chart(summary), caption=caption)


STEP = StepType(
    "layers",
    "accuracy by layer: `layers` (hidden-state indices, each a run of `run` at that layer), `methods`, `metric`",
    {"layers": options.layers, "methods": options.methods, "metric": options.choice(tuple(METRICS))},
    draw_layers,
    layer_runs,
    required=("layers",),
)
