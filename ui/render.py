"""Showing user text safely. Streamlit renders Markdown (and maths, emoji codes and
colour directives) in almost every element, so user-provided strings (texts, column
names, labels, file names, error details) go through `plain` before they reach one, or
into elements that show text as text (st.text, st.code, dataframes). The only HTML the
app writes is built around html-escaped text (here and in core.story.talk_html.pair_html) and
shown with st.html (no Markdown)."""

from __future__ import annotations

import logging
import re
import string

import altair as alt
import pandas as pd
import streamlit as st

from core.config import Template
from core.errors import UserError, public_message
from core.settings.schema import SETTINGS
from core.story.slides import Pair
from core.story.talk_html import pair_html
from core.text import visible_text
from core.views.export import save_chart_bytes

MODEL_FLAG, DATA_FLAG = SETTINGS["model_id"].flag, SETTINGS["name"].flag

_MARKDOWN_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
log = logging.getLogger("ccs_lab")


def plain(text: object) -> str:
    """`text` as inert Markdown: line breaks folded to spaces, control and bidirectional
    characters shown as escapes (core.text.visible_text), every ASCII punctuation character
    backslash-escaped (CommonMark's escape), so nothing in it becomes a link, image, heading,
    formula, emoji or HTML, or reorders what follows it."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", visible_text(" ".join(str(text).split())))


def show_error(error: BaseException | str) -> None:
    """One line in an error box: a UserError's message, or the type and first line of
    anything else (the traceback goes to the server log), paths shortened, as plain text."""
    if isinstance(error, BaseException):
        if not isinstance(error, UserError):
            log.error("error shown to the user", exc_info=error)
        error = public_message(error)
    st.error(plain(error), icon=":material/error:")


def highlighted_pair(template: Template, text: str, p_pos: float | None = None, p_neg: float | None = None) -> None:
    """Both prompts of a pair in full, the completion highlighted, with the probe's p(x+), p(x-)."""
    st.html(pair_html(Pair("", text, 0, template), p_pos, p_neg))


# Story mode: the sidebar, the app header and the page chrome out of sight; text at least 28
# px; the page one screen high, the step's view (.st-key-slide_view) taking the height the
# title and body leave (a composite chart, sized for a 1600 x 1000 slide, scaled down to fit a
# smaller screen); the navigation bar, and the speaker notes above it, fixed to the
# bottom of the viewport; the extra key buttons out of sight. The app's own CSS, shown with st.html.
SLIDE_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"] {display: none;}
.stMainBlockContainer {max-width: 1440px; padding: 1rem 2rem 88px; height: 100vh; box-sizing: border-box;
  display: flex; flex-direction: column;}
.stMainBlockContainer > [data-testid="stVerticalBlock"] {flex: 1 1 auto; min-height: 0;}
[data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] p {font-size: 28px; line-height: 1.4;}
[data-testid="stHeadingWithActionElements"] h1 {font-size: 52px; padding: 0.5rem 0 0.25rem;}
.st-key-slide_view {flex: 1 1 0; min-height: 0;}
.st-key-slide_view > [data-testid="stLayoutWrapper"] {flex: 1 1 0; min-height: 0;}
.st-key-slide_view [data-testid="stHorizontalBlock"] {height: 100%;}
.st-key-slide_view [data-testid="stColumn"] {display: flex; flex-direction: column;}
.st-key-slide_fixed svg.marks {max-width: 100%; max-height: calc(100vh - 330px); width: auto; height: auto;}
.st-key-slide_nav {position: fixed; left: 0; right: 0; bottom: 0; z-index: 100; background: #fff;
  border-top: 1px solid #e6e6e6; padding: 10px max(2rem, calc((100vw - 1440px) / 2 + 2rem));}
.st-key-slide_nav [data-testid="stCaptionContainer"] p, .st-key-slide_readiness p {font-size: 20px;}
.st-key-slide_notes {position: fixed; left: 0; right: 0; bottom: 70px; z-index: 99; max-height: 45vh;
  overflow: auto; background: #f7f7f7; border-top: 1px solid #ddd;
  padding: 12px max(2rem, calc((100vw - 1440px) / 2 + 2rem));}
.st-key-slide_notes p {font-size: 22px !important;}
.st-key-slide_keys, .st-key-vega_warm_up {display: none;}
</style>"""
WARM_UP_KEY = "vega_warm_up"


def slide_mode() -> None:
    """Turn the page into a slide (see SLIDE_CSS)."""
    st.html(SLIDE_CSS)


def warm_up_charts() -> None:
    """Draw a one-point chart out of sight, so the browser has loaded and compiled its
    chart renderer before the first slide with a chart (it saves about 0.6 s there)."""
    with st.container(key=WARM_UP_KEY):
        st.altair_chart(alt.Chart(pd.DataFrame({"x": [0]})).mark_point().encode(x="x:Q"), theme=None)


def chart_exports(make_chart, name: str, key: str) -> None:
    """PNG and SVG downloads of the chart `make_chart()` builds, slide-styled and at least
    1920 px wide (core.views.export.save_chart_bytes), made only when clicked."""
    for fmt in ("png", "svg"):
        st.download_button(
            f"Chart ({fmt.upper()}, 1920 px)",
            lambda fmt=fmt: save_chart_bytes(make_chart(), fmt),
            f"{name}.{fmt}",
            on_click="ignore",
            key=f"{key}_{fmt}",
        )


def reproduce(command: str, local_files: bool = False) -> None:
    """The one `python -m core ...` command that reproduces this page's view (core.cli.
    reproduce), copyable; `local_files` says that it leaves out a local model or data set."""
    with st.expander("Reproduce from the command line", icon=":material/terminal:"):
        st.code(command, language="bash", wrap_lines=True)
        note = (
            f" It leaves out the local model or data folder this run reads: add {MODEL_FLAG} or {DATA_FLAG}."
            if (local_files)
            else ""
        )
        st.caption(
            "Run it in the project's folder (with .venv/bin/python, or its environment active); it reads "
            "the same cache, so results already computed here load at once." + note
        )
