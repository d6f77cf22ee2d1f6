"""The across-models step: the same run on several models and bundled data sets, each
model probed at the same relative depth, in the panels of a grid (a row per data set, a
column per model and depth). Its runs are built as a grid builds them
(core.experiments.grid.grid_extraction), so a grid with the same settings fills it."""

from __future__ import annotations

import dataclasses

import pandas as pd

from core.analysis.grids import drops
from core.config import BUNDLED, DatasetSpec, ModelSpec
from core.data.bundled import bundled_set
from core.errors import UserError
from core.experiments.grid import grid_extraction, model_layers
from core.metrics import METRICS
from core.models import model_label
from core.models.known import known_hidden_states
from core.settings.sweep import Run
from core.settings.validate import check_layers_exist
from core.story import options
from core.story.model import Step, StepType
from core.story.results import Results, metric_title
from core.story.slides import Slide
from core.views.charts import drop_chart
from core.views.report import chart_caption

DEFAULT_DEPTHS = ("75%",)


def _cells(step: Step) -> list[tuple[str, str, str, Run]]:
    """(model label, data set, depth as written, run) of every panel line the step draws."""
    extract, sweep = step.configs()
    names = step.options.get("datasets") or (extract.dataset.name,)
    cells = []
    for model_id in step.options["models"]:
        spec, label = ModelSpec(model_id=model_id), model_label(model_id)
        layers, depths = model_layers(list(step.options.get("depths", DEFAULT_DEPTHS)), spec, label, "depths", [])
        try:
            check_layers_exist(extract, max(layers), known_hidden_states(spec))
        except UserError as error:
            raise UserError(f"depths: {label}: {error}") from None
        depth_of = dict(depths)
        for name in names:
            config = grid_extraction(extract, spec, DatasetSpec(BUNDLED, name), bundled_set(name).template, layers)
            cells += [
                (label, name, depth_of.get(layer, ""), (config, dataclasses.replace(sweep, layer=layer)))
                for layer in layers
            ]
    return cells


def model_runs(step: Step) -> list[Run]:
    """Every model x data set x depth the step draws, as runs."""
    return [run for *_, run in _cells(step)]


def draw_models(step: Step, results: Results) -> Slide | None:
    cells = _cells(step)
    found = [results.sweep(run) for *_, run in cells]
    if any(result is None for result in found):
        return None
    metric = step.options.get("metric", "accuracy")
    methods = step.options.get("methods", found[0].config.methods)
    table = pd.concat(
        [
            result.table[result.table.method.isin(methods)].assign(model=model, dataset=dataset, depth=depth)
            for (model, dataset, depth, _), result in zip(cells, found)
        ],
        ignore_index=True,
    )
    chart = drop_chart(drops(table, metric), f"{metric_title(step)} lost under imbalance, by model and data set")
    models = ", ".join(dict.fromkeys(model for model, *_ in cells))
    shared = chart_caption(found[0].config).replace(f", layer {found[0].config.layer};", ";")  # panels name layers
    return Slide(chart, caption=f"Models: {models}, each at the layer the legend names. {shared}")


STEP = StepType(
    "models",
    "the run on several models side by side: `models` (2 to 4 offline models or hub ids), `datasets` "
    "(1 to 5 bundled sets, each with its template; default: the run's), `depths` (1 to 3 relative depths "
    "such as 75% or middle, or layer indices; default 75%), `methods`, `metric`",
    {
        "models": options.models,
        "datasets": options.bundled_sets,
        "depths": options.depths,
        "methods": options.methods,
        "metric": options.choice(tuple(METRICS)),
    },
    draw_models,
    model_runs,
    required=("models",),
)
