"""The look every chart shares: display labels from the registries, colors (Okabe & Ito's
colorblind-safe palette), the p axis, chance lines, legends, and the slide style that makes
a chart readable from the back of a room.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.analysis.grids import BALANCED_COVARIANCE
from core.metrics import METRICS, THRESHOLD_REMEDIES
from core.normalizations import NORMALIZATION_REGISTRY
from core.probes import METHOD_REGISTRY

# Runs side by side (compare charts): Okabe & Ito's colorblind-safe palette, as the
# methods' colors (core.probes), starting with the colors that
# differ most from each other.
RUN_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
TRUTH_COLORS = {"+ is true": "#009E73", "+ is false": "#CC79A7"}
OUTCOME_COLORS = {"correct": "#009E73", "wrong": "#D55E00"}


def metric_label(metric: str) -> str:
    """Display name of a metric (core.metrics.METRICS)."""
    return METRICS[metric].label if metric in METRICS else metric


def metric_domain(metric: str, values, floor: float = 0.4) -> list[float]:
    """The y range for `values` of `metric`: from chance-ish (`floor`, or lower when a
    value is) up to 1 for a metric with a chance level; from 0 to a little above the
    highest value for one without (calibration error)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if metric in METRICS and METRICS[metric].chance is None:
        return [0.0, min(1.0, float(finite.max()) + 0.05) if len(finite) else 1.0]
    return [min(floor, float(finite.min()) - 0.02) if len(finite) else floor, 1.0]


def chance_rules(metric: str, inherit_data: bool = False) -> list:
    """A dashed rule at the metric's chance level (none for a metric without one); with
    `inherit_data`, a layer without data of its own (a faceted chart's layers share one)."""
    chance = METRICS[metric].chance if metric in METRICS else None
    if chance is None:
        return []
    base = alt.Chart() if inherit_data else alt.Chart(pd.DataFrame({"y": [chance]}))
    return [base.mark_rule(strokeDash=[4, 4], color="#888").encode(y=alt.datum(chance))]


def method_label(method: str) -> str:
    """Display name of a method id."""
    return METHOD_REGISTRY[method].label if method in METHOD_REGISTRY else method


def method_color(legend: alt.Legend | None = None) -> alt.Color:
    """The color encoding of the "Method" column: the same color for a method in every chart."""
    scale = alt.Scale(
        domain=[m.label for m in METHOD_REGISTRY.values()], range=[m.color for m in METHOD_REGISTRY.values()]
    )
    return alt.Color("Method:N", legend=legend, scale=scale)


def _bottom_legend(columns: int = 3, values: list[str] | None = None) -> alt.Legend:
    """A legend under the chart; `values` lists only the methods drawn (the color scale
    keeps every method's color, so a method looks the same in every chart)."""
    return alt.Legend(
        orient="bottom",
        columns=columns,
        title=None,
        labelLimit=320,
        symbolOpacity=1,
        symbolType="circle",
        **({"values": values} if values is not None else {}),
    )


def mean_tooltips(*fields: str) -> list[alt.Tooltip]:
    """The tooltips of a point that is a mean over seeds: `fields` (what the point belongs
    to), then p, the mean, its 95% interval and the number of seeds."""
    return [
        *(alt.Tooltip(field) for field in fields),
        alt.Tooltip("p:Q", format=".2f"),
        alt.Tooltip("mean:Q", format=".3f"),
        alt.Tooltip("ci_low:Q", format=".3f", title="95% CI low"),
        alt.Tooltip("ci_high:Q", format=".3f", title="95% CI high"),
        alt.Tooltip("n_seeds:Q"),
    ]


def p_axis(levels) -> alt.Axis:
    """An axis with a tick at each level of p that was run, not at round numbers between them."""
    return alt.Axis(values=sorted({float(p) for p in levels}), format="g")


def slide_style(chart: alt.TopLevelMixin, width: int = 960, height: int = 480) -> alt.TopLevelMixin:
    """A chart readable from the back of a room: `width` px wide (a concatenated or
    faceted chart keeps the panel sizes it was built with), axis labels of 18 px, titles
    of 22 px and more."""
    if isinstance(chart, (alt.Chart, alt.LayerChart)):
        chart = chart.properties(width=width, height=height)
    return (
        chart.configure_axis(labelFontSize=18, titleFontSize=22)
        .configure_legend(labelFontSize=20, titleFontSize=20, symbolSize=200, labelLimit=600)
        .configure_title(fontSize=28, subtitleFontSize=18)
        .configure_header(labelFontSize=22, titleFontSize=22)
    )


def normalization_label(norm: str) -> str:
    """Display name of a normalization id (and of the comparison of a remedy method with its
    plain form, core.analysis.grids.BALANCED_COVARIANCE, and of a label-free threshold read
    as a remedy, core.metrics.THRESHOLD_REMEDIES)."""
    if norm == BALANCED_COVARIANCE:
        return "EM-balanced covariance"
    if norm in THRESHOLD_REMEDIES:
        return THRESHOLD_REMEDIES[norm].label
    return NORMALIZATION_REGISTRY[norm].label if norm in NORMALIZATION_REGISTRY else norm
