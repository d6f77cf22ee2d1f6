"""The mechanism step: what centering does along the truth direction, measured."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from core.analysis.mechanism import centering_table
from core.errors import UserError
from core.experiments.cells import SweepResult
from core.settings.validate import MAX_P_LEVELS, MAX_SEEDS
from core.store.activations import ActivationSet
from core.store.schema import FRACTION, INT, MAYBE_NUMBER, Table
from core.story.model import Step, StepType, own_run
from core.story.results import Results
from core.story.slides import Slide
from core.views.mechanism_charts import centering_chart, variance_chart

MECHANISM_CHARTS = ("centering", "variance")
# What measure_mechanism stores: core.analysis.mechanism.centering_table, a row per training draw.
VIEW_TABLES = {
    "centering": Table(
        {
            "p": FRACTION,
            "seed": INT,
            **dict.fromkeys(
                (
                    "mean_shift",
                    "mean_shift_predicted",
                    "true_position",
                    "true_position_predicted",
                    "false_position",
                    "false_position_predicted",
                    "variance",
                    "variance_predicted",
                    "truth_variance_ratio_predicted",
                    "variance_ratio",
                ),
                MAYBE_NUMBER,
            ),
        },
        min_rows=1,
        max_rows=MAX_P_LEVELS * MAX_SEEDS,
    )
}


def mechanism_charts(value: Any, where: str) -> tuple[str, ...]:
    """The `charts` option: which of MECHANISM_CHARTS to draw."""
    if not isinstance(value, list) or not value or any(chart not in MECHANISM_CHARTS for chart in value):
        raise UserError(f"{where} must be a non-empty list from {', '.join(MECHANISM_CHARTS)}, got {value!r}.")
    return tuple(dict.fromkeys(value))


def measure_mechanism(step: Step, acts: ActivationSet, result: SweepResult) -> dict[str, pd.DataFrame]:
    """The centering statistics of every training draw of the run."""
    return {"centering": centering_table(acts, result.config)}


def draw_mechanism(step: Step, results: Results) -> Slide | None:
    view = results.view(step)
    if view is None:
        return None
    table = view["centering"]
    makers = {
        "centering": (centering_chart, "Where centered pairs sit"),
        "variance": (variance_chart, "Truth variance left"),
    }
    shown = step.options.get("charts", MECHANISM_CHARTS)
    width = 960 if len(shown) == 1 else 470
    charts = [makers[name][0](table).properties(width=width, height=380, title=makers[name][1]) for name in shown]
    sweep = step.configs()[1]
    caption = (
        f"Points: measured on the training draws of layer {sweep.layer} ({len(sweep.seeds)} seeds per level, "
        f"n_train {sweep.n_train}, mean over seeds); dashed: the two-point prediction. The truth direction is "
        "the mass-mean direction of the pair differences on the training pool."
    )
    chart = charts[0] if len(charts) == 1 else alt.hconcat(*charts).resolve_scale(color="independent")
    return Slide(chart, caption=caption)


STEP = StepType(
    "mechanism",
    "what centering does along the truth direction, measured: `charts` (centering, variance)",
    {"charts": mechanism_charts},
    draw_mechanism,
    own_run,
    measure_mechanism,
    view_tables=VIEW_TABLES,
)
