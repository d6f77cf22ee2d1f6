"""Story mode: a deck walked one step at a time in large type, every step drawn from cached
results by core.story.registry. The deck is the URL's (?deck=NAME: shipped, or imported
from a pack) or the one the last pack brought, else the demo's; the step is in the URL
(?step=3). Until every step is ready, one line on the first step says how many are and
prepares the rest with one button; a step not ready yet shows a quiet placeholder, never a
compute button. The
slide's chart fills the free height, and a bar fixed at the bottom holds Back, where the talk
is, Next, the decks, the speaker notes (with the settings line) and the export, in the same
place on every step; the keys a clicker sends (→, Page Down, Space; ←, Page Up) move too."""

import re

import streamlit as st

from core.errors import UserError
from core.story.deck import DEFAULT_NAME, deck_by_name, deck_entries, deck_version, default_deck_name
from core.story.model import Deck
from core.story.registry import compute, readiness, slide
from core.story.talk_html import PAIR_SLIDE_SIZE, pair_html
from core.views.style import fills_container
from ui.cache import PageResults
from ui.progress import run_with_progress
from ui.render import chart_exports, plain, show_error, slide_mode, warm_up_charts

# Keys that move a step besides the Back and Next buttons' own (Left, Right): what clickers send.
MORE_KEYS = {"PageDown": 1, "Space": 1, "PageUp": -1}


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_deck(name: str, version: tuple[int, ...]) -> Deck:
    """A deck by name, parsed once per server and version of its file (a Deck is frozen, so
    every session can share it; an edited or re-imported deck is read again)."""
    return deck_by_name(name)


def go_to(number: int) -> None:
    st.query_params["step"] = str(number)


def open_deck(name: str) -> None:
    st.query_params.from_dict({"deck": name, "step": "1"})


def chosen_deck() -> tuple[str, Deck]:
    """The deck the URL names (?deck=), else the one the last imported pack brought, else
    the demo's; a bad name shows one error and opens the demo."""
    name = st.query_params.get("deck") or default_deck_name()
    try:
        deck = cached_deck(name, deck_version(name))
    except UserError as error:
        show_error(error)
        return DEFAULT_NAME, cached_deck(DEFAULT_NAME, deck_version(DEFAULT_NAME))
    st.query_params["deck"] = name  # the link names the deck it shows, so it opens the same one elsewhere
    return name, deck


def step_number(total: int) -> int:
    """The 1-based step the URL asks for; a bad value shows one error and opens step 1."""
    text = st.query_params.get("step", "1")
    if not re.fullmatch(r"[0-9]{1,6}", text) or not 1 <= int(text) <= total:
        show_error(f"There is no step {text!r}; this deck has steps 1 to {total}.")
        return 1
    return int(text)


def readiness_line(deck: Deck, results: PageResults) -> None:
    """How many steps draw at once, and one button that prepares the rest with progress:
    on the deck's first step, before the talk, and only until every step is ready."""
    state = readiness(deck, results)
    if state.complete:
        return
    with st.container(key="slide_readiness", horizontal=True, vertical_alignment="center"):
        st.caption(plain(state.line()))
        if st.button("Prepare the rest", type="primary", icon=":material/play_arrow:"):
            try:
                with st.spinner("Preparing this deck's results"):
                    compute(deck, results, lambda run: run_with_progress(*run, "Computing a run", "Run ready"))
            except UserError as error:
                show_error(error)
            else:
                st.rerun()


def deck_chooser(current: str) -> None:
    """Every deck in the cache, shipped and imported, each with its origin; one click opens it."""
    for entry in deck_entries():
        st.button(
            plain(f"{entry.title} · {entry.origin}"),
            key=f"open_deck_{entry.name}",
            on_click=open_deck,
            args=(entry.name,),
            type="primary" if entry.name == current else "secondary",
            width="stretch",
        )


slide_mode()
name, deck = chosen_deck()
results = PageResults.of_deck(deck)
total = len(deck.steps)
number = step_number(total)
step = deck.steps[number - 1]
if number == 1:
    readiness_line(deck, results)
st.title(plain(step.title))
for paragraph in (part.strip() for part in step.body.split("\n\n")):
    if paragraph:
        st.markdown(plain(paragraph))

shown = None
try:
    shown = slide(step, results)
except UserError as error:
    show_error(error)
if step.shows_results:
    with st.container(key="slide_view", height="stretch"):
        if shown is None:
            st.caption("This step's results are not prepared yet (step 1 prepares the deck).")
        elif shown.pair is not None and shown.chart is not None:
            text, chart = st.columns([2, 3], gap="large")
            text.caption(plain(f"Example {shown.pair.example_id}: + is {'true' if shown.pair.label == 1 else 'false'}"))
            text.html(pair_html(shown.pair, size=PAIR_SLIDE_SIZE))
            chart.altair_chart(shown.chart, theme=None, height="stretch", width="stretch")
        elif shown.chart is not None and fills_container(shown.chart):
            st.altair_chart(shown.chart, theme=None, height="stretch", width="stretch")
        elif shown.chart is not None:  # composite: drawn at slide size, scaled down to a smaller screen
            with st.container(key="slide_fixed"):
                st.altair_chart(shown.chart, theme=None)

with st.container(key="slide_nav"):
    back, where, forward, decks, notes_toggle, export = st.columns([1, 4, 1, 1, 1.4, 1], vertical_alignment="center")
    back.button("Back", disabled=number == 1, on_click=go_to, args=(number - 1,), shortcut="Left", width="stretch")
    origin = shown.origin if shown is not None else ""
    where.caption(plain(f"Step {number} of {total}" + (f" · {origin}" if origin else "")))
    forward.button(
        "Next",
        disabled=number == total,
        on_click=go_to,
        args=(number + 1,),
        shortcut="Right",
        type="primary",
        width="stretch",
    )
    with decks.popover("Decks", width="stretch"):
        deck_chooser(name)
    notes = notes_toggle.toggle("Notes", key="speaker_notes", help="Speaker notes and how the numbers were computed")
    has_chart = shown is not None and shown.chart is not None
    with export.popover("Export", width="stretch", disabled=not has_chart):
        if has_chart:
            chart_exports(lambda: shown.chart, f"{name.replace('/', '-')}-step{number}", "present_export")
with st.container(key="slide_keys"):
    for key, move in MORE_KEYS.items():
        target = number + move
        st.button(
            key, key=f"key_{key}", on_click=go_to, args=(target,), shortcut=key, disabled=not 1 <= target <= total
        )
if notes and (step.notes or (shown is not None and shown.caption)):
    with st.container(key="slide_notes"):
        if step.notes:
            st.markdown(plain(step.notes))
        if shown is not None and shown.caption:
            st.caption(plain(shown.caption))
if not has_chart:
    warm_up_charts()
