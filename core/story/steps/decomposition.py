"""The decomposition step: each method's drop as a moved threshold plus a lost direction."""

from __future__ import annotations

from core.analysis.remedies import decomposition
from core.story import options
from core.story.model import Step, StepType, own_run
from core.story.results import Results
from core.story.slides import Slide
from core.views.remedy_charts import decomposition_chart
from core.views.report import chart_caption


def draw_decomposition(step: Step, results: Results) -> Slide | None:
    result = results.sweep(step.configs())
    if result is None:
        return None
    methods = step.options.get("methods", result.config.methods)
    parts = decomposition(result.table[result.table.method.isin(methods)])
    caption = (
        "Accuracy lost since balance = moved threshold (won back by a threshold at the median test score) + "
        "lost direction (the drop in that calibrated accuracy); means over seeds. " + chart_caption(result.config)
    )
    return Slide(decomposition_chart(parts, title="Accuracy lost since p = 0.5, by method"), caption=caption)


STEP = StepType(
    "decomposition",
    "each method's accuracy drop split into a moved threshold and a lost direction: `methods`",
    {"methods": options.methods},
    draw_decomposition,
    own_run,
)
