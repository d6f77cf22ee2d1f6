"""A deck ready before the talk and legible in a room: how many steps draw at once and what
the rest costs, `present --prepare` computing exactly what is missing, the deck story mode
opens (the one just unpacked), the list of decks with their origin, and the presenting
theme (type a room reads, lines that fill a slide, line-end labels, the settings line in
the notes)."""

from __future__ import annotations

import shutil

import altair as alt
import pytest

from core.__main__ import main
from core.story.deck import DEFAULT_NAME, SHIPPED, deck_entries, default_deck_name, parse_deck
from core.story.pack import unpack
from core.story.registry import readiness, slide, step_ready
from core.story.results import Results
from core.views.style import SLIDE_LINE, SLIDE_TYPE, fills_container, slide_style
from tests.planted import DECK, pack_planted, plant_demo_activations


def test_readiness_counts_the_steps_that_draw_and_what_the_rest_computes(planted_deck, isolated_cache):
    deck, results = planted_deck
    assert readiness(deck, results).complete and readiness(deck, results).line().startswith("All ")
    shutil.rmtree(isolated_cache / "views")  # the measured views gone: their steps are not ready
    state = readiness(deck, results)
    measured = [step for step in deck.steps if step.measured]
    assert state.ready == len(deck.steps) - len(measured) and state.views == measured and state.runs == []
    assert not any(step_ready(step, results) for step in measured)
    assert state.line().startswith(f"{state.ready} of {len(deck.steps)} steps ready")


def test_an_empty_cache_has_only_its_text_steps_ready_and_no_time_to_estimate_from(isolated_cache):
    deck = parse_deck(DECK, "planted.toml")
    state = readiness(deck, Results(isolated_cache))
    assert state.ready == sum(not step.shows_results for step in deck.steps)
    assert len(state.runs) == len(deck.runs()) and state.seconds is None
    assert "about" not in state.line()


def test_present_prepare_computes_what_the_deck_lacks_then_finds_nothing_to_do(isolated_cache, tmp_path, capsys):
    plant_demo_activations(isolated_cache)
    (tmp_path / "planted.toml").write_text(DECK)
    assert main(["present", str(tmp_path / "planted.toml"), "--prepare"]) == 0
    out = capsys.readouterr().out
    deck = parse_deck(DECK, "planted.toml")
    assert f"1 of {len(deck.steps)} steps ready" in out and f"All {len(deck.steps)} steps ready" in out
    assert readiness(deck, Results(isolated_cache)).complete
    assert main(["present", str(tmp_path / "planted.toml"), "--prepare"]) == 0
    assert capsys.readouterr().out.strip().splitlines() == [f"deck 'planted': All {len(deck.steps)} steps ready"]


def test_present_needs_something_to_do(isolated_cache, capsys):
    assert main(["present"]) == 2
    assert "--prepare" in capsys.readouterr().err


def test_story_mode_opens_the_deck_just_unpacked_and_lists_every_deck_with_its_origin(planted_deck, tmp_path):
    _deck, results = planted_deck
    assert default_deck_name() == DEFAULT_NAME
    address, _, report = unpack(pack_planted(results, tmp_path))
    assert default_deck_name() == address
    entries = deck_entries()
    assert [e.origin for e in entries if e.name == DEFAULT_NAME] == [SHIPPED]
    [imported] = [e for e in entries if e.name == address]
    assert imported.title == "Planted </script> talk" and imported.origin.startswith(f"from pack {report.pack}")


def test_a_slide_fills_its_container_in_type_a_room_reads_with_the_settings_in_the_notes(planted_deck):
    deck, results = planted_deck
    for step in deck.steps:
        shown = slide(step, results)
        if shown.chart is None:
            continue
        spec = shown.chart.to_dict()
        assert spec["config"]["axis"]["labelFontSize"] >= 20 and spec["config"]["title"]["fontSize"] >= 28
        assert spec["config"]["line"]["strokeWidth"] >= 3
        if fills_container(shown.chart):
            assert (spec["width"], spec["height"]) == ("container", "container")
        if step.type == "sweep":
            assert not spec["title"].get("subtitle") and "n_train" in shown.caption  # the settings: notes
            texts = [layer["encoding"].get("text", {}).get("field") for layer in spec["layer"] if "encoding" in layer]
            assert "Method" in texts  # each line named at its end
            assert all(
                layer["encoding"]["color"].get("legend", 0) is None
                for layer in spec["layer"]
                if "color" in layer.get("encoding", {})
            )


@pytest.mark.parametrize("fill", [True, False])
def test_the_presenting_theme_sizes_single_and_composite_charts(fill):
    import pandas as pd

    data = pd.DataFrame({"x": [1, 2, 1, 2], "y": [1, 2, 2, 1], "panel": ["a", "a", "b", "b"]})
    single = slide_style(alt.Chart(data).mark_line().encode(x="x", y="y"), fill=fill).to_dict()
    assert (single["width"], single["height"]) == (("container", "container") if fill else (1360, 470))
    assert (
        single["config"]["axis"]["labelFontSize"] == SLIDE_TYPE["tick"]
        and single["config"]["line"]["strokeWidth"] == SLIDE_LINE
    )
    wrapped = alt.Chart(data).mark_line().encode(x="x", y="y").properties(width=100).facet(facet="panel:N", columns=4)
    faceted = slide_style(wrapped, fill=fill).to_dict()
    assert faceted["columns"] == 2 and faceted["spec"]["width"] == 1360 // 2 - 60
    pair = alt.hconcat(alt.Chart(data).mark_point().encode(x="x"), alt.Chart(data).mark_point().encode(x="y"))
    assert [panel["height"] for panel in slide_style(pair, fill=fill).to_dict()["hconcat"]] == [470, 470]
