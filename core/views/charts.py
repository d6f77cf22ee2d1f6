"""The charts of results: accuracy (or another metric) against p with 95% bands, several
runs compared, accuracy by layer, and a grid's panels. A DataFrame in (core.metrics.
summarize output), a Chart out.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.analysis.theory import truth_variance_ratio
from core.data.bundled import BUNDLED_DATASETS
from core.errors import UserError
from core.models import model_label
from core.normalizations import BASELINE
from core.views.palette import RUN_COLORS
from core.views.style import (
    _bottom_legend,
    chance_rules,
    end_labels,
    mean_tooltips,
    merge_coinciding,
    method_color,
    method_label,
    metric_domain,
    metric_label,
    p_axis,
)


def imbalance_chart(
    summary: pd.DataFrame,
    title: str = "Accuracy vs training-label imbalance",
    subtitle: str | list[str] | None = None,
    show_theory: bool = False,
    selectable: bool = False,
    p_levels=None,
    line_labels: bool = False,
    seeds: pd.DataFrame | None = None,
) -> alt.Chart:
    """Mean metric per method against p, a 95% band where there are several seeds, a dashed
    chance line at 0.5 and, optionally, the 4p(1 - p) truth-variance prediction; lines that
    coincide are drawn once, named together (merge_coinciding).
    `summary` is core.metrics.summarize output. With `selectable`, clicking a point
    selects its (method, p) as the selection parameter "pick". `p_levels` fixes the
    x axis to those levels (a talk reveals a sweep level by level on the full axis).
    `line_labels` names each line at its end instead of a legend (a slide). `seeds` (the
    sweep table's rows of the methods whose seeds to show: method, p, seed and the metric)
    draws each seed as a small open circle, nudged apart by seed."""
    metric = summary["metric"].iloc[0] if len(summary) else "accuracy"
    data = merge_coinciding(summary.assign(Method=summary["method"].map(method_label)))
    levels = sorted({float(p) for p in (data["p"] if p_levels is None else p_levels)})
    domain = [0.0, 1.0] if show_theory else metric_domain(metric, data[["mean", "ci_low", "ci_high"]].to_numpy())
    x_options = {
        "title": "p = fraction of training pairs whose + completion is true",
        "scale": alt.Scale(domain=[levels[0], levels[-1]]),
        "axis": p_axis(levels),
    }
    x = alt.X("p:Q", **x_options)
    y_scale = alt.Scale(domain=domain)
    drawn = list(dict.fromkeys(data["Method"]))
    color = method_color(None if line_labels else _bottom_legend(values=drawn), drawn)
    tooltip = mean_tooltips("Method:N")
    base = alt.Chart(data).encode(x=x, color=color)
    band = (
        base.transform_filter("isValid(datum.ci_low)")
        .mark_area(opacity=0.18)
        .encode(y=alt.Y("ci_low:Q", scale=y_scale, title=metric_label(metric)), y2="ci_high:Q")
    )
    y = alt.Y("mean:Q", scale=y_scale, title=metric_label(metric))
    line = base.mark_line().encode(y=y)
    points = base.mark_point(filled=True, size=60, cursor="pointer" if selectable else "default").encode(
        y=y, tooltip=tooltip
    )
    if selectable:
        pick = alt.selection_point(name="pick", fields=["method", "p"], on="click")
        points = points.add_params(pick).encode(
            size=alt.when(pick, empty=False).then(alt.value(200)).otherwise(alt.value(60))
        )
    layers = [band, line, points, *chance_rules(metric)]
    if seeds is not None and len(seeds):
        layers.insert(0, _seed_points(seeds, metric, levels, alt.X("p_drawn:Q", **x_options), y_scale, drawn))
    if line_labels:
        layers.append(end_labels(data, y_scale, domain, color))
    if show_theory:
        grid = np.linspace(levels[0], levels[-1], 50)
        theory = pd.DataFrame(
            {"p": grid, "value": truth_variance_ratio(grid), "curve": "4p(1−p): truth variance left after centering"}
        )
        layers.append(
            alt.Chart(theory)
            .mark_line(strokeDash=[2, 3], color="#444")
            .encode(
                x="p:Q",
                y=alt.Y("value:Q", scale=y_scale),
                tooltip=[alt.Tooltip("curve:N"), alt.Tooltip("value:Q", format=".3f")],
            )
        )
        layers.append(
            alt.Chart(theory.tail(1).assign(label="4p(1−p)"))
            .mark_text(align="right", dx=-6, dy=-4, color="#444")
            .encode(x="p:Q", y=alt.Y("value:Q", scale=y_scale), text="label:N")
        )
    title_params = alt.TitleParams(title, subtitle=subtitle or "", anchor="start")
    return alt.layer(*layers).properties(title=title_params, width=560, height=340)


def _seed_points(seeds: pd.DataFrame, metric: str, levels, x: alt.X, y_scale: alt.Scale, drawn) -> alt.Chart:
    """One open circle per seed and level, nudged sideways by seed so equal values stay apart."""
    width = (levels[-1] - levels[0]) * 0.004
    ranks = seeds["seed"].rank(method="dense") - 1
    data = seeds.assign(
        Method=seeds["method"].map(method_label),
        p_drawn=seeds["p"] + (ranks - ranks.max() / 2) * width,
        value=seeds[metric],
    )
    return (
        alt.Chart(data)
        .mark_point(size=70, strokeWidth=1.5, opacity=0.75)
        .encode(
            x=x,
            y=alt.Y("value:Q", scale=y_scale),
            color=method_color(None, drawn),
            tooltip=[
                alt.Tooltip("Method:N"),
                alt.Tooltip("p:Q"),
                alt.Tooltip("seed:Q"),
                alt.Tooltip("value:Q", format=".3f"),
            ],
        )
    )


def compare_chart(
    summary: pd.DataFrame, facet: str = "none", title: str = "Accuracy: mean over seeds, 95% band"
) -> alt.TopLevelMixin:
    """Several runs on one accuracy-versus-p chart: `summary` is core.metrics.summarize
    output of each run with a "run" column (its label). facet "none": color per run, line
    style per method; "method": a panel per method, color per run; "run": a panel per
    run, color per method (as on the sweep page)."""
    metric = summary["metric"].iloc[0] if len(summary) else "accuracy"
    runs = list(dict.fromkeys(summary["run"]))
    if len(runs) > len(RUN_COLORS):
        raise UserError(f"{len(runs)} runs are more than one chart can tell apart; compare at most {len(RUN_COLORS)}.")
    data = summary.assign(Method=summary["method"].map(method_label), Run=summary["run"])
    run_legend = alt.Legend(orient="bottom", columns=1, title=None, labelLimit=0, symbolOpacity=1, symbolType="circle")
    run_color = alt.Color(
        "Run:N",
        scale=alt.Scale(domain=runs, range=RUN_COLORS[: len(runs)]),
        legend=run_legend if facet != "run" else None,
        sort=runs,
    )
    color = method_color(_bottom_legend(values=list(dict.fromkeys(data["Method"])))) if facet == "run" else run_color
    y_scale = alt.Scale(domain=metric_domain(metric, data[["mean", "ci_low", "ci_high"]].to_numpy()))
    label = metric_label(metric)
    x_title = "p = fraction of training pairs whose + completion is true" if facet == "none" else "training p"
    x = alt.X(
        "p:Q",
        title=x_title,
        axis=p_axis(data["p"]),
        scale=alt.Scale(domain=[float(data["p"].min()), float(data["p"].max())]),
    )
    detail = "Method:N" if facet != "method" else "Run:N"
    encodings = {"x": x, "color": color, "detail": detail}
    if facet == "none":
        encodings["strokeDash"] = alt.StrokeDash("Method:N", legend=_bottom_legend(3))
    base = alt.Chart().encode(**encodings)
    tooltip = mean_tooltips("Run:N", "Method:N")
    band = (
        base.transform_filter("isValid(datum.ci_low)")
        .mark_area(opacity=0.15)
        .encode(y=alt.Y("ci_low:Q", scale=y_scale, title=label), y2="ci_high:Q")
    )
    line = base.mark_line().encode(y=alt.Y("mean:Q", scale=y_scale, title=label))
    points = base.mark_point(filled=True, size=60).encode(y=alt.Y("mean:Q", scale=y_scale), tooltip=tooltip)
    layered = alt.layer(band, line, points, *chance_rules(metric, inherit_data=True), data=data)
    title_params = alt.TitleParams(title, anchor="start")
    if facet == "none":
        return layered.properties(title=title_params, width=560, height=340)
    column = "Method:N" if facet == "method" else "Run:N"
    panels = data[column[:-2]].nunique()
    return (
        layered.properties(width=max(240, 920 // panels), height=340)
        .facet(
            column=alt.Column(
                column,
                title=None,
                sort=list(dict.fromkeys(data[column[:-2]])),
                header=alt.Header(labelFontSize=22, labelFontWeight="bold"),
            )
        )
        .properties(title=title_params)
    )


def layer_chart(summary: pd.DataFrame) -> alt.Chart:
    """Mean metric per layer, one line per method, solid at p = 0.5 and dashed at the
    imbalanced level, with 95% bands. `summary` is summarize(..., by=(method, p, layer))."""
    metric = summary["metric"].iloc[0]
    data = summary.assign(Method=summary["method"].map(method_label), level=summary["p"].map(lambda p: f"p = {p:g}"))
    layers = sorted({int(layer) for layer in data["layer"]})
    base = alt.Chart(data).encode(
        x=alt.X(
            "layer:Q",
            title="layer (hidden-state index)",
            axis=alt.Axis(values=layers, format="d"),
            scale=alt.Scale(domain=[layers[0], layers[-1]]),
        ),
        color=method_color(_bottom_legend(values=list(dict.fromkeys(data["Method"])))),
    )
    y_scale = alt.Scale(domain=metric_domain(metric, data["mean"], floor=0.3), clamp=True)
    band = (
        base.transform_filter("isValid(datum.ci_low)")
        .mark_area(opacity=0.12, clip=True)
        .encode(y=alt.Y("ci_low:Q", scale=y_scale), y2="ci_high:Q", detail="level:N")
    )
    tooltip = ["Method:N", "level:N", "layer:Q", alt.Tooltip("mean:Q", format=".3f"), "n_seeds:Q"]
    line = base.mark_line().encode(
        y=alt.Y("mean:Q", title=metric_label(metric), scale=y_scale),
        strokeDash=alt.StrokeDash(
            "level:N",
            legend=alt.Legend(
                orient="bottom", title=None, symbolType="stroke", symbolStrokeColor="#444", symbolStrokeWidth=2
            ),
        ),
        tooltip=tooltip,
    )
    # Points as a layer of their own: a line drawn with point=True hides its dash in the legend.
    points = base.mark_circle(size=36, opacity=1).encode(
        y=alt.Y("mean:Q", scale=y_scale), detail="level:N", tooltip=tooltip
    )
    return alt.layer(band, line, points, *chance_rules(metric)).properties(
        title=f"{metric_label(metric)} by layer", height=360
    )


def drop_chart(drops: pd.DataFrame, title: str) -> alt.TopLevelMixin:
    """A grid at a glance: each method's drop from the reference p to the highest
    (core.analysis.grids.drops), a panel per data set, a row per method in its colour, a mark
    per model and depth (its shape) with its 95% interval, hollow where the method is at
    chance at balance (its drop then means nothing), and the line of no drop. Under Burns
    centering when the grid ran it (the remedies are in its summary table)."""
    data = drops[drops.normalization == BASELINE] if (drops.normalization == BASELINE).any() else drops
    depth = data["depth"].fillna("").astype(str) if "depth" in data else pd.Series("", index=data.index)
    where = "layer " + data["layer"].astype(str) + depth.where(depth == "", " (" + depth + ")")
    data = data.assign(
        Method=data["method"].map(method_label),
        Data=data["dataset"].map(lambda name: BUNDLED_DATASETS[name].label if name in BUNDLED_DATASETS else name),
        Cell=data["model"].astype(str).map(model_label) + " · " + where,
        found=np.where(data["at_chance"], "at chance at balance", "finds it at balance"),
    )
    methods = list(dict.fromkeys(data["Method"]))
    cells = list(dict.fromkeys(data["Cell"]))
    metric, low, high = data["metric"].iloc[0], data["p_low"].iloc[0], data["p_high"].iloc[0]
    y = alt.Y("Method:N", sort=methods, title=None, axis=alt.Axis(labelLimit=240))
    offset = alt.YOffset("Cell:N", sort=cells)
    color = method_color(None, methods)
    shape = alt.Shape("Cell:N", sort=cells, legend=_bottom_legend(2), title=None)
    tooltip = [
        alt.Tooltip("Data:N"),
        alt.Tooltip("Cell:N", title="model and depth"),
        alt.Tooltip("Method:N"),
        alt.Tooltip("lost:Q", format=".3f"),
        alt.Tooltip("ci_low:Q", format=".3f", title="95% CI low"),
        alt.Tooltip("ci_high:Q", format=".3f", title="95% CI high"),
        alt.Tooltip("found:N", title="at p = 0.5"),
    ]
    base = alt.Chart().encode(y=y, yOffset=offset, color=color)
    interval = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low:Q"), x2="ci_high:Q")
    found = base.transform_filter("!datum.at_chance").mark_point(filled=True, size=70, opacity=1)
    chance = base.transform_filter("datum.at_chance").mark_point(filled=False, size=70, strokeWidth=1.5)
    x = alt.X("lost:Q", title=f"{metric_label(metric)} lost from p = {low:g} to {high:g} (95% interval)")
    marks = [mark.encode(x=x, shape=shape, tooltip=tooltip) for mark in (found, chance)]
    zero = alt.Chart().mark_rule(color="#888", strokeDash=[4, 4]).encode(x=alt.datum(0))
    return (
        alt.layer(zero, interval, *marks, data=data)
        .properties(width=200, height=34 * len(methods))
        .facet(
            column=alt.Column(
                "Data:N", title=None, sort=list(dict.fromkeys(data["Data"])), header=alt.Header(labelFontWeight="bold")
            )
        )
        .properties(
            title=alt.TitleParams(
                title,
                subtitle="hollow: the method is at chance at balance there, so its drop means nothing",
                anchor="start",
            )
        )
    )


# How compare_chart can split runs into panels: none, a panel per method, a panel per run.
COMPARE_FACETS = ("none", "method", "run")
