"""Altair chart builders: a DataFrame in, a Chart out. Used by the dashboard and by the CLI
export (PNG or SVG through vl-convert, or a self-contained HTML file), so a figure looks
the same wherever it was made."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from core.errors import UserError
from core.metrics import METRICS
from core.normalizations import NORMALIZATION_REGISTRY
from core.probes import METHOD_REGISTRY
from core.theory import truth_variance_ratio

# Runs side by side (compare charts): Okabe & Ito's colorblind-safe palette, as the
# methods' colors (core.probes), starting with the colors that
# differ most from each other.
RUN_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
TRUTH_COLORS = {"+ is true": "#009E73", "+ is false": "#CC79A7"}
OUTCOME_COLORS = {"correct": "#009E73", "wrong": "#D55E00"}
SLIDE_EXPORT_PX = 1920


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
    scale = alt.Scale(domain=[m.label for m in METHOD_REGISTRY.values()],
                      range=[m.color for m in METHOD_REGISTRY.values()])
    return alt.Color("Method:N", legend=legend, scale=scale)


def _bottom_legend(columns: int = 3, values: list[str] | None = None) -> alt.Legend:
    """A legend under the chart; `values` lists only the methods drawn (the color scale
    keeps every method's color, so a method looks the same in every chart)."""
    return alt.Legend(orient="bottom", columns=columns, title=None, labelLimit=320, symbolOpacity=1,
                      symbolType="circle", **({"values": values} if values is not None else {}))


def p_axis(levels) -> alt.Axis:
    """An axis with a tick at each level of p that was run, not at round numbers between them."""
    return alt.Axis(values=sorted({float(p) for p in levels}), format="g")


def imbalance_chart(summary: pd.DataFrame, title: str = "Accuracy vs training-label imbalance",
                    subtitle: str | list[str] | None = None, show_theory: bool = False,
                    selectable: bool = False, p_levels=None) -> alt.Chart:
    """Mean metric per method against p, a 95% band where there are several seeds, a dashed
    chance line at 0.5 and, optionally, the 4p(1 - p) truth-variance prediction.
    `summary` is core.metrics.summarize output. With `selectable`, clicking a point
    selects its (method, p) as the selection parameter "pick". `p_levels` fixes the
    x axis to those levels (a talk reveals a sweep level by level on the full axis)."""
    metric = summary["metric"].iloc[0] if len(summary) else "accuracy"
    data = summary.assign(Method=summary["method"].map(method_label))
    levels = sorted({float(p) for p in (data["p"] if p_levels is None else p_levels)})
    domain = [0.0, 1.0] if show_theory else metric_domain(metric, data[["mean", "ci_low", "ci_high"]].to_numpy())
    x = alt.X("p:Q", title="p = fraction of training pairs whose + completion is true",
              scale=alt.Scale(domain=[levels[0], levels[-1]]), axis=p_axis(levels))
    y_scale = alt.Scale(domain=domain)
    color = method_color(_bottom_legend(values=list(dict.fromkeys(data["Method"]))))
    tooltip = [alt.Tooltip("Method:N"), alt.Tooltip("p:Q", format=".2f"), alt.Tooltip("mean:Q", format=".3f"),
               alt.Tooltip("ci_low:Q", format=".3f", title="95% CI low"),
               alt.Tooltip("ci_high:Q", format=".3f", title="95% CI high"), alt.Tooltip("n_seeds:Q")]
    base = alt.Chart(data).encode(x=x, color=color)
    band = base.transform_filter("isValid(datum.ci_low)").mark_area(opacity=0.18).encode(
        y=alt.Y("ci_low:Q", scale=y_scale, title=metric_label(metric)), y2="ci_high:Q")
    y = alt.Y("mean:Q", scale=y_scale, title=metric_label(metric))
    line = base.mark_line().encode(y=y)
    points = base.mark_point(filled=True, size=60, cursor="pointer" if selectable else "default").encode(
        y=y, tooltip=tooltip)
    if selectable:
        pick = alt.selection_point(name="pick", fields=["method", "p"], on="click")
        points = points.add_params(pick).encode(
            size=alt.when(pick, empty=False).then(alt.value(200)).otherwise(alt.value(60)))
    layers = [band, line, points, *chance_rules(metric)]
    if show_theory:
        grid = np.linspace(levels[0], levels[-1], 50)
        theory = pd.DataFrame({"p": grid, "value": truth_variance_ratio(grid),
                               "curve": "4p(1−p): truth variance left after centering"})
        layers.append(alt.Chart(theory).mark_line(strokeDash=[2, 3], color="#444").encode(
            x="p:Q", y=alt.Y("value:Q", scale=y_scale), tooltip=[alt.Tooltip("curve:N"),
                                                                alt.Tooltip("value:Q", format=".3f")]))
        layers.append(alt.Chart(theory.tail(1).assign(label="4p(1−p)")).mark_text(
            align="right", dx=-6, dy=-4, color="#444").encode(x="p:Q", y=alt.Y("value:Q", scale=y_scale),
                                                             text="label:N"))
    title_params = alt.TitleParams(title, subtitle=subtitle or "", anchor="start")
    return alt.layer(*layers).properties(title=title_params, width=560, height=340)


def compare_chart(summary: pd.DataFrame, facet: str = "none",
                  title: str = "Accuracy: mean over seeds, 95% band") -> alt.TopLevelMixin:
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
    run_color = alt.Color("Run:N", scale=alt.Scale(domain=runs, range=RUN_COLORS[:len(runs)]),
                          legend=run_legend if facet != "run" else None, sort=runs)
    color = method_color(_bottom_legend(values=list(dict.fromkeys(data["Method"])))) if facet == "run" else run_color
    y_scale = alt.Scale(domain=metric_domain(metric, data[["mean", "ci_low", "ci_high"]].to_numpy()))
    label = metric_label(metric)
    x_title = "p = fraction of training pairs whose + completion is true" if facet == "none" else "training p"
    x = alt.X("p:Q", title=x_title, axis=p_axis(data["p"]),
              scale=alt.Scale(domain=[float(data["p"].min()), float(data["p"].max())]))
    detail = "Method:N" if facet != "method" else "Run:N"
    encodings = {"x": x, "color": color, "detail": detail}
    if facet == "none":
        encodings["strokeDash"] = alt.StrokeDash("Method:N", legend=_bottom_legend(3))
    base = alt.Chart().encode(**encodings)
    tooltip = [alt.Tooltip("Run:N"), alt.Tooltip("Method:N"), alt.Tooltip("p:Q", format=".2f"),
               alt.Tooltip("mean:Q", format=".3f"), alt.Tooltip("ci_low:Q", format=".3f", title="95% CI low"),
               alt.Tooltip("ci_high:Q", format=".3f", title="95% CI high"), alt.Tooltip("n_seeds:Q")]
    band = base.transform_filter("isValid(datum.ci_low)").mark_area(opacity=0.15).encode(
        y=alt.Y("ci_low:Q", scale=y_scale, title=label), y2="ci_high:Q")
    line = base.mark_line(strokeWidth=2.5).encode(y=alt.Y("mean:Q", scale=y_scale, title=label))
    points = base.mark_point(filled=True, size=60).encode(y=alt.Y("mean:Q", scale=y_scale), tooltip=tooltip)
    layered = alt.layer(band, line, points, *chance_rules(metric, inherit_data=True), data=data)
    title_params = alt.TitleParams(title, anchor="start")
    if facet == "none":
        return layered.properties(title=title_params, width=560, height=340)
    column = "Method:N" if facet == "method" else "Run:N"
    panels = data[column[:-2]].nunique()
    return layered.properties(width=max(240, 920 // panels), height=340).facet(
        column=alt.Column(column, title=None, sort=list(dict.fromkeys(data[column[:-2]])),
                          header=alt.Header(labelFontSize=22, labelFontWeight="bold"))).properties(
        title=title_params)


def slide_style(chart: alt.TopLevelMixin, width: int = 960, height: int = 480) -> alt.TopLevelMixin:
    """A chart readable from the back of a room: `width` px wide (a concatenated or
    faceted chart keeps the panel sizes it was built with), axis labels of 18 px, titles
    of 22 px and more."""
    if isinstance(chart, (alt.Chart, alt.LayerChart)):
        chart = chart.properties(width=width, height=height)
    return chart.configure_axis(labelFontSize=18, titleFontSize=22).configure_legend(
        labelFontSize=20, titleFontSize=20, symbolSize=200, labelLimit=600).configure_title(
        fontSize=28, subtitleFontSize=18).configure_header(labelFontSize=22, titleFontSize=22)


EXPORT_FORMATS = ("png", "svg", "html")


_SVG_SIZE = re.compile(r'^(<svg[^>]*?) width="([0-9.]+)" height="([0-9.]+)"')


def _svg_at_least(svg: str, pixels: int) -> str:
    """An SVG drawn at least `pixels` wide: its width and height attributes scaled up
    (the viewBox keeps the drawing's own coordinates)."""
    match = _SVG_SIZE.match(svg)
    if match is None:
        return svg
    width, height = float(match.group(2)), float(match.group(3))
    scale = max(1.0, pixels / width)
    return f'{match.group(1)} width="{width * scale:g}" height="{height * scale:g}"' + svg[match.end():]


def save_chart_bytes(chart: alt.TopLevelMixin, fmt: str) -> bytes:
    """A chart in slide style (slide_style) as PNG or SVG at least SLIDE_EXPORT_PX wide, or
    as self-contained HTML (works offline), via vl-convert."""
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"Unsupported chart format '{fmt}' (use {', '.join(EXPORT_FORMATS)})")
    chart = slide_style(chart)
    if fmt == "html":
        buffer = io.StringIO()
        chart.save(buffer, format="html", inline=True)
        return buffer.getvalue().encode("utf-8")
    svg = io.StringIO()
    chart.save(svg, format="svg")
    if fmt == "svg":
        return _svg_at_least(svg.getvalue(), SLIDE_EXPORT_PX).encode("utf-8")
    width = float(_SVG_SIZE.match(svg.getvalue()).group(2))
    png = io.BytesIO()
    chart.save(png, format="png", scale_factor=max(2, math.ceil(SLIDE_EXPORT_PX / width)))
    return png.getvalue()


def save_chart(chart: alt.Chart, path: str | Path) -> Path:
    """Write a chart to .png, .svg or .html, by the file's suffix."""
    path = Path(path)
    data = save_chart_bytes(chart, path.suffix.lower().lstrip("."))
    path.write_bytes(data)
    return path


def example_scatter(scatter: pd.DataFrame, example: int | None = None) -> alt.Chart:
    """Test pairs along the probe direction (x) and the top principal component of the
    normalized differences (y), colored by truth; `example` is ringed."""
    data = scatter.assign(truth=np.where(scatter["label"] == 1, "+ is true", "+ is false"))
    base = alt.Chart(data).mark_circle(size=28, opacity=0.55).encode(
        x=alt.X("probe_projection:Q", title="along the probe direction (oriented)"),
        y=alt.Y("top_pc_projection:Q", title="along the top PC of normalized differences"),
        color=alt.Color("truth:N", scale=alt.Scale(domain=list(TRUTH_COLORS), range=list(TRUTH_COLORS.values())),
                        legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["index:Q", "truth:N", alt.Tooltip("probe_projection:Q", format=".2f")])
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4], color="#888").encode(x="x:Q")
    layers = [base, zero]
    if example is not None:
        layers.append(alt.Chart(data[data["index"] == example]).mark_point(
            size=260, shape="circle", filled=False, color="black", strokeWidth=2.5).encode(
            x="probe_projection:Q", y="top_pc_projection:Q"))
    return alt.layer(*layers).properties(height=300)


def trajectory_chart(trajectory: pd.DataFrame) -> alt.Chart:
    """One example's confidence that + is true, as the training p changes."""
    data = trajectory.assign(outcome=np.where(trajectory["correct"], "correct", "wrong"))
    line = alt.Chart(data).mark_line(color="#555").encode(
        x=alt.X("p:Q", title="training p", axis=p_axis(data["p"])),
        y=alt.Y("confidence:Q", title="confidence that + is true", scale=alt.Scale(domain=[0, 1])))
    points = alt.Chart(data).mark_point(filled=True, size=90).encode(
        x="p:Q", y="confidence:Q",
        color=alt.Color("outcome:N", scale=alt.Scale(domain=list(OUTCOME_COLORS), range=list(OUTCOME_COLORS.values())),
                        legend=alt.Legend(orient="bottom", title=None)),
        tooltip=[alt.Tooltip("p:Q"), alt.Tooltip("confidence:Q", format=".3f"), "outcome:N"])
    half = alt.Chart(pd.DataFrame({"y": [0.5]})).mark_rule(strokeDash=[4, 4], color="#888").encode(y="y:Q")
    return alt.layer(line, points, half).properties(height=300)


def centering_chart(table: pd.DataFrame) -> alt.Chart:
    """Where per-side centering puts true and false pairs along the truth direction, per p:
    measured (points, mean over seeds) against the prediction (1 - p) Delta and -p Delta (lines)."""
    grouped = table.groupby("p").mean(numeric_only=True).reset_index()
    rows = []
    for name, column in (("+ is true", "true_position"), ("+ is false", "false_position")):
        rows += [{"p": r.p, "group": name, "measured": getattr(r, column),
                  "predicted": getattr(r, f"{column}_predicted")} for r in grouped.itertuples()]
    data = pd.DataFrame(rows)
    color = alt.Color("group:N", scale=alt.Scale(domain=list(TRUTH_COLORS), range=list(TRUTH_COLORS.values())),
                      legend=alt.Legend(orient="bottom", title=None))
    predicted = alt.Chart(data).mark_line(strokeDash=[5, 3]).encode(x="p:Q", y="predicted:Q", color=color)
    measured = alt.Chart(data).mark_point(filled=True, size=70).encode(
        x=alt.X("p:Q", title="training p", axis=p_axis(data["p"])),
        y=alt.Y("measured:Q", title="position along the truth direction"),
        color=color, tooltip=["group:N", alt.Tooltip("measured:Q", format=".2f"),
                              alt.Tooltip("predicted:Q", format=".2f")])
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#888").encode(y="y:Q")
    return alt.layer(predicted, measured, zero).properties(height=280)


def variance_chart(table: pd.DataFrame) -> alt.Chart:
    """Variance along the truth direction after centering, relative to p = 0.5: measured,
    predicted (truth part shrinking by 4p(1 - p) plus unchanged within-class spread), and
    the 4p(1 - p) truth part alone."""
    grouped = table.groupby("p").mean(numeric_only=True).reset_index()
    balanced = float(grouped.loc[np.isclose(grouped.p, 0.5), "variance_predicted"].iloc[0]) \
        if np.isclose(grouped.p, 0.5).any() else float(grouped.variance_predicted.max())
    data = pd.concat([
        pd.DataFrame({"p": grouped.p, "ratio": grouped.variance_ratio, "curve": "measured"}),
        pd.DataFrame({"p": grouped.p, "ratio": grouped.variance_predicted / balanced,
                      "curve": "predicted: truth part + class spread"}),
        pd.DataFrame({"p": grouped.p, "ratio": truth_variance_ratio(grouped.p), "curve": "4p(1−p): truth part alone"}),
    ])
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("p:Q", title="training p", axis=p_axis(data["p"])),
        y=alt.Y("ratio:Q", title="variance / variance at p = 0.5", scale=alt.Scale(domain=[0, 1.05])),
        color=alt.Color("curve:N", legend=_bottom_legend(1), scale=alt.Scale(
            domain=["measured", "predicted: truth part + class spread", "4p(1−p): truth part alone"],
            range=["#000000", "#E69F00", "#0072B2"])),
        order=alt.Order("curve:N", sort="descending"),
        strokeDash=alt.StrokeDash("curve:N", legend=None),
        tooltip=["curve:N", alt.Tooltip("ratio:Q", format=".3f")]).properties(height=280)


def stability_chart(stability: pd.DataFrame, seed_agreement: pd.DataFrame | None = None) -> alt.Chart:
    """Mean |cos(direction at p, direction at p = 0.5)| per method against p; dotted
    lines: how much two seeds agree at p = 0.5 (what resampling alone does)."""
    data = stability.groupby(["method", "p"]).stability.mean().reset_index()
    data["Method"] = data["method"].map(method_label)
    lines = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("p:Q", title="training p", axis=p_axis(data["p"])),
        y=alt.Y("stability:Q", title="|cos(direction at p, at p = 0.5)|", scale=alt.Scale(domain=[0, 1.02])),
        color=method_color(_bottom_legend()),
        tooltip=["Method:N", "p:Q", alt.Tooltip("stability:Q", format=".3f")])
    if seed_agreement is None or seed_agreement.empty:
        return lines.properties(height=280)
    floor = seed_agreement.assign(Method=seed_agreement["method"].map(method_label))
    rules = alt.Chart(floor).mark_rule(strokeDash=[2, 3], strokeWidth=1.5).encode(
        y="agreement:Q", color=method_color(None),
        tooltip=["Method:N", alt.Tooltip("agreement:Q", format=".3f", title="seeds agree at p = 0.5")])
    return alt.layer(lines, rules).properties(height=280)


def layer_chart(summary: pd.DataFrame) -> alt.Chart:
    """Mean metric per layer, one line per method, solid at p = 0.5 and dashed at the
    imbalanced level, with 95% bands. `summary` is summarize(..., by=(method, p, layer))."""
    metric = summary["metric"].iloc[0]
    data = summary.assign(Method=summary["method"].map(method_label), level=summary["p"].map(lambda p: f"p = {p:g}"))
    layers = sorted({int(layer) for layer in data["layer"]})
    base = alt.Chart(data).encode(
        x=alt.X("layer:Q", title="layer (hidden-state index)", axis=alt.Axis(values=layers, format="d"),
                scale=alt.Scale(domain=[layers[0], layers[-1]])),
        color=method_color(_bottom_legend(values=list(dict.fromkeys(data["Method"])))))
    y_scale = alt.Scale(domain=metric_domain(metric, data["mean"], floor=0.3), clamp=True)
    band = base.transform_filter("isValid(datum.ci_low)").mark_area(opacity=0.12, clip=True).encode(
        y=alt.Y("ci_low:Q", scale=y_scale), y2="ci_high:Q", detail="level:N")
    line = base.mark_line(point=True).encode(
        y=alt.Y("mean:Q", title=metric_label(metric), scale=y_scale),
        strokeDash=alt.StrokeDash("level:N", legend=alt.Legend(orient="bottom", title=None, symbolType="stroke",
                                                               symbolStrokeColor="#444", symbolStrokeWidth=2)),
        tooltip=["Method:N", "level:N", "layer:Q", alt.Tooltip("mean:Q", format=".3f"), "n_seeds:Q"])
    return alt.layer(band, line, *chance_rules(metric)).properties(title=f"{metric_label(metric)} by layer",
                                                                        height=360)


def normalization_label(norm: str) -> str:
    """Display name of a normalization id."""
    return NORMALIZATION_REGISTRY[norm].label if norm in NORMALIZATION_REGISTRY else norm


DECOMPOSITION_COLORS = {"moved threshold": "#E69F00", "lost direction": "#0072B2"}


def remedy_chart(summary: pd.DataFrame, title: str) -> alt.TopLevelMixin:
    """One method's metrics against p under each normalization: a panel per metric
    (core.remedies.remedy_summary output), a line per normalization in its registry
    color, the oracle dashed, 95% bands."""
    data = summary.assign(Normalization=summary["normalization"].map(normalization_label),
                          Metric=summary["metric"].map(metric_label))
    shown = list(dict.fromkeys(data["Normalization"]))
    color = alt.Color("Normalization:N", sort=shown, legend=_bottom_legend(2, values=shown), scale=alt.Scale(
        domain=[n.label for n in NORMALIZATION_REGISTRY.values()],
        range=[n.color for n in NORMALIZATION_REGISTRY.values()]))
    dash = alt.StrokeDash("Normalization:N", legend=None, scale=alt.Scale(
        domain=[n.label for n in NORMALIZATION_REGISTRY.values()],
        range=[[6, 4] if n.uses_labels else [1, 0] for n in NORMALIZATION_REGISTRY.values()]))
    y_scale = alt.Scale(domain=metric_domain("accuracy", data[["mean", "ci_low", "ci_high"]].to_numpy()))
    x = alt.X("p:Q", title="training p", axis=p_axis(data["p"]),
              scale=alt.Scale(domain=[float(data["p"].min()), float(data["p"].max())]))
    tooltip = [alt.Tooltip("Normalization:N"), alt.Tooltip("Metric:N"), alt.Tooltip("p:Q", format=".2f"),
               alt.Tooltip("mean:Q", format=".3f"), alt.Tooltip("ci_low:Q", format=".3f", title="95% CI low"),
               alt.Tooltip("ci_high:Q", format=".3f", title="95% CI high"), alt.Tooltip("n_seeds:Q")]
    base = alt.Chart().encode(x=x, color=color)
    band = base.transform_filter("isValid(datum.ci_low)").mark_area(opacity=0.12).encode(
        y=alt.Y("ci_low:Q", scale=y_scale, title=None), y2="ci_high:Q")
    line = base.mark_line(strokeWidth=2.5).encode(y=alt.Y("mean:Q", scale=y_scale, title=None), strokeDash=dash)
    points = base.mark_point(filled=True, size=50).encode(y=alt.Y("mean:Q", scale=y_scale), tooltip=tooltip)
    layered = alt.layer(band, line, points, *chance_rules("accuracy", inherit_data=True), data=data)
    return layered.properties(width=440, height=320).facet(
        column=alt.Column("Metric:N", title=None, sort=list(dict.fromkeys(data["Metric"])),
                          header=alt.Header(labelFontSize=18, labelFontWeight="bold"))).properties(
        title=alt.TitleParams(title, anchor="start"))


def decomposition_chart(parts: pd.DataFrame, title: str = "What each drop is made of") -> alt.TopLevelMixin:
    """Each method's accuracy drop since balance, per level of p, as stacked bars: the part
    a median threshold wins back (moved threshold) and the part calibrated accuracy
    itself lost (lost direction); core.remedies.decomposition output. The AUROC drop is
    a tick for comparison."""
    long = parts.melt(id_vars=["method", "p", "drop", "auroc_drop"], value_vars=["threshold", "direction"],
                      var_name="part", value_name="points")
    long = long.assign(Part=long["part"].map({"threshold": "moved threshold", "direction": "lost direction"}),
                       Method=long["method"].map(method_label), P=long["p"].map(lambda p: f"{p:g}"))
    color = alt.Color("Part:N", title=None, legend=_bottom_legend(2), scale=alt.Scale(
        domain=list(DECOMPOSITION_COLORS), range=list(DECOMPOSITION_COLORS.values())))
    tooltip = [alt.Tooltip("Method:N"), alt.Tooltip("P:N", title="p"), alt.Tooltip("Part:N"),
               alt.Tooltip("points:Q", format=".3f", title="accuracy lost"),
               alt.Tooltip("drop:Q", format=".3f", title="total drop"),
               alt.Tooltip("auroc_drop:Q", format=".3f", title="AUROC drop")]
    bars = alt.Chart().mark_bar().encode(x=alt.X("P:N", title="training p"),
                                         y=alt.Y("sum(points):Q", title="accuracy lost since p = 0.5"),
                                         color=color, order=alt.Order("part:N", sort="descending"), tooltip=tooltip)
    auroc = alt.Chart().mark_tick(color="#000", thickness=2, size=18).encode(
        x="P:N", y="mean(auroc_drop):Q", tooltip=[alt.Tooltip("mean(auroc_drop):Q", format=".3f", title="AUROC drop")])
    methods = list(dict.fromkeys(long["Method"]))
    return alt.layer(bars, auroc, data=long).properties(width=170, height=220).facet(
        facet=alt.Facet("Method:N", title=None, sort=methods, header=alt.Header(labelFontSize=14)),
        columns=4).properties(title=alt.TitleParams(title, subtitle="black tick: the AUROC drop", anchor="start"))


def grid_chart(summary: pd.DataFrame, title: str) -> alt.TopLevelMixin:
    """A grid's results: a panel per data set (rows) and model and layer (columns), a line
    per method with its 95% band, a dash per normalization when there are several;
    `summary` is core.metrics.summarize output by model, dataset, layer, normalization,
    method and p."""
    metric = summary["metric"].iloc[0] if len(summary) else "accuracy"
    data = summary.assign(Method=summary["method"].map(method_label),
                          Normalization=summary["normalization"].map(normalization_label),
                          Panel=summary["model"] + " · layer " + summary["layer"].astype(str))
    y_scale = alt.Scale(domain=metric_domain(metric, data[["mean", "ci_low", "ci_high"]].to_numpy()))
    encodings = {"x": alt.X("p:Q", title="training p", axis=p_axis(data["p"]),
                            scale=alt.Scale(domain=[float(data["p"].min()), float(data["p"].max())])),
                 "color": method_color(_bottom_legend(values=list(dict.fromkeys(data["Method"])))),
                 "detail": "Normalization:N"}
    if data["Normalization"].nunique() > 1:
        encodings["strokeDash"] = alt.StrokeDash("Normalization:N", legend=_bottom_legend(2))
    base = alt.Chart().encode(**encodings)
    band = base.transform_filter("isValid(datum.ci_low)").mark_area(opacity=0.15).encode(
        y=alt.Y("ci_low:Q", scale=y_scale, title=metric_label(metric)), y2="ci_high:Q")
    tooltip = [alt.Tooltip("Panel:N"), alt.Tooltip("dataset:N"), alt.Tooltip("Method:N"),
               alt.Tooltip("Normalization:N"), alt.Tooltip("p:Q", format=".2f"), alt.Tooltip("mean:Q", format=".3f"),
               alt.Tooltip("ci_low:Q", format=".3f"), alt.Tooltip("ci_high:Q", format=".3f"), alt.Tooltip("n_seeds:Q")]
    line = base.mark_line(point=True).encode(y=alt.Y("mean:Q", scale=y_scale), tooltip=tooltip)
    return alt.layer(band, line, *chance_rules(metric, inherit_data=True), data=data).properties(
        width=220, height=170).facet(
        row=alt.Row("dataset:N", title=None, header=alt.Header(labelFontSize=13, labelAngle=0, labelAlign="left")),
        column=alt.Column("Panel:N", title=None, header=alt.Header(labelFontSize=13))).properties(
        title=alt.TitleParams(title, anchor="start"))
