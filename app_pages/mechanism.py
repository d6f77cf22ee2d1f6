"""Mechanism: what per-side centering removes as p changes, measured on the current
activations (its charts first, the explanation folded under them), and a synthetic
playground that trains CCS live."""

import streamlit as st

from core.analysis.mechanism import direction_stability, logistic_threshold_shift, seed_agreement
from core.views.mechanism_charts import centering_chart, stability_chart, variance_chart
from core.views.report import statistics_of_test_split
from ui.cache import cached_centering, finished_sweep, layer_for
from ui.playground import playground
from ui.render import plain
from ui.state import current_source, current_sweep, run_line

st.title("Mechanism")
extract, sweep = current_source(), current_sweep()
st.caption(plain(run_line(extract, sweep)))
acts = layer_for(extract, sweep)
if acts is None:
    st.info(
        "No activations yet for the current settings: run the demo on the Overview page. The synthetic "
        "playground below works without them."
    )
else:
    table = cached_centering(extract, sweep)
    st.caption(
        "Left: dots are measured (mean over seeds), dashes are the prediction (1 − p)·Δ and −p·Δ. "
        f"Layer {sweep.layer}, {len(sweep.seeds)} training draws per p of {sweep.n_train} pairs (the sweep's "
        f"draws), truth direction fitted on the training pool. Δ = {table.attrs['delta']:.2f}; "
        "predictions use the pool's class means and spreads, so they are tested, not fitted."
    )
    left, right = st.columns(2)
    left.markdown("**Centering moves the zero point along truth**")
    left.altair_chart(centering_chart(table), width="stretch", theme=None)
    right.markdown("**Variance along truth after centering**, relative to p = 0.5")
    right.altair_chart(variance_chart(table), width="stretch", theme=None)
    result = finished_sweep(extract, sweep)
    if result is not None:
        st.markdown("**Does each method find the same direction as on balanced data?**")
        st.altair_chart(
            stability_chart(direction_stability(result), seed_agreement(result)), width="stretch", theme=None
        )
        st.caption(
            "Solid: same method and seed, compared with its direction at p = 0.5 (mean over seeds). "
            "Dotted: how much two seeds agree at p = 0.5, the drift that resampling alone causes. A probe "
            "whose direction holds but whose accuracy falls has had its threshold moved; one whose "
            "direction turns away further than resampling explains has found another direction."
        )
        shift = logistic_threshold_shift(result)
        if shift is not None:
            largest = shift["max_auroc_difference"]
            st.markdown(
                f"**Logistic regression shows the moved threshold exactly.** Centering each side shifts every "
                f"training difference by the same vector, and the intercept is not penalized, so LR on normalized "
                f"inputs learns the same weights as LR on raw differences with its intercept moved by "
                f"w·(mean(x+) − mean(x−)). At p = {shift['p']:g} the normalized one scores accuracy "
                f"{shift['accuracy_norm']:.3f} against {shift['accuracy_raw']:.3f} raw, at AUROC "
                f"{shift['auroc_norm']:.3f} against {shift['auroc_raw']:.3f}; the largest AUROC difference "
                f"between the two in any of the sweep's {shift['cells']} cells is "
                f"{'exactly 0' if largest == 0 else format(largest, '.1e')}"
                " (and in the chart above their lines coincide). "
                f"Means over {len(sweep.seeds)} seeds on the test split of {sweep.n_test}, normalized with its "
                f"{statistics_of_test_split(sweep)} statistics."
            )

with st.expander("What per-side centering does", icon=":material/help:"):
    st.markdown(
        "Per-side centering subtracts mean(x+) and mean(x−). Along the truth direction *u* (the supervised "
        "mass-mean direction of x+ − x−), the classes sit Δ apart, and a training set with a share **p** of "
        "true-+ pairs has its mean at p·Δ from the false class. After centering, true pairs sit at (1 − p)·Δ and "
        "false ones at −p·Δ: the zero point, which CCS's consistency term uses as its threshold, slides toward the "
        "majority. The truth part of the variance shrinks to 4p(1 − p) of its balanced value, so any method that "
        "looks for large, consistent spread (CCS, TPC) can prefer another direction."
    )

st.header("Synthetic playground")
st.markdown(
    "Pairs built from a known truth direction, a constant token offset, a distractor feature that flips "
    "between x+ and x− like truth does but ignores it, and noise (core/analysis/theory.py). Move the sliders; "
    "CCS, TPC and logistic regression retrain at p = 0.5 and at your p."
)
playground()
