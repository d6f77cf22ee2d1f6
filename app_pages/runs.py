"""Runs: every finished sweep in the cache with what defines it; two or more chosen
overlay on one accuracy-versus-p chart (core.experiments.runs, core.views.charts.compare_chart)."""

import pandas as pd
import streamlit as st

from core.cli.reproduce import command_line
from core.errors import UserError
from core.experiments.runs import (
    COMPUTED_HERE,
    delete_run,
    describe_run,
    list_runs,
    load_run,
    overlay,
    record_labels,
    run_address,
)
from core.metrics import METRICS
from core.probes import METHOD_IDS
from core.store.imports import remove_pack
from core.views.charts import COMPARE_FACETS, compare_chart
from core.views.export import safe_csv
from core.views.palette import RUN_COLORS
from core.views.style import method_label, metric_label
from ui.render import chart_exports, plain, reproduce, show_error
from ui.serving import shared

st.title("Runs")
records = list_runs()
if not records:
    st.info("No finished runs yet: run the demo on the Overview page, or a sweep on the Imbalance sweep page.")
    st.stop()

st.caption(
    "Every finished sweep in this machine's cache, newest first. Runs an imported pack brought keep their origin, "
    "live apart and never stand in for this machine's own."
)
origins = ["every origin", COMPUTED_HERE, *dict.fromkeys(record.pack for record in records if record.pack)]
shown_origin = st.selectbox(
    "Show runs", origins, key="runs_origin", format_func=lambda o: o if o in origins[:2] else f"from pack {o}"
)
if shown_origin != "every origin":
    records = [record for record in records if (record.pack or COMPUTED_HERE) == shown_origin]
rows = [describe_run(record) for record in records]
st.dataframe(
    pd.DataFrame(rows),
    hide_index=True,
    width="stretch",
    column_config={
        "dataset": st.column_config.TextColumn(width="medium"),
        "template": st.column_config.TextColumn(width="medium"),
    },
)


def run_choice(record) -> str:
    """How the multiselect names a run: its key, after its pack's id when a pack brought it."""
    return f"{record.pack}/{record.key}" if record.pack else record.key


by_key = {run_choice(record): (record, row) for record, row in zip(records, rows) if not record.damaged}


def run_name(choice: str) -> str:
    record, row = by_key[choice]
    name = f"{record.key[:12]} · {row['model']} · layer {row['layer']} · {row['normalization']} · {row['seeds']} seeds"
    return name + (f" · pack {record.pack}" if record.pack else "")


keys = st.multiselect(
    f"Runs to compare, export or delete (up to {len(RUN_COLORS)} at a time)",
    list(by_key),
    key="runs_chosen",
    format_func=run_name,
    max_selections=len(RUN_COLORS),
    select_all=False,
)
chosen = [by_key[key][0] for key in keys]

if chosen:
    c = st.columns([2, 2, 3])
    try:
        tables = pd.concat([load_run(record).table.assign(run_key=record.key) for record in chosen])
        c[0].download_button(
            f"Results of the {len(chosen)} chosen (CSV)",
            safe_csv(tables),
            "ccs_runs.csv",
            "text/csv",
            on_click="ignore",
        )
    except UserError as error:
        show_error(error)
    own = [record for record in chosen if not record.pack]
    packs = list(dict.fromkeys(record.pack for record in chosen if record.pack))
    if not shared() and own:  # visitors of a shared server do not delete what others computed
        confirm = c[2].checkbox(f"Yes, delete the {len(own)} chosen computed here")
        if c[1].button("Delete chosen", disabled=not confirm):
            for record in own:
                delete_run(record)
            st.rerun()
    if not shared() and packs:  # what a pack brought goes with its pack, and only then
        confirm = c[2].checkbox(f"Yes, remove pack {', '.join(packs)} and everything it brought")
        if c[1].button("Remove pack", disabled=not confirm):
            for identifier in packs:
                remove_pack(identifier)
            st.rerun()

if len(chosen) < 2:
    st.caption("Choose at least two runs to compare them.")
    st.stop()

c = st.columns(3)
metric = c[0].radio("Metric", list(METRICS), format_func=metric_label)
facet = c[1].selectbox(
    "Panels",
    COMPARE_FACETS,
    format_func={
        "none": "one chart: color per run, dash per method",
        "method": "one panel per method",
        "run": "one panel per run",
    }.get,
)
trained = [m for m in METHOD_IDS if any(m in record.config.methods for record in chosen)]
methods = c[2].multiselect("Methods", trained, default=trained[:2], format_func=method_label)
if not methods:
    st.stop()
labels = record_labels(chosen)
try:
    summary = overlay(chosen, metric, methods, labels)
except UserError as error:
    show_error(error)
    st.stop()
chart = compare_chart(summary, facet=facet, title=f"{metric_label(metric)}: mean over seeds, 95% band")
st.altair_chart(chart, theme=None)
addresses = [run_address(record) for record in chosen]
reproduce(command_line("compare", [*addresses, "--metric", metric, "--methods", ",".join(methods), "--facet", facet]))
for record, label in zip(chosen, labels):
    st.caption(
        plain(
            f"{label} (run {run_address(record)}): {len(record.config.seeds)} seeds, n_train "
            f"{record.config.n_train}, balanced test split of {record.config.n_test}, layer "
            f"{record.config.layer}; unsupervised methods sign-resolved as max(acc, 1 - acc)."
        )
    )
with st.popover("Export chart"):
    chart_exports(lambda: chart, "ccs_runs_compared", "runs_export")
