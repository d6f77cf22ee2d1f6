"""CCS Imbalance Lab: the Streamlit entry point. Navigation and the shared sidebar; each
page lives in pages/ and stays thin over core/."""

import streamlit as st

from ui.state import current_extract, current_sweep, dataset_name, model_name

st.set_page_config(page_title="CCS Imbalance Lab", page_icon="⚖️", layout="wide")

pages = [st.Page("pages/overview.py", title="Overview", icon="🏠", url_path="overview", default=True)]
navigation = st.navigation(pages)

with st.sidebar:
    extract_config, sweep_config = current_extract(), current_sweep()
    st.markdown("**Current run**")
    st.text(f"Model: {model_name(extract_config)}\n"
            f"Data: {dataset_name(extract_config)}, {extract_config.n_examples} examples\n"
            f"Layer: {sweep_config.layer}\nTemplate:")
    st.code(extract_config.template.prompt + extract_config.template.positive + " / " +
            extract_config.template.negative.strip(), language=None, wrap_lines=True)

navigation.run()
