"""The sweep step: one run's accuracy-versus-p chart, revealed level by level if asked."""

from __future__ import annotations

from core.metrics import METRICS
from core.story import options
from core.story.model import Step, StepType, own_run
from core.story.results import Results, metric_title, step_summary
from core.story.slides import Slide
from core.views.charts import imbalance_chart
from core.views.report import chart_caption


def draw_sweep(step: Step, results: Results) -> Slide | None:
    extract, sweep = step.configs()
    result = results.sweep((extract, sweep))
    if result is None:
        return None
    reveal = step.options.get("reveal", 1.0) + 1e-9
    summary = step_summary(result, step)
    seeds = result.table[result.table.method.isin(step.options.get("show_seeds", ())) & (result.table.p <= reveal)]
    chart = imbalance_chart(
        summary[summary.p <= reveal],
        title=f"{metric_title(step)}: mean over seeds, 95% band" + (", one circle a seed" if len(seeds) else ""),
        p_levels=sweep.p_levels,
        show_theory=step.options.get("theory", False),
        line_labels=True,
        seeds=seeds,
    )
    return Slide(chart, caption=chart_caption(sweep))


STEP = StepType(
    "sweep",
    "the accuracy-versus-p chart of a run: `methods` to draw, `reveal` (draw the levels of p up to this one, on "
    "the full axis), `metric` (accuracy or auroc), `theory` (the 4p(1-p) curve), `show_seeds` (methods whose "
    "seeds to draw one by one)",
    {
        "methods": options.methods,
        "show_seeds": options.methods,
        "reveal": options.fraction,
        "metric": options.choice(tuple(METRICS)),
        "theory": options.flag,
    },
    draw_sweep,
    own_run,
)
