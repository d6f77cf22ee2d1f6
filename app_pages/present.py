"""Story mode: a deck (the demo's, or one chosen with ?deck=NAME: shipped or imported from a
pack) walked one step at a time in large type, every step drawn from cached results by
core.story.registry; the step is in the URL (?step=3), Next and Back also answer the arrow keys,
speaker notes show on request, and a deck whose results are missing computes them with
one button."""

import re

import streamlit as st

from core.errors import UserError
from core.story.deck import DEFAULT_NAME, deck_by_name, deck_version
from core.story.model import Deck
from core.story.registry import compute, missing, slide
from core.story.talk_html import PAIR_SLIDE_SIZE, pair_html
from ui.cache import PageResults
from ui.progress import run_with_progress
from ui.render import chart_exports, plain, show_error, slide_mode, warm_up_charts


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_deck(name: str, version: tuple[int, ...]) -> Deck:
    """A deck by name, parsed once per server and version of its file (a Deck is frozen, so
    every session can share it; an edited or re-imported deck is read again)."""
    return deck_by_name(name)


def go_to(number: int) -> None:
    st.query_params["step"] = str(number)


def chosen_deck() -> tuple[str, Deck]:
    """The deck the URL names (?deck=), or the demo deck; a bad name shows one error."""
    name = st.query_params.get("deck", DEFAULT_NAME)
    try:
        return name, cached_deck(name, deck_version(name))
    except UserError as error:
        show_error(error)
        return DEFAULT_NAME, cached_deck(DEFAULT_NAME, deck_version(DEFAULT_NAME))


def step_number(total: int) -> int:
    """The 1-based step the URL asks for; a bad value shows one error and opens step 1."""
    text = st.query_params.get("step", "1")
    if not re.fullmatch(r"[0-9]{1,6}", text) or not 1 <= int(text) <= total:
        show_error(f"There is no step {text!r}; this deck has steps 1 to {total}.")
        return 1
    return int(text)


def compute_button(deck: Deck, results: PageResults) -> None:
    """What the deck lacks, and one button that computes it all with progress."""
    runs, views = missing(deck, results)
    st.info(
        f"This deck lacks {len(runs)} run(s) and {len(views)} measured view(s) in the cache; they are "
        "computed once, then every step draws from the cache."
    )
    if st.button("Compute this deck's results", type="primary"):
        try:
            with st.spinner("Computing this deck's results"):
                compute(deck, results, lambda run: run_with_progress(*run, "Computing a run", "Run ready"))
        except UserError as error:
            show_error(error)
        else:
            st.rerun()


slide_mode()
name, deck = chosen_deck()
results = PageResults.of_deck(deck)
number = step_number(len(deck.steps))
step = deck.steps[number - 1]
st.title(plain(step.title))
for paragraph in (part.strip() for part in step.body.split("\n\n")):
    if paragraph:
        st.markdown(plain(paragraph))

shown = None
try:
    shown = slide(step, results)
except UserError as error:
    show_error(error)
if shown is None and step.shows_results:
    compute_button(deck, results)
elif shown is not None:
    if shown.pair is not None:
        st.caption(plain(f"Example {shown.pair.example_id}: + is {'true' if shown.pair.label == 1 else 'false'}"))
        st.html(pair_html(shown.pair, size=PAIR_SLIDE_SIZE))
    if shown.chart is not None:
        st.altair_chart(shown.chart, theme=None)
    if shown.caption:
        st.caption(plain(shown.caption))
    if shown.origin:
        st.caption(plain(shown.origin[:1].upper() + shown.origin[1:]))

st.divider()
back, where, forward, notes_toggle, export = st.columns([1, 2, 1, 2, 1], vertical_alignment="center")
back.button("Back", disabled=number == 1, on_click=go_to, args=(number - 1,), shortcut="Left", width="stretch")
where.markdown(plain(f"Step {number} of {len(deck.steps)}"))
forward.button(
    "Next",
    disabled=number == len(deck.steps),
    on_click=go_to,
    args=(number + 1,),
    shortcut="Right",
    type="primary",
    width="stretch",
)
if notes_toggle.toggle("Speaker notes", key="speaker_notes") and step.notes:
    st.caption(plain(step.notes))
if shown is not None and shown.chart is not None:
    with export.popover("Export", width="stretch"):
        chart_exports(lambda: shown.chart, f"{name}-step{number}", "present_export")
else:
    warm_up_charts()
