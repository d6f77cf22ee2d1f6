"""Layers: every method's accuracy per layer at p = 0.5 and at one imbalanced level; opens on
the newest layer scan saved for the current extraction, with a form for a new one."""

import dataclasses

import streamlit as st

from core.cli.reproduce import command_line, names_local_files, run_arguments
from core.errors import UserError
from core.experiments.layers import SavedScan, run_layer_scan, saved_scans
from core.experiments.sweep import sweep_key
from core.metrics import METRICS, summarize
from core.probes import DEMO_METHODS, METHOD_IDS
from core.store.activation_imports import ImportedActivations
from core.store.sweeps import SweepStore
from core.views.charts import layer_chart
from core.views.export import safe_csv
from core.views.report import describe_ccs
from core.views.style import method_label, metric_label
from ui.cache import source_key, stored_layers
from ui.forms import ccs_optimizer_field
from ui.progress import dashboard_runtime, progress_callback
from ui.render import chart_exports, plain, reproduce, show_error
from ui.state import current_source, current_sweep, run_line

st.title("Layers")
extract, sweep = current_source(), current_sweep()
key, store = source_key(extract)
layers = stored_layers(key, store)
if layers is None:
    st.info("No activations yet for the current settings: run the demo on the Overview page first.")
    st.stop()
st.caption(plain(run_line(extract)))
scans = saved_scans(key)


def describe_scan(scan: SavedScan) -> str:
    config = scan.config
    return (
        f"{len(scan.layers)} layers ({scan.layers[0]} to {scan.layers[-1]}) · p = "
        f"{', '.join(f'{p:g}' for p in config.p_levels)} · {len(config.seeds)} seeds · "
        f"{', '.join(method_label(m) for m in config.methods)}"
    )


shown = None
if scans:
    shown = st.selectbox(
        f"Saved layer scans of this extraction ({len(scans)})", scans, format_func=describe_scan, key="layers_saved"
    )
with st.expander("New layer scan", expanded=not scans, icon=":material/tune:"):
    with st.form("layer_form"):
        c = st.columns(4)
        imbalanced = c[0].selectbox("Imbalanced p", [0.7, 0.8, 0.9, 0.95], index=3)
        methods = c[1].multiselect("Methods", METHOD_IDS, default=list(DEMO_METHODS), format_func=method_label)
        seeds = c[2].number_input("Seeds", 1, 20, 3, help="3 or more for an interval that means something.")
        ccs = ccs_optimizer_field(c[3], sweep.ccs, key="layers_optimizer")
        run = st.form_submit_button("Run layer scan", type="primary")
    st.caption(
        f"{len(layers)} layers × 2 levels of p × {int(seeds)} seeds; otherwise the sweep page's settings "
        f"(n_train {sweep.n_train}, balanced n_test {sweep.n_test}). Each layer's result is cached, so a rerun "
        "only trains what is new. Mean with 95% t-interval over seeds."
    )
if run:
    config = dataclasses.replace(
        sweep,
        p_levels=(0.5, float(imbalanced)),
        seeds=tuple(range(int(seeds))),
        methods=tuple(m for m in METHOD_IDS if m in methods),
        ccs=ccs,
    )
    scan_layers = layers
elif shown is not None:
    config, scan_layers = shown.config, list(shown.layers)
else:
    st.stop()

table = None
sweeps = extract.sweeps if isinstance(extract, ImportedActivations) else SweepStore()
cached = all(sweeps.has(sweep_key(key, dataclasses.replace(config, layer=layer))) for layer in scan_layers)
try:
    runtime = dashboard_runtime(
        activations=store, sweeps=sweeps, sweep_progress=None if cached else progress_callback("Layers")
    )
    table = run_layer_scan(key, config, scan_layers, runtime)
except UserError as error:
    show_error(error)

if table is not None:
    if run and not cached:
        st.rerun()  # the new scan is saved: show it as the newest
    metric = st.radio("Metric", list(METRICS), horizontal=True, format_func=metric_label)
    summary = summarize(table, metric, by=("method", "p", "layer"))
    st.altair_chart(layer_chart(summary), width="stretch", theme=None)
    st.caption(
        plain(
            f"n_train {config.n_train} per cell, {len(config.seeds)} seeds (95% t-interval), balanced test split "
            f"of {config.n_test}; CCS: {describe_ccs(config.ccs)}; solid: p = 0.5, dashed: the imbalanced level."
        )
    )
    view_options = ["--metric", metric] if metric != "accuracy" else []
    command = command_line("layers", run_arguments(extract, config, skip=("layer",)) + view_options)
    if scan_layers == layers:
        reproduce(command, names_local_files(extract))
    else:  # `layers` scans every layer an extraction keeps; this scan (a deck's) has some of them
        st.caption(plain(f"This scan has {len(scan_layers)} of the extraction's {len(layers)} layers (a deck's scan)."))
    downloads = st.columns(2)
    downloads[0].download_button(
        "Layer scan (CSV)", safe_csv(table), "ccs_layer_scan.csv", "text/csv", on_click="ignore"
    )
    with downloads[1].popover("Chart (PNG, SVG)"):
        chart_exports(lambda: layer_chart(summary), "ccs_layer_scan", "layers_export")
