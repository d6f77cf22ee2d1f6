"""The synthetic playground: sliders in, CCS and baselines retrained live (in a fragment,
so moving a slider reruns only this part of the page)."""

from __future__ import annotations

import streamlit as st

from core.analysis.theory import synthetic_pairs
from core.config import CCSConfig
from core.experiments.sweep import run_sweep
from core.metrics import summarize
from core.probes import FLOOR_METHOD, METHOD_IDS
from core.settings.sweep import SweepConfig
from core.views.style import method_label

N_PAIRS = 2000
PLAYGROUND_CCS = CCSConfig(epochs=300, restarts=4)
PLAYGROUND_METHODS = tuple(m for m in METHOD_IDS if m != FLOOR_METHOD)  # every method but the floor


@st.cache_data(max_entries=32, show_spinner="Training")
def playground_table(dim: int, truth: float, offset: float, noise: float, distractor: float, p: float):
    """Accuracy per method at p = 0.5 and at `p` on freshly generated synthetic pairs."""
    data = synthetic_pairs(
        N_PAIRS, dim, truth_strength=truth, token_offset=offset, noise=noise, distractor_strength=distractor, seed=0
    )
    acts = data.as_activation_set("playground")
    levels = (0.5,) if p == 0.5 else (0.5, p)
    config = SweepConfig(
        layer=0,
        p_levels=levels,
        n_train=400,
        n_test=400,
        seeds=(0, 1, 2),
        methods=PLAYGROUND_METHODS,
        ccs=PLAYGROUND_CCS,
    )
    return summarize(run_sweep(acts, config).table)


@st.fragment
def playground() -> None:
    c = st.columns(3)
    dim = c[0].slider("Dimension", 4, 128, 20)
    truth = c[0].slider("Truth strength a", 0.0, 4.0, 2.0, 0.1)
    offset = c[1].slider("Token offset b", 0.0, 10.0, 4.0, 0.5)
    noise = c[1].slider("Noise", 0.0, 2.0, 0.5, 0.1)
    distractor = c[2].slider("Distractor strength c", 0.0, 4.0, 1.2, 0.1)
    p = c[2].slider("Training p", 0.5, 0.99, 0.9, 0.01)
    summary = playground_table(dim, truth, offset, noise, distractor, p)
    table = summary.assign(Method=summary.method.map(method_label)).pivot(index="Method", columns="p", values="mean")
    table.columns = [f"accuracy at p = {level:g}" for level in table.columns]
    st.dataframe(table.style.format("{:.3f}"), width="stretch")
    crossover = (
        "never"
        if distractor == 0
        else (
            "already at p = 0.5"
            if distractor >= truth
            else f"at p ≈ {0.5 + 0.5 * (1 - (distractor / truth) ** 2) ** 0.5:.2f}"
        )
    )
    st.caption(
        f"{N_PAIRS} pairs, 400 training and 400 balanced test pairs, 3 seeds, CCS {PLAYGROUND_CCS.restarts} "
        f"restarts × {PLAYGROUND_CCS.epochs} epochs (fewer than the reference, for speed). Truth's "
        f"centered spread a²·4p(1−p) falls below the distractor's c² {crossover}."
    )
