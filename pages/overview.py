"""Overview: the claim, and one button that runs the offline demo end to end."""

import streamlit as st

from core.charts import imbalance_chart
from core.errors import UserError
from core.metrics import summarize
from core.pipeline import cached_run, run_pipeline
from core.report import describe_sweep
from ui.progress import progress_callback
from ui.state import current_extract, current_sweep

st.title("CCS Imbalance Lab")
st.markdown(
    "Contrast-Consistent Search (CCS) finds a direction in a language model's hidden states that answers "
    "yes/no questions consistently, without labels. Before training, it centers the hidden states of the "
    "*yes* and *no* answers separately, which only removes the answer-token feature cleanly when half of the "
    "training statements are true. As the share **p** of training pairs whose *yes* answer is true moves away "
    "from 0.5, the centering removes part of the truth signal too, and CCS and related probes lose accuracy."
)

extract_config, sweep_config = current_extract(), current_sweep()
result = cached_run(extract_config, sweep_config)
if result is None:
    st.info(f"The demo extracts hidden states of SmolLM2-135M-Instruct for {extract_config.n_examples:,} "
            "movie-review snippets (about 3 minutes on a 2-core CPU, once), then trains every probe at "
            f"{len(sweep_config.p_levels)} levels of p with {len(sweep_config.seeds)} seeds.")
    if st.button("Run the offline demo", type="primary"):
        try:
            with st.status("Running the demo", expanded=True) as status:
                run_pipeline(extract_config, sweep_config,
                                   extract_progress=progress_callback("Extracting hidden states"),
                                   sweep_progress=progress_callback("Training probes"),
                                   status=status.write)
                status.update(label="Demo finished", state="complete", expanded=False)
            st.rerun()  # draw the finished run the way every later visit sees it
        except UserError as error:
            st.error(str(error))

if result is not None:
    metric = st.radio("Metric", ["accuracy", "auroc"], horizontal=True,
                      help="A drop in AUROC means the direction was lost; a drop in accuracy at steady AUROC "
                           "means the threshold moved.")
    provenance = describe_sweep(result.config, result.seconds, result.cached)
    summary = summarize(result.table, metric)
    title = f"{'AUROC' if metric == 'auroc' else 'Accuracy'} vs training-label imbalance"
    # theme=None: the figure looks as it does when exported (Streamlit's theme squeezes
    # layered charts with a bottom legend).
    st.altair_chart(imbalance_chart(summary, title=title), width="stretch", theme=None)
    st.caption(provenance)
