"""Altair chart builders: a DataFrame in, a Chart out. Used by the dashboard and by the CLI
export (PNG or SVG through vl-convert, or a self-contained HTML file), so a figure looks
the same wherever it was made."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from core.errors import UserError
from core.probes import METHOD_INFO
from core.theory import truth_variance_ratio

METRIC_LABELS = {"accuracy": "Accuracy", "auroc": "AUROC"}


def method_label(method: str) -> str:
    """Display name of a method id."""
    return METHOD_INFO[method].label if method in METHOD_INFO else method


def imbalance_chart(summary: pd.DataFrame, title: str = "Accuracy vs training-label imbalance",
                    subtitle: str | list[str] | None = None, show_theory: bool = False) -> alt.Chart:
    """Mean metric per method against p, a 95% band where there are several seeds, a dashed
    chance line at 0.5 and, optionally, the 4p(1 - p) truth-variance prediction.
    `summary` is core.metrics.summarize output."""
    metric = summary["metric"].iloc[0] if len(summary) else "accuracy"
    data = summary.assign(Method=summary["method"].map(method_label))
    order = [method_label(m) for m in METHOD_INFO if m in set(summary["method"])]
    low = 0.0 if show_theory else min(0.4, float(np.nanmin(data[["mean", "ci_low"]].to_numpy(dtype=float))) - 0.02)
    x = alt.X("p:Q", title="p = fraction of training pairs whose + completion is true",
              scale=alt.Scale(domain=[float(data["p"].min()), float(data["p"].max())]))
    y_scale = alt.Scale(domain=[low, 1.0])
    color = alt.Color("Method:N", sort=order, legend=alt.Legend(orient="bottom", columns=3, title=None))
    tooltip = [alt.Tooltip("Method:N"), alt.Tooltip("p:Q", format=".2f"), alt.Tooltip("mean:Q", format=".3f"),
               alt.Tooltip("ci_low:Q", format=".3f", title="95% CI low"),
               alt.Tooltip("ci_high:Q", format=".3f", title="95% CI high"), alt.Tooltip("n_seeds:Q")]
    base = alt.Chart(data).encode(x=x, color=color)
    band = base.transform_filter("isValid(datum.ci_low)").mark_area(opacity=0.18).encode(
        y=alt.Y("ci_low:Q", scale=y_scale, title=METRIC_LABELS.get(metric, metric)), y2="ci_high:Q",
        color=alt.Color("Method:N", sort=order, legend=None))
    line = base.mark_line(point=alt.OverlayMarkDef(size=45)).encode(
        y=alt.Y("mean:Q", scale=y_scale, title=METRIC_LABELS.get(metric, metric)), tooltip=tooltip)
    chance = alt.Chart(pd.DataFrame({"y": [0.5], "label": ["chance"]})).mark_rule(
        strokeDash=[4, 4], color="#888").encode(y="y:Q")
    layers = [band, line, chance]
    if show_theory:
        grid = np.linspace(float(data["p"].min()), float(data["p"].max()), 50)
        theory = pd.DataFrame({"p": grid, "value": truth_variance_ratio(grid),
                               "curve": "4p(1−p): truth variance left after centering"})
        layers.append(alt.Chart(theory).mark_line(strokeDash=[2, 3], color="#444").encode(
            x="p:Q", y=alt.Y("value:Q", scale=y_scale), tooltip=[alt.Tooltip("curve:N"),
                                                                alt.Tooltip("value:Q", format=".3f")]))
    title_params = alt.TitleParams(title, subtitle=subtitle or "", anchor="start")
    return alt.layer(*layers).properties(title=title_params, width=560, height=340)


def save_chart(chart: alt.Chart, path: str | Path) -> Path:
    """Write a chart to .png, .svg or .html (self-contained, works offline)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        chart.save(str(path), scale_factor=2)
    elif suffix == ".svg":
        chart.save(str(path))
    elif suffix == ".html":
        chart.save(str(path), inline=True)
    else:
        raise UserError(f"Unsupported chart format '{suffix}' (use .png, .svg or .html)")
    return path
