"""Contrast-pair inspector: one trained probe's verdict on every test pair, and one pair up
close. Every column has one orientation (the sweep's: a flipped probe is shown flipped),
labels are words, the chosen pair's text is shown in full under the table, and it opens on
the most instructive pair: the one whose verdict the imbalance changes most
(core.analysis.examples.flipping_example)."""

import streamlit as st

from core.analysis.examples import example_table, flipping_example, prediction_trajectory, projection_scatter
from core.cli.reproduce import command_line, names_local_files, run_arguments
from core.store.activation_imports import ImportedActivations
from core.views.export import safe_csv, spreadsheet_safe
from core.views.pair_charts import example_scatter, trajectory_chart
from core.views.style import method_label
from ui.cache import finished_sweep, layer_for
from ui.render import highlighted_pair, plain, reproduce
from ui.state import current_source, current_sweep, select, selection

st.title("Contrast-pair inspector")
extract, sweep = current_source(), current_sweep()
result = finished_sweep(extract, sweep)
acts = layer_for(extract, sweep)
if result is None or acts is None:
    st.info("Run a sweep first (Overview → Run the offline demo, or the Imbalance sweep page).")
    st.stop()

chosen = selection()
columns = st.columns(4)
methods = list(sweep.methods)
method = columns[0].selectbox(
    "Method",
    methods,
    index=methods.index(chosen["method"]) if chosen["method"] in methods else 0,
    format_func=method_label,
)
levels = list(sweep.p_levels)
p = columns[1].selectbox("p", levels, index=levels.index(chosen["p"]) if chosen["p"] in levels else len(levels) - 1)
seeds = list(sweep.seeds)
seed = columns[2].selectbox("Seed", seeds, index=seeds.index(chosen["seed"]) if chosen["seed"] in seeds else 0)
errors_only = columns[3].toggle("Only errors")
select(method=method, p=p, seed=seed)
cell = ["--method", method, "--p", f"{p:g}", "--seed", str(seed)] + (["--errors"] if errors_only else [])
reproduce(command_line("inspect", run_arguments(extract, sweep) + cell), names_local_files(extract))

table = example_table(acts, result, method, p, seed)
row = result.table[(result.table.method == method) & (result.table.p == p) & (result.table.seed == seed)].iloc[0]
flip_note = (
    " Its orientation was flipped to match max(acc, 1 − acc), and every column below is the flipped probe's."
    if row.sign_flipped
    else ""
)
st.markdown(
    f"**{method_label(method)}**, p = {p:g}, seed {seed}: accuracy **{row.accuracy:.3f}**, "
    f"AUROC {row.auroc:.3f} on {len(table)} balanced test pairs ({int((~table.correct).sum())} errors)." + flip_note
)

shown = table[~table.correct] if errors_only else table
truth = {1: "true", 0: "false"}
# Texts that start like a spreadsheet formula get an apostrophe here too, as the table's
# own CSV export (the toolbar's download) writes cells as shown.
display = shown.assign(
    correct=shown.correct.map({True: "✓", False: "✗"}),
    text=shown.text.map(spreadsheet_safe),
    label=shown.label.map(truth),
    prediction=shown.prediction.map(truth),
).rename(
    columns={
        "label": "+ is",
        "prediction": "probe says + is",
        "p_pos": "p(x+)",
        "p_neg": "p(x−)",
        "confidence": "confidence",
    }
)
pair_columns = ["p(x+)", "p(x−)", "consistency"] if shown.p_pos.notna().any() else []  # a pair probe's (CCS)
order = ["correct", "text", "+ is", "probe says + is", "confidence", *pair_columns]
instructive = flipping_example(acts, result, method, seed)
start = [int(i) for i in (shown["index"] == instructive).to_numpy().nonzero()[0][:1]]
event = st.dataframe(
    display[order],
    hide_index=True,
    width="stretch",
    height=360,
    on_select="rerun",
    selection_mode="single-row",
    selection_default={"selection": {"rows": start}} if start else None,
    key=f"examples_{method}_{p}_{seed}_{errors_only}",
    column_config={
        "text": st.column_config.TextColumn("text", width=310),
        "confidence": st.column_config.NumberColumn(
            "confidence", format="%.3f", width=90, help="the probe's confidence that + is true"
        ),
        "p(x+)": st.column_config.NumberColumn(format="%.3f", width=64, help="the probe's output on x+ (CCS)"),
        "p(x−)": st.column_config.NumberColumn(format="%.3f", width=64, help="the probe's output on x− (CCS)"),
        "consistency": st.column_config.NumberColumn(
            "inconsistency",
            format="%.3f",
            width="small",
            help="|p(x+) − (1 − p(x−))|: 0 when the two outputs agree (CCS)",
        ),
        "correct": st.column_config.TextColumn("correct", width=60),
        "+ is": st.column_config.TextColumn("+ is", width=56),
        "probe says + is": st.column_config.TextColumn("probe says + is", width=104),
    },
)
st.download_button(
    "These pairs (CSV)",
    safe_csv(display[[*order, "id"]]),
    f"ccs_pairs_{method}_p{p:g}_seed{seed}.csv",
    "text/csv",
    on_click="ignore",
)
rows = event.selection.rows if event else start
if not rows:
    st.caption("Select a row to see the pair in full.")
    st.stop()

picked = shown.iloc[rows[0]]
example = int(picked["index"])
st.subheader(
    f"Example {picked['id']}: + is {'true' if picked['label'] == 1 else 'false'}, "
    f"predicted {'correctly' if picked['correct'] else 'wrongly'}"
)
if isinstance(extract, ImportedActivations):  # its hidden states and texts came in, not its prompts
    st.text(picked["text"])
    template = acts.meta.get("manifest", {}).get("template")
    st.caption(
        plain(
            "An imported set keeps its texts and hidden states, not the prompts they were read through"
            + (f"; its manifest describes the template as: {template}" if template else ".")
        )
    )
else:
    highlighted_pair(extract.template, picked["text"], picked["p_pos"], picked["p_neg"])
left, right = st.columns(2)
with left:
    st.markdown("**Where the test pairs sit** (dashed line: the probe's threshold; ringed: this pair)")
    scatter = projection_scatter(acts, result, method, p, seed)
    st.altair_chart(example_scatter(scatter, example), width="stretch", theme=None)
with right:
    st.markdown(f"**This pair's verdict as p grows** ({plain(method_label(method))}, seed {seed})")
    trajectory = prediction_trajectory(acts, result, method, seed, example)
    st.altair_chart(trajectory_chart(trajectory), width="stretch", theme=None)
