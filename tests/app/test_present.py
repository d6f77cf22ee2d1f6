"""Story mode in AppTest: the default deck opens at the step its URL names, Next and Back
move through it (and the keys a clicker sends), a bad step number is one error, the first
step says how much of the deck is ready and prepares the rest with one button, and a step
that is not ready shows a quiet placeholder, never a compute button."""

from __future__ import annotations

from core.config import ExtractConfig
from core.settings.sweep import SweepConfig
from core.story.deck import load_deck
from tests.app.conftest import open_page, texts


def test_story_opens_at_step_one_and_next_moves_on():
    deck = load_deck()
    app = open_page("app_pages/present.py")
    assert not app.exception
    assert app.title[0].value.replace("\\", "") == deck.steps[0].title
    assert f"Step 1 of {len(deck.steps)}" in texts(app, "caption")
    [back] = [b for b in app.button if b.label == "Back"]
    assert back.disabled
    [forward] = [b for b in app.button if b.label == "Next"]
    forward.click().run()
    assert not app.exception
    assert app.query_params["step"] == "2" and app.title[0].value.replace("\\", "") == deck.steps[1].title


def test_a_step_in_the_url_opens_that_step_and_leaves_the_run_alone():
    deck = load_deck()
    app = open_page("app_pages/present.py", query={"step": "3"})
    assert not app.exception
    assert app.title[0].value.replace("\\", "") == deck.steps[2].title
    assert app.session_state["extract_config"] == ExtractConfig()
    assert app.session_state["sweep_config"] == SweepConfig()


def test_a_step_that_does_not_exist_is_one_error_and_opens_step_one():
    for bad in ("99", "0", "two", "-1", "²", "٣", "1.0", " 2", "9" * 400, ""):  # odd digits, spaces, no end
        app = open_page("app_pages/present.py", query={"step": bad})
        assert not app.exception
        assert len(texts(app, "error")) == 1 and "There is no step" in texts(app, "error")[0]
        assert "Step 1 of" in " ".join(texts(app, "caption"))


def test_the_first_step_says_how_much_is_ready_and_a_step_not_ready_has_no_compute_button():
    deck = load_deck()
    app = open_page("app_pages/present.py")
    assert not app.exception
    line = [text for text in texts(app, "caption") if "steps ready" in text]
    assert len(line) == 1 and line[0].startswith(f"2 of {len(deck.steps)} steps ready")  # the two text steps
    assert [b.label for b in app.button].count("Prepare the rest") == 1
    app = open_page("app_pages/present.py", query={"step": "2"})
    assert not app.exception and not app.info and not app.error
    assert any("not prepared yet" in text for text in texts(app, "caption"))
    assert not [b for b in app.button if "Prepare" in b.label or "Compute" in b.label]


def test_the_keys_a_clicker_sends_move_a_step():
    app = open_page("app_pages/present.py", query={"step": "3"})
    shortcuts = {b.proto.shortcut: b for b in app.button if b.proto.shortcut}
    assert {"right", "pagedown", "space", "left", "pageup"} <= set(shortcuts), set(shortcuts)
    shortcuts["pagedown"].click().run()
    assert app.query_params["step"] == "4"
    [page_up] = [b for b in app.button if b.proto.shortcut == "pageup"]
    page_up.click().run()
    assert app.query_params["step"] == "3"


def test_speaker_notes_show_on_request():
    deck = load_deck()
    app = open_page("app_pages/present.py")
    assert not any(deck.steps[0].notes[:20] in text for text in texts(app, "markdown"))
    app.toggle(key="speaker_notes").set_value(True).run()
    assert any(deck.steps[0].notes[:20] in text for text in texts(app, "markdown"))


def test_a_deck_parameter_that_is_a_path_or_unknown_is_one_error_and_opens_the_demo_deck():
    deck = load_deck()
    for bad in ("../../etc/passwd", "no-such-deck", "/root/x.toml"):
        app = open_page("app_pages/present.py", query={"deck": bad})
        assert not app.exception
        assert len(texts(app, "error")) == 1
        assert app.title[0].value.replace("\\", "") == deck.steps[0].title


def test_a_deck_edited_while_the_server_runs_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setattr("core.story.deck.BUNDLED_DECKS", tmp_path)  # the shipped decks' folder, to edit
    deck = tmp_path / "edited.toml"
    deck.write_text('title = "A talk"\n[[steps]]\ntype = "text"\ntitle = "The first version"\n')
    app = open_page("app_pages/present.py", query={"deck": "edited"})
    assert app.title[0].value == "The first version"
    deck.write_text('title = "A talk"\n[[steps]]\ntype = "text"\ntitle = "The version after an edit"\n')
    again = open_page("app_pages/present.py", query={"deck": "edited"})
    assert not again.exception and again.title[0].value == "The version after an edit"
