"""The mechanism's charts, measured beside the two-point model's prediction: where centered
pairs sit along the truth direction, the truth variance left, and how stable each probe's
direction is as p grows.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.analysis.theory import truth_variance_ratio
from core.views.palette import CURVE_COLORS, TRUTH_COLORS
from core.views.style import _bottom_legend, method_color, method_label, p_axis


def centering_chart(table: pd.DataFrame) -> alt.Chart:
    """Where per-side centering puts true and false pairs along the truth direction, per p:
    measured (points, mean over seeds) against the prediction (1 - p) Delta and -p Delta (lines)."""
    grouped = table.groupby("p").mean(numeric_only=True).reset_index()
    rows = []
    for name, column in (("+ is true", "true_position"), ("+ is false", "false_position")):
        rows += [
            {"p": r.p, "group": name, "measured": getattr(r, column), "predicted": getattr(r, f"{column}_predicted")}
            for r in grouped.itertuples()
        ]
    data = pd.DataFrame(rows)
    color = alt.Color(
        "group:N",
        scale=alt.Scale(domain=list(TRUTH_COLORS), range=list(TRUTH_COLORS.values())),
        legend=alt.Legend(orient="bottom", title=None),
    )
    predicted = alt.Chart(data).mark_line(strokeDash=[5, 3]).encode(x="p:Q", y="predicted:Q", color=color)
    measured = (
        alt.Chart(data)
        .mark_point(filled=True, size=70)
        .encode(
            x=alt.X("p:Q", title="training p", axis=p_axis(data["p"])),
            y=alt.Y("measured:Q", title="position along the truth direction"),
            color=color,
            tooltip=["group:N", alt.Tooltip("measured:Q", format=".2f"), alt.Tooltip("predicted:Q", format=".2f")],
        )
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#888").encode(y="y:Q")
    return alt.layer(predicted, measured, zero).properties(height=280)


def variance_chart(table: pd.DataFrame) -> alt.Chart:
    """Variance along the truth direction after centering, relative to p = 0.5: measured,
    predicted (truth part shrinking by 4p(1 - p) plus unchanged within-class spread), and
    the 4p(1 - p) truth part alone."""
    grouped = table.groupby("p").mean(numeric_only=True).reset_index()
    balanced = (
        float(grouped.loc[np.isclose(grouped.p, 0.5), "variance_predicted"].iloc[0])
        if np.isclose(grouped.p, 0.5).any()
        else float(grouped.variance_predicted.max())
    )
    data = pd.concat(
        [
            pd.DataFrame({"p": grouped.p, "ratio": grouped.variance_ratio, "curve": "measured"}),
            pd.DataFrame(
                {
                    "p": grouped.p,
                    "ratio": grouped.variance_predicted / balanced,
                    "curve": "predicted: truth part + class spread",
                }
            ),
            pd.DataFrame(
                {"p": grouped.p, "ratio": truth_variance_ratio(grouped.p), "curve": "4p(1−p): truth part alone"}
            ),
        ]
    )
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("p:Q", title="training p", axis=p_axis(data["p"])),
            y=alt.Y("ratio:Q", title="variance / variance at p = 0.5", scale=alt.Scale(domain=[0, 1.05])),
            color=alt.Color(
                "curve:N",
                legend=_bottom_legend(1),
                scale=alt.Scale(
                    domain=["measured", "predicted: truth part + class spread", "4p(1−p): truth part alone"],
                    range=list(CURVE_COLORS),
                ),
            ),
            order=alt.Order("curve:N", sort="descending"),
            strokeDash=alt.StrokeDash("curve:N", legend=None),
            tooltip=["curve:N", alt.Tooltip("ratio:Q", format=".3f")],
        )
        .properties(height=280)
    )


def stability_chart(stability: pd.DataFrame, seed_agreement: pd.DataFrame | None = None) -> alt.Chart:
    """Mean |cos(direction at p, direction at p = 0.5)| per method against p; dotted
    lines: how much two seeds agree at p = 0.5 (what resampling alone does)."""
    data = stability.groupby(["method", "p"]).stability.mean().reset_index()
    data["Method"] = data["method"].map(method_label)
    lines = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("p:Q", title="training p", axis=p_axis(data["p"])),
            y=alt.Y("stability:Q", title="|cos(direction at p, at p = 0.5)|", scale=alt.Scale(domain=[0, 1.02])),
            color=method_color(_bottom_legend()),
            tooltip=["Method:N", "p:Q", alt.Tooltip("stability:Q", format=".3f")],
        )
    )
    if seed_agreement is None or seed_agreement.empty:
        return lines.properties(height=280)
    floor = seed_agreement.assign(Method=seed_agreement["method"].map(method_label))
    rules = (
        alt.Chart(floor)
        .mark_rule(strokeDash=[2, 3], strokeWidth=1.5)
        .encode(
            y="agreement:Q",
            color=method_color(None),
            tooltip=["Method:N", alt.Tooltip("agreement:Q", format=".3f", title="seeds agree at p = 0.5")],
        )
    )
    return alt.layer(lines, rules).properties(height=280)
