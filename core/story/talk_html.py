"""A deck as one self-contained HTML file, for a room with only a browser: every step a
full-screen section (scroll, arrow or Page Down keys move between them), charts as
inline Vega-Lite drawn by the vega-embed bundle that vl-convert ships (no network) in the
presenting theme story mode uses, filling the height the title and body leave, speaker
notes and the settings line folded under each step.

All text from the deck and the data is html-escaped; chart specs are embedded as JSON
with "<" escaped, so no text can close the script that holds them.
"""

from __future__ import annotations

import html
import json
import math

from core.data.prompts import render_prompt
from core.errors import UserError
from core.story.model import Deck
from core.story.registry import slide
from core.story.results import Results
from core.story.slides import Pair

PAIR_STYLE = (
    "border:1px solid #ddd;border-radius:6px;padding:0.6em 0.8em;margin-bottom:0.5em;"
    "font-family:ui-monospace,monospace;white-space:pre-wrap"
)

PAIR_SLIDE_SIZE = "22px"
PAGE_CSS = """
html { scroll-snap-type: y mandatory; }
body { margin: 0; font-family: system-ui, sans-serif; color: #222; }
section { height: 100vh; box-sizing: border-box; padding: 1.5rem 5vw 0.5rem; scroll-snap-align: start;
          border-bottom: 1px solid #eee; display: flex; flex-direction: column; }
h1 { font-size: 52px; margin: 0 0 0.75rem; }
p { font-size: 28px; line-height: 1.4; max-width: 1400px; margin: 0 0 0.6rem; }
.view { flex: 1 1 0; min-height: 0; display: flex; gap: 2rem; }
.pair { flex: 2 1 0; }
.chart { flex: 3 1 0; min-height: 0; height: 100%; }
.caption { font-size: 20px; color: #555; }
.where { font-size: 18px; color: #888; margin: 0.3rem 0 0; }
details { font-size: 22px; color: #444; }
details p { font-size: 22px; }
"""


def _probability(label: str, value: float | None) -> str:
    return (
        ""
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"<b>{html.escape(label)} = {value:.3f}</b>&nbsp; "
    )


def pair_html(pair: Pair, p_pos: float | None = None, p_neg: float | None = None, size: str = "0.9em") -> str:
    """Both prompts of a contrast pair in full, html-escaped, the completion highlighted,
    with the probe's p(x+) and p(x-) when given, in type of `size`."""
    prompt = html.escape(render_prompt(pair.template, pair.text))
    parts = []
    for name, completion, probability in (("x+", pair.template.positive, p_pos), ("x−", pair.template.negative, p_neg)):
        parts.append(
            f"<div style='{PAIR_STYLE};font-size:{size}'>{_probability('p(' + name + ')', probability)}"
            f"<span style='color:#888'>{name}:</span> {prompt}"
            f"<mark style='background:#ffe08a'>{html.escape(completion)}</mark></div>"
        )
    return "".join(parts)


def _paragraphs(text: str, css: str = "") -> str:
    attribute = f" class='{css}'" if css else ""
    return "".join(
        f"<p{attribute}>{html.escape(' '.join(part.split()))}</p>" for part in text.split("\n\n") if part.strip()
    )


def _script_json(value) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def deck_html(deck: Deck, results: Results) -> str:
    """The HTML page of a deck whose results are all cached (UserError naming the first
    step that lacks them)."""
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    sections, specs = [], {}
    for number, step in enumerate(deck.steps, start=1):
        shown = slide(step, results)
        if shown is None:
            raise UserError(f"Step {number} ({step.title}) has no results in the cache yet; compute the deck first.")
        parts = [f"<h1>{html.escape(step.title)}</h1>", _paragraphs(step.body)]
        view = []
        if shown.pair is not None:
            truth = "true" if shown.pair.label == 1 else "false"
            view.append(
                f"<div class='pair'><p class='caption'>Example {html.escape(shown.pair.example_id)}: + is {truth}</p>"
                + pair_html(shown.pair, size=PAIR_SLIDE_SIZE)
                + "</div>"
            )
        if shown.chart is not None:
            specs[f"chart-{number}"] = shown.chart.to_dict()
            view.append(f"<div class='chart' id='chart-{number}'></div>")
        if view:
            parts.append(f"<div class='view'>{''.join(view)}</div>")
        if step.notes or shown.caption:
            notes = _paragraphs(step.notes) + _paragraphs(shown.caption, "caption")
            parts.append(f"<details><summary>Speaker notes</summary>{notes}</details>")
        origin = f" · {html.escape(shown.origin)}" if shown.origin else ""
        parts.append(f"<p class='where'>Step {number} of {len(deck.steps)}{origin}</p>")
        sections.append(f"<section id='step-{number}'>{''.join(parts)}</section>")
    bundle = vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert())
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(deck.title)}</title>"
        f"<style>{PAGE_CSS}</style><script>{bundle}</script></head><body>{''.join(sections)}"
        f"<script>const specs = {_script_json(specs)};\n"
        "for (const [id, spec] of Object.entries(specs)) {\n"
        "  vegaEmbed('#' + id, spec, {actions: false, renderer: 'svg'}).catch(console.error);\n"
        "}</script></body></html>"
    )
