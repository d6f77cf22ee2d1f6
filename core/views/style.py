"""The look every chart shares: display labels from the registries, colours (the lab's one
rule, core.views.palette), the p axis, chance lines, legends and line-end labels, and the
presenting theme that makes a chart fill a slide and read from the back of a room.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.analysis.grids import BALANCED_COVARIANCE
from core.metrics import METRICS, THRESHOLD_REMEDIES
from core.normalizations import NORMALIZATION_REGISTRY
from core.probes import METHOD_REGISTRY
from core.views.palette import METHOD_COLORS

SAME = " = "  # joins the labels of lines drawn once because they coincide (merge_coinciding)
# The presenting theme, for a 1600 x 1000 slide: type in px, lines in px, and the size of a
# chart's plotting area where it cannot fill its container (exports, composite charts).
SLIDE_TYPE = {"tick": 22, "axis_title": 24, "title": 30, "subtitle": 22, "legend": 22, "header": 24}
SLIDE_LINE = 4
SLIDE_WIDTH, SLIDE_HEIGHT = 1360, 470


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


def label_color(label: str) -> str:
    """The colour of a method's display label (core.views.palette); lines drawn once for
    several methods (merge_coinciding) take the first one's."""
    first = label.split(SAME)[0]
    by_label = {m.label: METHOD_COLORS[m.id] for m in METHOD_REGISTRY.values()}
    return by_label.get(first, "#333333")


def method_color(legend: alt.Legend | None = None, labels=()) -> alt.Color:
    """The colour encoding of the "Method" column: the same colour for a method in every
    chart; `labels` adds the joined labels of coinciding lines the chart draws."""
    domain = list(dict.fromkeys([*(m.label for m in METHOD_REGISTRY.values()), *labels]))
    return alt.Color("Method:N", legend=legend, scale=alt.Scale(domain=domain, range=[label_color(d) for d in domain]))


def merge_coinciding(data: pd.DataFrame, key: str = "Method", value: str = "mean") -> pd.DataFrame:
    """`data` with lines that coincide at every p (the same `value`, to 1e-9) drawn once,
    labelled with each of their names joined by " = " (the two logistic regressions' AUROC
    under a shift-only normalization are one fit with a moved intercept)."""
    series = {name: group.sort_values("p")[["p", value]].to_numpy() for name, group in data.groupby(key, sort=False)}
    names, label, drawn = list(series), {}, []
    for i, name in enumerate(names):
        if name in label:
            continue
        same = [
            other
            for other in names[i + 1 :]
            if other not in label
            and series[other].shape == series[name].shape
            and np.allclose(series[other], series[name], atol=1e-9, rtol=0, equal_nan=True)
        ]
        drawn.append(name)
        label.update(dict.fromkeys([name, *same], SAME.join([name, *same])))
    kept = data[data[key].isin(drawn)]
    return kept.assign(**{key: kept[key].map(label)})


def spread(values, gap: float, low: float, high: float) -> np.ndarray:
    """Positions for labels wanted at `values`, moved apart so that no two are closer than
    `gap` and all lie in [low, high] where there is room: a pass down from the highest, then
    one up from the lowest for those pushed below `low`."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(-values, kind="stable")
    placed = np.empty_like(values)
    ceiling = high
    for index in order:
        placed[index] = min(values[index], ceiling)
        ceiling = placed[index] - gap
    floor = low
    for index in order[::-1]:
        placed[index] = max(placed[index], floor)
        floor = placed[index] + gap
    return placed


def end_labels(data: pd.DataFrame, y_scale: alt.Scale, domain: list[float], color: alt.Color) -> alt.Chart:
    """Each method's name at the right end of its line, nudged apart so none overlap: a
    legend a room reads without looking away from the lines."""
    last = data.sort_values("p").groupby("Method", sort=False).tail(1)
    gap = (domain[1] - domain[0]) * 0.075
    last = last.assign(label_y=spread(last["mean"], gap, domain[0] + gap / 2, domain[1]))
    return (
        alt.Chart(last)
        .mark_text(align="left", dx=14, fontWeight="bold")
        .encode(x="p:Q", y=alt.Y("label_y:Q", scale=y_scale), text="Method:N", color=color)
    )


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


def slide_style(chart: alt.TopLevelMixin, fill: bool = False) -> alt.TopLevelMixin:
    """`chart` in the presenting theme (SLIDE_TYPE, SLIDE_LINE): with `fill`, a single or
    layered chart fills the height and width of its container (story mode and the HTML talk
    give it the slide's free space); otherwise, and for composite charts, panels are sized to
    fill a 1600 x 1000 slide (SLIDE_WIDTH x SLIDE_HEIGHT between them)."""
    chart = _slide_size(chart, fill)
    return (
        chart.configure_axis(labelFontSize=SLIDE_TYPE["tick"], titleFontSize=SLIDE_TYPE["axis_title"])
        .configure_legend(
            labelFontSize=SLIDE_TYPE["legend"], titleFontSize=SLIDE_TYPE["legend"], symbolSize=260, labelLimit=640
        )
        .configure_title(fontSize=SLIDE_TYPE["title"], subtitleFontSize=SLIDE_TYPE["subtitle"])
        .configure_header(labelFontSize=SLIDE_TYPE["header"], titleFontSize=SLIDE_TYPE["header"])
        .configure_line(strokeWidth=SLIDE_LINE)
        .configure_rule(strokeWidth=2)
        .configure_text(fontSize=SLIDE_TYPE["legend"])
    )


def fills_container(chart: alt.TopLevelMixin) -> bool:
    """Whether slide_style(chart, fill=True) sizes `chart` by its container (a single or
    layered chart; Vega-Lite sizes composite charts by their panels)."""
    return isinstance(chart, (alt.Chart, alt.LayerChart))


def _facet_shape(chart: alt.FacetChart) -> tuple[int, int]:
    """(columns, rows) of panels a faceted chart draws from its own data."""
    data = chart.data if isinstance(chart.data, pd.DataFrame) else pd.DataFrame()

    def count(channel) -> int:
        if channel is alt.Undefined or channel is None:
            return 1
        name = alt.utils.parse_shorthand(channel.shorthand if channel.shorthand is not alt.Undefined else channel.field)
        return max(1, data[name["field"]].nunique()) if name.get("field") in data else 1

    facet = chart.facet
    if isinstance(facet, alt.FacetMapping):
        return count(facet.column), count(facet.row)
    return count(facet), 1


def _slide_size(chart: alt.TopLevelMixin, fill: bool) -> alt.TopLevelMixin:
    if fills_container(chart):
        size = ("container", "container") if fill else (SLIDE_WIDTH, SLIDE_HEIGHT)
        return chart.properties(width=size[0], height=size[1])
    chart = chart.copy(deep=False)
    if isinstance(chart, alt.FacetChart):
        columns, rows = _facet_shape(chart)
        if not isinstance(chart.facet, alt.FacetMapping):
            chart.columns = columns  # a wrapped facet in one row
        chart.spec = chart.spec.properties(width=SLIDE_WIDTH // columns - 60, height=SLIDE_HEIGHT // rows - 40)
    elif isinstance(chart, alt.HConcatChart):
        panels = len(chart.hconcat)
        chart.hconcat = [
            panel.properties(width=SLIDE_WIDTH // panels - 90, height=SLIDE_HEIGHT) for panel in chart.hconcat
        ]
    return chart


def normalization_label(norm: str) -> str:
    """Display name of a normalization id (and of the comparison of a remedy method with its
    plain form, core.analysis.grids.BALANCED_COVARIANCE, and of a label-free threshold read
    as a remedy, core.metrics.THRESHOLD_REMEDIES)."""
    if norm == BALANCED_COVARIANCE:
        return "EM-balanced covariance"
    if norm in THRESHOLD_REMEDIES:
        return THRESHOLD_REMEDIES[norm].label
    return NORMALIZATION_REGISTRY[norm].label if norm in NORMALIZATION_REGISTRY else norm
