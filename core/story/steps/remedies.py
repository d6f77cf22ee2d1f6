"""The remedies step: one method under Burns centering and each remedy."""

from __future__ import annotations

from core.analysis.remedies import compare_remedies, remedy_runs
from core.normalizations import REMEDIES
from core.probes import HEADLINE_METHOD, METHOD_IDS
from core.settings.sweep import Run
from core.story import options
from core.story.model import Step, StepType
from core.story.results import Results
from core.story.slides import Slide
from core.views.remedy_charts import remedy_chart
from core.views.report import chart_caption


def step_remedy_runs(step: Step) -> list[Run]:
    """The step's run under Burns centering, then under each of its remedies."""
    return remedy_runs(step.configs(), step.options.get("remedies", REMEDIES))


def draw_remedies(step: Step, results: Results) -> Slide | None:
    runs = step.runs()
    found = [results.sweep(run) for run in runs]
    if any(result is None for result in found):
        return None
    tables = {run[1].normalization: result.table for run, result in zip(runs, found)}
    comparison = compare_remedies(tables, step.options.get("method", HEADLINE_METHOD))
    chart = remedy_chart(comparison.summary, comparison.title)
    caption = (
        f"The same run with only its normalization changed: {chart_caption(runs[0][1])}. Oracle-balanced "
        "(dashed) reads labels: the upper bound of a normalization fix."
    )
    return Slide(chart, caption=caption)


STEP = StepType(
    "remedies",
    "one method's accuracy and AUROC against p under Burns centering and each remedy: `method` (default "
    f"{HEADLINE_METHOD}), `remedies` (default all)",
    {"method": options.choice(METHOD_IDS), "remedies": options.remedies},
    draw_remedies,
    step_remedy_runs,
)
