"""Imbalance sweep: the chart first, under one line saying which run it is; the settings
in a collapsible form above it (open while the run has no results yet); pick a point of the
chart to inspect it."""

import json

import streamlit as st

from core.analysis.distractors import FINDS, distractor_cells, distractor_report
from core.cli.reproduce import command_line, names_local_files, run_arguments
from core.config import ExtractConfig, to_jsonable
from core.errors import UserError
from core.metrics import METRICS, summarize
from core.views.charts import imbalance_chart
from core.views.export import safe_csv
from core.views.report import (
    chart_caption,
    describe_sweep,
    describe_templates,
    subtitle_lines,
    summary_pivot,
    verdict_lines,
)
from core.views.style import method_label, metric_label
from ui.cache import cached_verdicts, finished_sweep, layer_for
from ui.forms import sweep_fields
from ui.progress import run_with_progress
from ui.render import chart_exports, plain, reproduce, show_error
from ui.state import current_source, current_sweep, run_line, select, selection, set_sweep, write_link

st.title("Imbalance sweep")
extract = current_source()  # an extraction config, or an imported activation set in its place
st.caption(plain(run_line(extract)))  # the model and data; the chart's subtitle has the sweep's settings
with st.expander("Sweep settings", expanded=finished_sweep(extract, current_sweep()) is None, icon=":material/tune:"):
    st.caption(
        "Each cell trains a probe on n_train pairs of which a fraction p is true on the + side, and tests it "
        "on a fixed balanced split. Press Run to compute a configuration that is not cached yet."
    )
    with st.form("sweep_form"):
        edited = sweep_fields(current_sweep(), key="form_sweep")
        run_clicked = st.form_submit_button("Run sweep", type="primary")

if run_clicked:
    set_sweep(edited)
sweep = current_sweep()
result = finished_sweep(extract, sweep)
if run_clicked and result is None:
    try:
        result = run_with_progress(extract, sweep, "Running the sweep", "Sweep finished")
    except UserError as error:
        show_error(error)

view = st.columns([4, 1], vertical_alignment="bottom")
metric = view[0].radio(
    "Metric",
    list(METRICS),
    key="metric",
    horizontal=True,
    format_func=metric_label,
    index=list(METRICS).index(st.query_params.get("metric", "accuracy"))
    if st.query_params.get("metric", "accuracy") in METRICS
    else 0,
    help="AUROC falling: the direction was lost. Accuracy falling at steady AUROC and steady "
    "calibrated accuracy (threshold at the median test score): the threshold moved. Deployed accuracy at "
    "the estimated-prior threshold: the test split read with the training statistics, the threshold where a "
    "mixture of the probe's training scores puts the classes' midpoint (no labels).",
)
theory = view[1].toggle(
    "Overlay 4p(1−p)",
    value=st.query_params.get("theory") == "1",
    key="theory",
    help="The share of truth variance that survives per-side centering (core/analysis/theory.py).",
)
view_params = {**({"metric": metric} if metric != "accuracy" else {}), **({"theory": "1"} if theory else {})}
write_link(view_params)
view_options = (["--metric", metric] if metric != "accuracy" else []) + (["--theory"] if theory else [])
command = command_line("sweep", run_arguments(extract, sweep) + view_options)

if result is None:
    if not run_clicked:
        st.info(
            "This configuration has not been run yet. Press **Run sweep** (the settings above are also in "
            "the page's URL, so a link reproduces this view)."
        )
    reproduce(command, names_local_files(extract))
    st.stop()

provenance = describe_sweep(result.config, result.seconds, result.cached, result.reused)
summary = summarize(result.table, metric)
chart = imbalance_chart(
    summary,
    title=f"{metric_label(metric)} vs training-label imbalance",
    subtitle=chart_caption(result.config),
    show_theory=theory,
    selectable=True,
)
event = st.altair_chart(chart, width="stretch", theme=None, on_select="rerun", key="sweep_chart")
picked = (event.selection.get("pick") or []) if event else []
if picked:
    select(method=picked[0]["method"], p=float(picked[0]["p"]))
st.caption(provenance)
if isinstance(extract, ExtractConfig) and extract.templates:
    st.caption(plain(describe_templates(extract.templates).capitalize() + "."))
reproduce(command, names_local_files(extract))
with st.expander("The limit of a label-free fix", icon=":material/straighten:"):
    for line in verdict_lines(cached_verdicts(extract, sweep)):
        st.markdown(plain(line))
    st.caption(
        "How far apart the classes stand along each probe on the test split (pooled standard deviations), and "
        "the least median miss of the classes' midpoint any label-free estimate from this many training pairs "
        "can have (Cramér-Rao bound). The Remedies page has the label budget: how many labelled pairs would do."
    )

chosen = selection()
if chosen["method"] in sweep.methods and chosen["p"] in sweep.p_levels:
    left, right = st.columns([3, 2])
    left.markdown(
        f"Selected for inspection: **{method_label(chosen['method'])}** at **p = {chosen['p']:g}** "
        "(click a point of the chart to change it)."
    )
    right.page_link("app_pages/inspector.py", label="Open the contrast-pair inspector", icon=":material/search:")

st.subheader("Mean over seeds with 95% interval")
st.dataframe(summary_pivot(summary), width="stretch")
with st.expander(f"Every cell ({len(result.table)} rows)"):
    st.dataframe(result.table, width="stretch", hide_index=True)

if getattr(getattr(extract, "template", None), "distractor", None) is not None:
    st.subheader("Truth or distractor?")
    acts = layer_for(extract, sweep)
    if acts is not None:
        report = distractor_report(distractor_cells(acts, result))
        st.dataframe(report.assign(method=report.method.map(method_label)).round(3), hide_index=True, width="stretch")
        st.caption(
            f"Each probe on the test split: accuracy on the truth and on which side got the first distractor "
            f"word, each oriented as the sweep orients accuracy (max(acc, 1 - acc) for unsupervised methods); a "
            f"seed finds a target at {FINDS:g} or more, above the other. Means over {len(sweep.seeds)} seeds."
        )

source_json = to_jsonable(extract) if isinstance(extract, ExtractConfig) else {"imported_activations": extract.id}
config_json = json.dumps({"extract": source_json, "sweep": to_jsonable(sweep)}, indent=1)
downloads = st.columns(3)
downloads[0].download_button(
    "Results (CSV)", safe_csv(result.table), "ccs_imbalance_results.csv", "text/csv", on_click="ignore"
)
with downloads[1].popover("Chart (PNG, SVG)"):
    chart_exports(
        lambda: imbalance_chart(summary, subtitle=subtitle_lines(provenance), show_theory=theory),
        "ccs_imbalance_chart",
        "sweep_export",
    )
downloads[2].download_button(
    "Config (JSON)", config_json, "ccs_imbalance_config.json", "application/json", on_click="ignore"
)
