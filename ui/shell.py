"""The app shell (page list, navigation, shared sidebar), and a guard for Streamlit's
legacy folder mode.

Streamlit treats a folder named pages/ beside the entry script as a legacy multipage
app until the server process first runs st.navigation. On a fresh server, a shared link
to a subpage would then run that page alone, without app.py (no sidebar, no link
handling). Every page calls `require_app_shell()`: run outside the shell, it runs the
shell itself in the same script run (so the click or edit that caused the run is not
lost) and stops the bare page.
"""

from __future__ import annotations

import threading

import streamlit as st

from ui.state import apply_link, current_extract, current_sweep, dataset_name, model_name

_state = threading.local()


def app_pages() -> list:
    """The dashboard's pages, with stable URL paths."""
    return [
        st.Page("pages/overview.py", title="Overview", icon=":material/home:", url_path="overview", default=True),
        st.Page("pages/data.py", title="Data and model", icon=":material/database:", url_path="data"),
        st.Page("pages/sweep.py", title="Imbalance sweep", icon=":material/show_chart:", url_path="sweep"),
        st.Page("pages/inspector.py", title="Contrast-pair inspector", icon=":material/search:",
                url_path="inspector"),
        st.Page("pages/mechanism.py", title="Mechanism", icon=":material/settings:", url_path="mechanism"),
        st.Page("pages/layers.py", title="Layers", icon=":material/layers:", url_path="layers"),
    ]


def _sidebar() -> None:
    extract_config, sweep_config = current_extract(), current_sweep()
    st.markdown("**Current run**")
    st.text(f"Model: {model_name(extract_config)}\n"
            f"Data: {dataset_name(extract_config)}, {extract_config.n_examples} examples\n"
            f"Layer: {sweep_config.layer}\nTemplate:")
    st.code(extract_config.template.prompt + extract_config.template.positive + " / " +
            extract_config.template.negative.strip(), language=None, wrap_lines=True)


def run_app() -> None:
    """Page config, navigation, link handling and the sidebar, then the chosen page."""
    st.set_page_config(page_title="CCS Imbalance Lab", page_icon=":material/balance:", layout="wide")
    navigation = st.navigation(app_pages())
    apply_link()
    with st.sidebar:
        _sidebar()
    _state.active = True
    try:
        navigation.run()
    finally:
        _state.active = False


def require_app_shell() -> None:
    """Run the whole app shell when Streamlit ran this page on its own (legacy folder mode)."""
    if not getattr(_state, "active", False):
        run_app()
        st.stop()
