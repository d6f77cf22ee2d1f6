"""CCS Imbalance Lab: the Streamlit entry point. Navigation and the shared sidebar; each
page lives in pages/ and stays thin over core/."""

import html

import streamlit as st

from ui.state import current_extract, current_sweep, dataset_name, model_name

st.set_page_config(page_title="CCS Imbalance Lab", page_icon="⚖️", layout="wide")

pages = [st.Page("pages/overview.py", title="Overview", icon="🏠", url_path="overview", default=True)]
navigation = st.navigation(pages)

with st.sidebar:
    extract_config, sweep_config = current_extract(), current_sweep()
    st.markdown("**Current run**")
    st.caption(
        f"Model: {html.escape(model_name(extract_config))}  \n"
        f"Data: {html.escape(dataset_name(extract_config))}, {extract_config.n_examples} examples  \n"
        f"Template: `{html.escape(extract_config.template.prompt[:60])}…`  \n"
        f"Layer: {sweep_config.layer}"
    )

navigation.run()
