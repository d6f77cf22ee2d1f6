"""What the dashboard is working on: the current extraction and sweep configs, kept in
session state so every page and the sidebar agree."""

from __future__ import annotations

import streamlit as st

from core.config import ExtractConfig, SweepConfig
from core.presets import DEMO

EXTRACT_KEY = "extract_config"
SWEEP_KEY = "sweep_config"


def current_extract() -> ExtractConfig:
    """The extraction config in use (the offline demo until the user picks another)."""
    return st.session_state.setdefault(EXTRACT_KEY, DEMO[0])


def current_sweep() -> SweepConfig:
    """The sweep config in use (the demo's until the user changes it)."""
    return st.session_state.setdefault(SWEEP_KEY, DEMO[1])


def model_name(config: ExtractConfig) -> str:
    """Display name of the configured model."""
    return "SmolLM2-135M-Instruct (bundled)" if config.model.model_id == "bundled" else config.model.model_id


def dataset_name(config: ExtractConfig) -> str:
    """Display name of the configured dataset."""
    spec = config.dataset
    if spec.source == "bundled":
        return "Rotten Tomatoes snippets (bundled)"
    return f"{spec.source}: {spec.name}"
