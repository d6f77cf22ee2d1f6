"""Issue 27 in the dashboard, in local and shared mode: opening a forged pack's deck in story
mode and pressing "Prepare the rest" measures its views into the pack's own folder; the
owner's deck then still lacks all of its own results, computes them with the same button
and draws exactly what a clean cache draws, without a word of the pack; and
removing the pack leaves no file derived from it. The pages that show runs find none of the
pack's."""

from __future__ import annotations

import pytest

from core.store.imports import imported_pack, remove_pack
from core.story.deck import parse_deck
from core.story.pack import unpack
from core.story.registry import slide
from core.story.results import Results
from tests.app.conftest import charts, open_page, texts
from tests.planted import DECK, plant_demo_activations

INSPECTOR = 3  # the planted deck's inspector step


def files(folder):
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and ".locks" not in p.parts}


def compute_step(deck: str, step: int) -> object:
    """Open `deck` at its first step, check it lacks results, press the button once; then
    open it at `step`."""
    app = open_page("app_pages/present.py", query={"deck": deck, "step": "1"})
    assert not app.exception
    [button] = [b for b in app.button if b.label == "Prepare the rest"]
    button.click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert not [b for b in app.button if b.label == "Prepare the rest"]
    return open_page("app_pages/present.py", query={"deck": deck, "step": str(step)})


@pytest.mark.parametrize("mode", ["local", "shared"])
def test_a_forged_packs_deck_computed_in_story_mode_leaves_the_owners_deck_as_a_clean_cache_draws_it(
    mode, forged_planted_pack, planted_results, tmp_path, isolated_cache, monkeypatch
):
    if mode == "shared":
        monkeypatch.setenv("CCS_LAB_SHARED", "1")
    deck, clean = parse_deck(DECK, "planted.toml"), Results(planted_results)
    expected = slide(deck.steps[INSPECTOR - 1], clean)

    shipped = tmp_path / "decks"  # the owner's own deck, shipped beside the demo's
    shipped.mkdir()
    (shipped / "owner.toml").write_text(DECK)
    monkeypatch.setattr("core.story.deck.BUNDLED_DECKS", shipped)
    plant_demo_activations(isolated_cache, seed=0)
    address, _imported, report = unpack(forged_planted_pack)

    app = compute_step(address, INSPECTOR)
    assert any(f"from pack {report.pack}" in text for text in texts(app, "caption"))
    assert len(list((imported_pack(report.pack).folder / "views").glob("*.json"))) == 3
    assert not (isolated_cache / "views").exists()

    run = deck.steps[1].configs()
    for page in ("app_pages/sweep.py", "app_pages/inspector.py", "app_pages/remedies.py"):
        app = open_page(page, *run)  # the pages read this machine's results: as in a cache without the pack
        assert not app.exception and not charts(app), page

    app = open_page("app_pages/present.py", query={"deck": "owner"})
    assert any("computes 5 run(s) and 3 measured view(s)" in text for text in texts(app, "caption"))  # none leaked
    app = compute_step("owner", INSPECTOR)
    captions = texts(app, "caption")
    assert not any("pack" in text.lower() for text in captions)
    assert f"Example {expected.pair.example_id}: + is" in " ".join(captions)
    shown = slide(parse_deck(DECK, "owner.toml").steps[INSPECTOR - 1], Results(isolated_cache))
    assert shown.pair == expected.pair and shown.origin == ""
    assert shown.chart.to_dict()["datasets"] == expected.chart.to_dict()["datasets"]

    remove_pack(report.pack)
    kept = {f for f in files(isolated_cache) if not f.startswith("activations/")}
    assert kept == {f for f in files(planted_results) if not f.startswith("activations/")}
