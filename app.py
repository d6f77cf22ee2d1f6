"""CCS Imbalance Lab: the Streamlit entry point. Navigation with stable URL paths, link
handling and the shared sidebar; each page lives in app_pages/ and stays thin over core/.

(The folder is not called pages/: Streamlit runs a pages/ folder beside the entry
script as a legacy multipage app until st.navigation first runs, and a first visit to
a page's URL on a fresh server then showed "Page not found".)"""

import streamlit as st

from ui.render import show_error
from ui.serving import shared
from ui.state import apply_link, current_extract, current_import, current_sweep, dataset_name, model_name, source_name

st.set_page_config(page_title="CCS Imbalance Lab", page_icon=":material/balance:", layout="wide")
navigation = st.navigation(
    [
        st.Page("app_pages/overview.py", title="Overview", icon=":material/home:", default=True),  # at /
        st.Page("app_pages/data.py", title="Data and model", icon=":material/database:", url_path="data"),
        st.Page("app_pages/sweep.py", title="Imbalance sweep", icon=":material/show_chart:", url_path="sweep"),
        st.Page(
            "app_pages/inspector.py", title="Contrast-pair inspector", icon=":material/search:", url_path="inspector"
        ),
        st.Page("app_pages/mechanism.py", title="Mechanism", icon=":material/settings:", url_path="mechanism"),
        st.Page("app_pages/layers.py", title="Layers", icon=":material/layers:", url_path="layers"),
        st.Page("app_pages/remedies.py", title="Remedies", icon=":material/healing:", url_path="remedies"),
        st.Page("app_pages/runs.py", title="Runs", icon=":material/stacked_line_chart:", url_path="runs"),
        st.Page("app_pages/present.py", title="Story mode", icon=":material/slideshow:", url_path="present"),
    ]
)


def sidebar() -> None:
    """The current run, in plain text (every value may come from a user)."""
    extract_config, sweep_config = current_extract(), current_sweep()
    st.markdown("**Current run**")
    imported = current_import()
    if imported is not None:  # an imported activation set in place of an extraction
        st.text(f"Activations: {source_name(imported)}\nLayer: {sweep_config.layer}")
        return
    st.text(
        f"Model: {model_name(extract_config)}\n"
        f"Data: {dataset_name(extract_config)}, {extract_config.n_examples} examples\n"
        f"Layer: {sweep_config.layer}\nTemplate:"
    )
    st.code(
        extract_config.template.prompt
        + extract_config.template.positive
        + " / "
        + extract_config.template.negative.strip(),
        language=None,
        wrap_lines=True,
    )
    if shared():
        st.caption(
            "Shared server: bundled or hub models and data, or your own CSV uploads (kept with this browser "
            "session only); sizes are capped."
        )


try:  # no page shows a traceback: one line here, the traceback in the server log
    apply_link()
    with st.sidebar:
        sidebar()
    navigation.run()
except Exception as error:
    show_error(error)
