"""The inspector's charts: where test pairs sit along a probe's direction, and one pair's
verdict as the training p changes.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.views.palette import OUTCOME_COLORS, TRUTH_COLORS
from core.views.style import p_axis


def example_scatter(scatter: pd.DataFrame, example: int | None = None) -> alt.Chart:
    """Test pairs along the probe direction (x) and the top principal component of the
    normalized differences (y), colored by truth; `example` is ringed."""
    data = scatter.assign(truth=np.where(scatter["label"] == 1, "+ is true", "+ is false"))
    base = (
        alt.Chart(data)
        .mark_circle(size=28, opacity=0.55)
        .encode(
            x=alt.X("probe_projection:Q", title="along the probe direction (oriented)"),
            y=alt.Y("top_pc_projection:Q", title="along the top PC of normalized differences"),
            color=alt.Color(
                "truth:N",
                scale=alt.Scale(domain=list(TRUTH_COLORS), range=list(TRUTH_COLORS.values())),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=["index:Q", "truth:N", alt.Tooltip("probe_projection:Q", format=".2f")],
        )
    )
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4], color="#888").encode(x="x:Q")
    layers = [base, zero]
    if example is not None:
        layers.append(
            alt.Chart(data[data["index"] == example])
            .mark_point(size=260, shape="circle", filled=False, color="black", strokeWidth=2.5)
            .encode(x="probe_projection:Q", y="top_pc_projection:Q")
        )
    return alt.layer(*layers).properties(height=300)


def trajectory_chart(trajectory: pd.DataFrame) -> alt.Chart:
    """One example's confidence that + is true, as the training p changes."""
    data = trajectory.assign(outcome=np.where(trajectory["correct"], "correct", "wrong"))
    line = (
        alt.Chart(data)
        .mark_line(color="#555")
        .encode(
            x=alt.X("p:Q", title="training p", axis=p_axis(data["p"])),
            y=alt.Y("confidence:Q", title="confidence that + is true", scale=alt.Scale(domain=[0, 1])),
        )
    )
    points = (
        alt.Chart(data)
        .mark_point(filled=True, size=90)
        .encode(
            x="p:Q",
            y="confidence:Q",
            color=alt.Color(
                "outcome:N",
                scale=alt.Scale(domain=list(OUTCOME_COLORS), range=list(OUTCOME_COLORS.values())),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=[alt.Tooltip("p:Q"), alt.Tooltip("confidence:Q", format=".3f"), "outcome:N"],
        )
    )
    half = alt.Chart(pd.DataFrame({"y": [0.5]})).mark_rule(strokeDash=[4, 4], color="#888").encode(y="y:Q")
    return alt.layer(line, points, half).properties(height=300)
