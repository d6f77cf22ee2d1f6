"""The label-budget step: how many labelled pairs win back the drop at the run's highest p
(core.analysis.label_budget), measured on this machine's activations and kept as a view."""

from __future__ import annotations

import pandas as pd

from core.analysis.label_budget import USES, budget_shares, label_budget
from core.experiments.cells import SweepResult
from core.probes import METHOD_IDS
from core.store.activations import ActivationSet
from core.store.schema import FRACTION, INT, MAYBE_NUMBER, Column, Table
from core.story.model import Step, StepType, own_run
from core.story.results import Results
from core.story.slides import Slide
from core.views.remedy_charts import budget_chart
from core.views.report import chart_caption

# What measure_budget stores: core.analysis.label_budget.budget_shares, a row per method, use and k.
VIEW_TABLES = {
    "budget": Table(
        {
            "method": Column("text", choices=METHOD_IDS),
            "use": Column("text", choices=tuple(USES)),
            "k": INT,
            "p": FRACTION,
            "drop": MAYBE_NUMBER,
            "share": MAYBE_NUMBER,
            "share_low": MAYBE_NUMBER,
            "share_high": MAYBE_NUMBER,
            "placed": FRACTION,
            "seeds": INT,
        },
        min_rows=1,
        max_rows=len(METHOD_IDS) * len(USES) * 20,
    )
}


def measure_budget(step: Step, acts: ActivationSet, result: SweepResult) -> dict[str, pd.DataFrame]:
    """The label budget of every method of the run."""
    return {"budget": budget_shares(label_budget(acts, result))}


def draw_budget(step: Step, results: Results) -> Slide | None:
    view = results.view(step)
    if view is None:
        return None
    shares = view["budget"]
    caption = (
        f"k labelled pairs drawn from each cell's own training draw at p = {shares.p.max():g} "
        f"({chart_caption(step.configs()[1])}); the probe is not retrained. Lines: the share of the accuracy "
        "drop won back, 95% intervals over seeds."
    )
    return Slide(budget_chart(shares), caption=caption)


STEP = StepType(
    "label_budget",
    "the share of each method's drop at the highest p won back with k labelled pairs (0 to 200), by "
    "prior-given centering and by a labelled threshold",
    {},
    draw_budget,
    own_run,
    measure_budget,
    view_tables=VIEW_TABLES,
)
