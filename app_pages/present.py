"""Story mode: the default deck (core/decks/demo.toml) walked one step at a time in large
type, every chart drawn from cached results; the step is in the URL (?step=3), Next and
Back also answer the arrow keys, and speaker notes show on request."""

import streamlit as st

from core.charts import imbalance_chart, slide_style
from core.deck import Deck, load_deck, runs_of
from core.errors import UserError
from core.metrics import summarize
from core.report import chart_caption, subtitle_lines
from ui.cache import finished_sweep
from ui.progress import run_with_progress
from ui.render import plain, show_error, slide_mode
from ui.serving import shared


@st.cache_data(show_spinner=False)
def default_deck() -> Deck:
    return load_deck()


def go_to(number: int) -> None:
    st.query_params["step"] = str(number)


def step_number(total: int) -> int:
    """The 1-based step the URL asks for; a bad value shows one error and opens step 1."""
    text = st.query_params.get("step", "1")
    if not text.isdigit() or not 1 <= int(text) <= total:
        show_error(f"There is no step {text!r}; this deck has steps 1 to {total}.")
        return 1
    return int(text)


slide_mode()
deck = default_deck()
number = step_number(len(deck.steps))
step = deck.steps[number - 1]
st.title(plain(step.title))
for paragraph in (part.strip() for part in step.body.split("\n\n")):
    if paragraph:
        st.markdown(plain(paragraph))

if step.shows_results:
    extract, sweep = step.configs(shared())
    result = finished_sweep(extract, sweep)
    if result is None:
        missing = [run for run in runs_of(deck) if finished_sweep(*run) is None]
        st.info(f"{len(missing)} of this deck's {len(runs_of(deck))} runs are not in the cache yet; they are "
                "computed once, then every step draws from the cache.")
        if st.button("Compute this deck's results", type="primary"):
            try:
                for extract_config, sweep_config in missing:
                    run_with_progress(extract_config, sweep_config, "Computing this deck's results", "Results ready")
            except UserError as error:
                show_error(error)
            else:
                st.rerun()
    else:
        metric = step.options.get("metric", "accuracy")
        methods = step.options.get("methods", sweep.methods)
        summary = summarize(result.table[result.table.method.isin(methods)], metric)
        shown = summary[summary.p <= step.options.get("reveal", 1.0) + 1e-9]
        chart = imbalance_chart(shown, title=f"{'AUROC' if metric == 'auroc' else 'Accuracy'}: mean over seeds, "
                                f"95% band", subtitle=subtitle_lines(chart_caption(sweep), 110),
                                p_levels=sweep.p_levels,
                                show_theory=step.options.get("theory", False))
        st.altair_chart(slide_style(chart), theme=None)

st.divider()
back, where, forward, notes_toggle = st.columns([1, 2, 1, 2], vertical_alignment="center")
back.button("Back", disabled=number == 1, on_click=go_to, args=(number - 1,), shortcut="Left", width="stretch")
where.markdown(f"Step {number} of {len(deck.steps)}")
forward.button("Next", disabled=number == len(deck.steps), on_click=go_to, args=(number + 1,), shortcut="Right",
               type="primary", width="stretch")
if notes_toggle.toggle("Speaker notes", key="speaker_notes") and step.notes:
    st.caption(plain(step.notes))
