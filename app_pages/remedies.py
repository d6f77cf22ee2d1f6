"""Remedies: each fix for the imbalance effect beside Burns centering, for one method, with
the share of the drop it wins back, and what each method's drop is made of (core.analysis.remedies).
It opens on the chart of the remedies already computed for the current run; those not yet
computed are named under it with one button."""

import pandas as pd
import streamlit as st

from core.analysis.label_budget import USES, smallest_budget
from core.analysis.remedies import compare_remedies, remedy_runs
from core.cli.reproduce import command_line, names_local_files, run_arguments
from core.errors import UserError
from core.metrics import THRESHOLD_REMEDIES
from core.normalizations import BASELINE, NORMALIZATION_REGISTRY, REMEDIES
from core.probes import HEADLINE_METHOD
from core.settings.sweep import DEPLOYMENT
from core.store.activation_imports import ImportedActivations
from core.views.export import safe_csv
from core.views.remedy_charts import budget_chart, decomposition_chart, remedy_chart
from core.views.report import below_zero_note, chart_caption, recovered_share_table, verdict_lines
from core.views.style import method_label, normalization_label
from ui.cache import cached_budget, cached_verdicts, finished_sweep
from ui.progress import run_with_progress
from ui.render import chart_exports, plain, reproduce, show_error
from ui.state import current_source, current_sweep, run_line

st.title("Remedies")
extract, sweep = current_source(), current_sweep()
st.caption(plain(run_line(extract, sweep)))
c = st.columns([1, 3])  # the remedies on a row of their own, wide enough to show every chip
methods = list(sweep.methods)
method = c[0].selectbox(
    "Method",
    methods,
    index=methods.index(HEADLINE_METHOD) if HEADLINE_METHOD in methods else 0,
    format_func=method_label,
    key="remedies_method",
)
# An imported set brings no model, so none of the companion pairs some remedies extract with it;
# a template ensemble has none either (they are extracted for one template).
no_companions = isinstance(extract, ImportedActivations) or bool(extract.templates)
offered = [r for r in REMEDIES if not (no_companions and NORMALIZATION_REGISTRY[r].companion)]
chosen = st.multiselect(
    "Remedies beside Burns centering",
    offered,
    default=offered,
    format_func=normalization_label,
    key="remedies_chosen",
)
chosen_remedies = ["--remedies", ",".join(chosen)] if set(chosen) != set(offered) else []
options = ["--method", method, *chosen_remedies]
runs = remedy_runs((extract, sweep), tuple(chosen))
found = {run[1].normalization: finished_sweep(*run) for run in runs}
missing = [run for run in runs if found[run[1].normalization] is None]
tables = {norm: result.table for norm, result in found.items() if result is not None}


def compute_missing() -> None:
    """The remedies not computed yet, named, with one button that computes them."""
    names = ", ".join(normalization_label(run[1].normalization) for run in missing)
    st.info(
        f"Not computed yet for the current run: {names}. Each is the current sweep with only its normalization "
        "changed; content-free and negation-pooled also extract their extra prompts once."
    )
    if st.button(f"Compute {len(missing)} missing", type="primary", key="remedies_compute"):
        try:
            for run in missing:
                label = normalization_label(run[1].normalization)
                run_with_progress(*run, running=f"Sweeping with {label}", finished=f"{label}: done")
        except UserError as error:
            show_error(error)
        else:
            st.rerun()


def assumptions() -> None:
    with st.expander("What each remedy assumes"):
        for norm in (BASELINE, *REMEDIES):
            entry = NORMALIZATION_REGISTRY[norm]
            st.markdown(f"**{plain(entry.label)}** (`{norm}`): {plain(entry.description)}")
        for metric, threshold in THRESHOLD_REMEDIES.items():
            st.markdown(f"**{plain(threshold.label)}** (`{metric}`, when deployed): {plain(threshold.description)}")
    reproduce(
        command_line("remedies", run_arguments(extract, sweep, skip=("norm",)) + options), names_local_files(extract)
    )


if BASELINE not in tables:
    compute_missing()
    assumptions()
    st.stop()
comparison = compare_remedies(tables, method)

st.altair_chart(remedy_chart(comparison.summary, comparison.title), theme=None)
st.caption(
    f"Every line is the current sweep with only its normalization changed ({chart_caption(sweep)}); the test "
    f"split is normalized with {'its own' if sweep.test_normalization == 'own' else 'the training'} "
    "statistics of the same normalization. Dashed lines read labels (the oracle: the upper bound). "
    + (
        "Estimated-prior threshold: Burns centering's own probes, thresholded where a mixture of their "
        "training scores puts the classes' midpoint; no labels, no refit."
        if sweep.test_normalization == DEPLOYMENT
        else "A label-free threshold for deployment, the estimated-prior threshold, joins them when the sweep "
        "form normalizes the test split with the training statistics (deployment)."
    )
)
if missing:
    compute_missing()
assumptions()

if len(comparison.shares):
    st.subheader(f"Share of the drop since p = {comparison.reference_p:g} each remedy wins back")
    shown = recovered_share_table(comparison.shares)
    st.dataframe(shown, hide_index=True, width="stretch", height="content")
    st.caption(
        f"Mean accuracy of {method_label(method)} over {len(sweep.seeds)} seeds. Gain: remedy minus Burns, "
        "paired by seed (the same training draw under both), with its 95% t-interval. Share: gain / drop; "
        "above 100% the remedy beats what balance gave."
    )

st.altair_chart(decomposition_chart(comparison.decomposition), theme=None)
st.caption(
    "Under Burns centering. Accuracy lost since balance = moved threshold + lost direction, exactly. "
    "Moved threshold: the change "
    "in what a threshold at the median test score wins back (calibrated accuracy minus accuracy); lost "
    "direction: the drop in calibrated accuracy itself, which no threshold recovers. The tick is the AUROC "
    f"drop. Means over {len(sweep.seeds)} seeds on the same test split."
)

st.subheader("Without labels, or with how many")
verdicts = cached_verdicts(extract, sweep)
for line in verdict_lines(verdicts[verdicts.method == method]):
    st.markdown(plain(line))
st.caption(
    "Separation: how far apart the two classes stand along the probe's direction on the test split, in pooled "
    "standard deviations (the lab's evaluation labels). The bound: the least median miss of the classes' midpoint "
    "any label-free estimate from this many training pairs can have (Cramér-Rao, two Gaussian classes of one "
    "spread, every parameter unknown), in half the gap between the classes; Burns centering misses by 2|p − 1/2|."
)
if st.toggle("Label budget: how many labelled pairs undo the imbalance", key="remedies_budget"):
    shares = cached_budget(extract, sweep)
    st.altair_chart(budget_chart(shares), theme=None)
    smallest = smallest_budget(shares)
    st.caption(
        plain(
            f"k labelled pairs drawn from each cell's own training draw at p = {shares.p.max():g}, 20 draws per "
            f"seed, {len(sweep.seeds)} seeds (95% t-intervals of the paired gain over seeds), under Burns "
            "centering; the probe is not retrained. "
            + "; ".join(f"{use}: {about}" for use, about in USES.items())
            + ". Half the drop won back first at: "
            + ", ".join(
                f"{method_label(row.method)} ({row.use}) {'k = ' + str(row.k) if not pd.isna(row.k) else 'none'}"
                for row in smallest.itertuples()
                if shares[(shares.method == row.method)].share.notna().any()
            )
            + ". "
            + below_zero_note(shares)
        )
    )
    reproduce(command_line("label-budget", run_arguments(extract, sweep)), names_local_files(extract))

downloads = st.columns(3)
downloads[0].download_button(
    "Results, every normalization (CSV)",
    safe_csv(pd.concat(tables.values())),
    "ccs_remedies.csv",
    "text/csv",
    on_click="ignore",
)
with downloads[1].popover("Remedy chart (PNG, SVG)"):
    chart_exports(lambda: remedy_chart(comparison.summary, comparison.title), "ccs_remedies", "remedies_export")
with downloads[2].popover("Decomposition chart (PNG, SVG)"):
    chart_exports(lambda: decomposition_chart(comparison.decomposition), "ccs_decomposition", "decomposition_export")
