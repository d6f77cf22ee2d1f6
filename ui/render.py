"""Showing user text safely: every piece of a review or a template is HTML-escaped
before it reaches the page; only the markup written here is trusted."""

from __future__ import annotations

import html
import math

import streamlit as st

from core.config import Template
from core.prompts import render_prompt

PAIR_STYLE = ("border:1px solid #ddd;border-radius:6px;padding:0.6em 0.8em;margin-bottom:0.5em;"
              "font-family:ui-monospace,monospace;font-size:0.9em;white-space:pre-wrap")


def _probability(label: str, value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else \
        f"<b>{html.escape(label)} = {value:.3f}</b>&nbsp; "


def highlighted_pair(template: Template, text: str, p_pos: float | None = None, p_neg: float | None = None) -> None:
    """Both prompts of a pair in full, the completion highlighted, with the probe's p(x+), p(x-)."""
    prompt = html.escape(render_prompt(template, text))
    for name, completion, probability in (("x+", template.positive, p_pos), ("x−", template.negative, p_neg)):
        body = f"{prompt}<mark style='background:#ffe08a'>{html.escape(completion)}</mark>"
        st.markdown(f"<div style='{PAIR_STYLE}'>{_probability('p(' + name + ')', probability)}"
                    f"<span style='color:#888'>{name}:</span> {body}</div>", unsafe_allow_html=True)
