"""The remedies' charts: one method under Burns centering and each remedy, and every
method's drop split into a moved threshold and a lost direction.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from core.metrics import THRESHOLD_REMEDIES
from core.normalizations import NORMALIZATION_REGISTRY
from core.views.palette import PART_COLORS, REMEDY_LINE_COLORS
from core.views.style import (
    _bottom_legend,
    chance_rules,
    mean_tooltips,
    method_color,
    method_label,
    metric_domain,
    metric_label,
    normalization_label,
    p_axis,
)


def remedy_chart(summary: pd.DataFrame, title: str) -> alt.TopLevelMixin:
    """One method's metrics against p under each normalization: a panel per metric
    (core.analysis.remedies.remedy_summary output), a line per normalization in its registry
    color, the oracle dashed, 95% bands."""
    data = summary.assign(
        Normalization=summary["normalization"].map(normalization_label), Metric=summary["metric"].map(metric_label)
    )
    lines = [(n.label, REMEDY_LINE_COLORS[n.label], n.uses_labels) for n in NORMALIZATION_REGISTRY.values()]
    lines += [(t.label, REMEDY_LINE_COLORS[t.label], False) for t in THRESHOLD_REMEDIES.values()]
    shown = list(dict.fromkeys(data["Normalization"]))
    color = alt.Color(
        "Normalization:N",
        sort=shown,
        legend=_bottom_legend(2, values=shown),
        scale=alt.Scale(domain=[label for label, _, _ in lines], range=[color for _, color, _ in lines]),
    )
    dash = alt.StrokeDash(
        "Normalization:N",
        legend=None,
        scale=alt.Scale(
            domain=[label for label, _, _ in lines], range=[[6, 4] if labels else [1, 0] for _, _, labels in lines]
        ),
    )
    y_scale = alt.Scale(domain=metric_domain("accuracy", data[["mean", "ci_low", "ci_high"]].to_numpy()))
    x = alt.X(
        "p:Q",
        title="training p",
        axis=p_axis(data["p"]),
        scale=alt.Scale(domain=[float(data["p"].min()), float(data["p"].max())]),
    )
    tooltip = mean_tooltips("Normalization:N", "Metric:N")
    base = alt.Chart().encode(x=x, color=color)
    band = (
        base.transform_filter("isValid(datum.ci_low)")
        .mark_area(opacity=0.12)
        .encode(y=alt.Y("ci_low:Q", scale=y_scale, title=None), y2="ci_high:Q")
    )
    line = base.mark_line().encode(y=alt.Y("mean:Q", scale=y_scale, title=None), strokeDash=dash)
    points = base.mark_point(filled=True, size=50).encode(y=alt.Y("mean:Q", scale=y_scale), tooltip=tooltip)
    layered = alt.layer(band, line, points, *chance_rules("accuracy", inherit_data=True), data=data)
    return (
        layered.properties(width=440, height=320)
        .facet(
            column=alt.Column(
                "Metric:N",
                title=None,
                sort=list(dict.fromkeys(data["Metric"])),
                header=alt.Header(labelFontSize=18, labelFontWeight="bold"),
            )
        )
        .properties(title=alt.TitleParams(title, anchor="start"))
    )


def decomposition_chart(parts: pd.DataFrame, title: str = "What each drop is made of") -> alt.TopLevelMixin:
    """Each method's accuracy drop since balance, per level of p, as stacked bars: the part
    a median threshold wins back (moved threshold) and the part calibrated accuracy
    itself lost (lost direction); core.analysis.remedies.decomposition output. The AUROC drop is
    a tick for comparison."""
    long = parts.melt(
        id_vars=["method", "p", "drop", "auroc_drop"],
        value_vars=["threshold", "direction"],
        var_name="part",
        value_name="points",
    )
    long = long.assign(
        Part=long["part"].map({"threshold": "moved threshold", "direction": "lost direction"}),
        Method=long["method"].map(method_label),
        P=long["p"].map(lambda p: f"{p:g}"),
    )
    color = alt.Color(
        "Part:N",
        title=None,
        legend=_bottom_legend(2),
        scale=alt.Scale(domain=list(PART_COLORS), range=list(PART_COLORS.values())),
    )
    tooltip = [
        alt.Tooltip("Method:N"),
        alt.Tooltip("P:N", title="p"),
        alt.Tooltip("Part:N"),
        alt.Tooltip("points:Q", format=".3f", title="accuracy lost"),
        alt.Tooltip("drop:Q", format=".3f", title="total drop"),
        alt.Tooltip("auroc_drop:Q", format=".3f", title="AUROC drop"),
    ]
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=alt.X("P:N", title="training p"),
            y=alt.Y("sum(points):Q", title="accuracy lost since p = 0.5"),
            color=color,
            order=alt.Order("part:N", sort="descending"),
            tooltip=tooltip,
        )
    )
    auroc = (
        alt.Chart()
        .mark_tick(color="#000", thickness=3, size=24)
        .encode(
            x="P:N",
            y="mean(auroc_drop):Q",
            tooltip=[alt.Tooltip("mean(auroc_drop):Q", format=".3f", title="AUROC drop")],
        )
    )
    methods = list(dict.fromkeys(long["Method"]))
    return (
        alt.layer(bars, auroc, data=long)
        .properties(width=170, height=220)
        .facet(facet=alt.Facet("Method:N", title=None, sort=methods, header=alt.Header(labelFontSize=14)), columns=4)
        .resolve_axis(x="independent")  # each panel its own p axis: a wrapped row's empty slots draw none
        .properties(title=alt.TitleParams(title, subtitle="black tick: the AUROC drop", anchor="start"))
    )


USE_TITLES = {"prior": "p from the labels, prior-given centering", "threshold": "threshold and sign from the labels"}


def budget_chart(shares: pd.DataFrame, title: str = "Labelled pairs that undo the imbalance") -> alt.TopLevelMixin:
    """The label budget (core.analysis.label_budget.budget_shares): the share of each method's
    accuracy drop won back against the number k of labelled pairs, a panel per use, a line
    per method in its colour with its 95% interval, a rule at half. Methods that lost nothing
    are left out."""
    data = shares[shares.share.notna()].assign(
        Method=lambda d: d.method.map(method_label),
        Use=lambda d: d.use.map(USE_TITLES),
    )
    labels = list(dict.fromkeys(data.Method))
    color = method_color(_bottom_legend(3, values=labels), labels)
    x = alt.X("k:Q", title="labelled pairs k", scale=alt.Scale(domain=[0, float(data.k.max()) if len(data) else 1]))
    y = alt.Y("share:Q", title="share of the drop won back", axis=alt.Axis(format="%"))
    tooltip = [
        alt.Tooltip("Method:N"),
        alt.Tooltip("k:Q", title="labelled pairs"),
        alt.Tooltip("share:Q", format=".0%", title="won back"),
        alt.Tooltip("share_low:Q", format=".0%", title="95% CI low"),
        alt.Tooltip("share_high:Q", format=".0%", title="95% CI high"),
    ]
    base = alt.Chart().encode(x=x, color=color)
    band = base.mark_area(opacity=0.12).encode(y=alt.Y("share_low:Q", title=None), y2="share_high:Q")
    line = base.mark_line().encode(y=y)
    points = base.mark_point(filled=True, size=50).encode(y=y, tooltip=tooltip)
    half = alt.Chart().mark_rule(strokeDash=[4, 4], color="#777777").encode(y=alt.datum(0.5))
    return (
        alt.layer(band, line, points, half, data=data)
        .properties(width=440, height=300)
        .facet(column=alt.Column("Use:N", title=None, header=alt.Header(labelFontSize=16, labelFontWeight="bold")))
        .properties(title=alt.TitleParams(title, anchor="start"))
    )
