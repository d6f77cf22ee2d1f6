"""Overview: the claim, the current run, and one button that runs the offline demo end to end."""

import streamlit as st

from core.errors import UserError
from core.settings.presets import DEMO
from core.views.report import describe_sweep
from ui.cache import finished_sweep
from ui.progress import run_with_progress
from ui.render import show_error
from ui.state import current_source, current_sweep, set_extract, set_sweep, source_name

st.title("CCS Imbalance Lab")
st.markdown(
    "**Contrast-Consistent Search (CCS)** finds a direction in a language model's hidden states that answers "
    "yes/no questions consistently, without labels. Before training it centers the hidden states of the *yes* "
    "and *no* answers separately, which removes the answer-token feature cleanly only when half of the "
    "training statements are true. As the share **p** of training pairs whose *yes* answer is true moves away "
    "from 0.5, centering removes part of the truth signal too, and CCS and related probes lose accuracy."
)

extract, sweep = current_source(), current_sweep()
st.markdown(
    f"**Current run:** {len(sweep.p_levels)} levels of p × {len(sweep.seeds)} seeds, "
    f"{len(sweep.methods)} methods, layer {sweep.layer}."
)
st.text(source_name(extract))
result = finished_sweep(extract, sweep)
if result is not None:
    st.success(describe_sweep(result.config, result.seconds, result.cached, result.reused))
    st.page_link("app_pages/sweep.py", label="Open the accuracy-versus-imbalance chart", icon=":material/show_chart:")

demo_extract, demo_sweep = DEMO
st.subheader("The offline demo")
st.markdown(
    f"SmolLM2-135M-Instruct (bundled) reads {demo_extract.n_examples:,} Rotten Tomatoes snippets through "
    'the template *Consider the following movie review: "…" The sentiment of this review is '
    "positive / negative*; every probe is then trained at "
    f"{len(demo_sweep.p_levels)} levels of p with {len(demo_sweep.seeds)} seeds. The first run takes "
    "about 3 minutes on a 2-core CPU (hidden states are extracted once and cached); later runs load in "
    "a second."
)
if st.button("Run the offline demo", type="primary"):
    set_extract(demo_extract)
    set_sweep(demo_sweep)
    try:
        run_with_progress(demo_extract, demo_sweep, "Running the demo", "Demo finished")
    except UserError as error:
        show_error(error)
    else:
        st.switch_page("app_pages/sweep.py")
