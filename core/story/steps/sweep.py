"""The sweep step: one run's accuracy-versus-p chart, revealed level by level if asked."""

from __future__ import annotations

from core.metrics import METRICS
from core.story import options
from core.story.model import Step, StepType, own_run
from core.story.results import Results, metric_title, step_summary
from core.story.slides import Slide
from core.views.charts import imbalance_chart
from core.views.report import chart_caption, subtitle_lines


def draw_sweep(step: Step, results: Results) -> Slide | None:
    extract, sweep = step.configs()
    result = results.sweep((extract, sweep))
    if result is None:
        return None
    summary = step_summary(result, step)
    shown = summary[summary.p <= step.options.get("reveal", 1.0) + 1e-9]
    chart = imbalance_chart(
        shown,
        title=f"{metric_title(step)}: mean over seeds, 95% band",
        subtitle=subtitle_lines(chart_caption(sweep), 110),
        p_levels=sweep.p_levels,
        show_theory=step.options.get("theory", False),
    )
    return Slide(chart)


STEP = StepType(
    "sweep",
    "the accuracy-versus-p chart of a run: `methods` to draw, `reveal` (draw the levels of p up to this one, on "
    "the full axis), `metric` (accuracy or auroc), `theory` (the 4p(1-p) curve)",
    {
        "methods": options.methods,
        "reveal": options.fraction,
        "metric": options.choice(tuple(METRICS)),
        "theory": options.flag,
    },
    draw_sweep,
    own_run,
)
