"""The inspector step: one held-out test pair's verdict as the training p grows."""

from __future__ import annotations

import pandas as pd

from core.analysis.examples import flipping_example, prediction_trajectory
from core.errors import UserError
from core.experiments.cells import SweepResult
from core.probes import HEADLINE_METHOD, METHOD_IDS
from core.settings.validate import MAX_P_LEVELS
from core.store.activations import ActivationSet
from core.store.schema import FLAG, FRACTION, INT, MAYBE_FRACTION, TEXT, Column, Table
from core.story import options
from core.story.model import Step, StepType, own_run
from core.story.results import Results
from core.story.slides import Pair, Slide
from core.views.pair_charts import trajectory_chart
from core.views.style import method_label


def measure_inspector(step: Step, acts: ActivationSet, result: SweepResult) -> dict[str, pd.DataFrame]:
    """The chosen (or most flipping) test pair and its verdict at every p."""
    method = step.options.get("method", HEADLINE_METHOD)
    seed = step.options.get("seed", result.config.seeds[0])
    if "example" in step.options:
        if step.options["example"] not in acts.ids:
            raise UserError(f"Example {step.options['example']!r} is not in this run's data.")
        example = acts.ids.index(step.options["example"])
    else:
        example = flipping_example(acts, result, method, seed)
    trajectory = prediction_trajectory(acts, result, method, seed, example)
    pair = pd.DataFrame(
        {
            "id": [acts.ids[example]],
            "text": [acts.texts[example]],
            "label": [int(acts.labels[example])],
            "method": [method],
            "seed": [seed],
        }
    )
    return {"trajectory": trajectory, "pair": pair}


def draw_inspector(step: Step, results: Results) -> Slide | None:
    view = results.view(step)
    if view is None:
        return None
    extract, sweep = step.configs()
    pair = view["pair"].iloc[0]
    caption = (
        f"{method_label(pair['method'])}, seed {int(pair['seed'])}, layer {sweep.layer}: the probe trained at "
        f"each p on {sweep.n_train} pairs judges this held-out test pair; confidence that + is true, oriented "
        "as the reported accuracy (max(acc, 1 - acc) for unsupervised methods)."
    )
    chart = trajectory_chart(view["trajectory"])
    return Slide(chart, Pair(str(pair["id"]), str(pair["text"]), int(pair["label"]), extract.template), caption)


# What measure_inspector stores: the pair's verdict at each level of p, and the pair.
VIEW_TABLES = {
    "trajectory": Table(
        {
            "p": FRACTION,
            "confidence": MAYBE_FRACTION,
            "prediction": Column("int", choices=(0, 1)),
            "correct": FLAG,
        },
        min_rows=1,
        max_rows=MAX_P_LEVELS,
    ),
    "pair": Table(
        {
            "id": TEXT,
            "text": TEXT,
            "label": Column("int", choices=(0, 1)),
            "method": Column("text", choices=METHOD_IDS),
            "seed": INT,
        },
        min_rows=1,
        max_rows=1,
    ),
}

STEP = StepType(
    "inspector",
    f"one test pair's verdict as p grows: `method` (default {HEADLINE_METHOD}), `seed` (default the run's first), "
    "`example` (an example id; default the pair whose verdict flips most)",
    {"method": options.choice(METHOD_IDS), "seed": options.whole, "example": options.text},
    draw_inspector,
    own_run,
    measure_inspector,
    ("method", "seed", "example"),
    view_tables=VIEW_TABLES,
)
