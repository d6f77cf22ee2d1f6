"""The dashboard as a hostile visitor meets it: a shared server that shows and reveals no
file of its own, user text that stays text, damaged cache entries and failing pages
answered with one error line. Each test id is a row of docs/robustness.md."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.config import ExtractConfig
from core.data.uploads import default_uploads
from core.extraction.extract import activation_key
from core.store.activations import ACTIVATIONS_FILE, ActivationStore
from tests.app.conftest import APP, open_page, texts


def everything_shown(app) -> str:
    """All text the page put on screen (Markdown sources, HTML bodies, widget values)."""
    parts = [
        str(element.value)
        for kind in ("markdown", "caption", "error", "info", "text", "code", "title", "subheader", "success", "warning")
        for element in getattr(app, kind)
    ]
    parts += texts(app, "html") + [str(box.value) for box in app.text_input]
    return "\n".join(parts)


@pytest.fixture
def shared_server(monkeypatch):
    monkeypatch.setenv("CCS_LAB_SHARED", "1")


def test_shared_data_page_offers_no_folders_and_no_remote_code(shared_server):
    app = open_page("app_pages/data.py")
    assert not app.exception
    app.radio[0].set_value("Hugging Face id").run()
    assert next(box for box in app.checkbox if box.label == "Trust remote code").disabled
    model_field = next(box for box in app.text_input if box.label == "Model id")
    model_field.set_value("/etc").run()
    assert any("loads no files or folders of its own" in text for text in texts(app, "error"))


def test_shared_model_field_says_the_same_for_an_existing_and_a_missing_folder_name(shared_server):
    shown = []
    for name in ("docs", "no-such-folder-xyz"):
        app = open_page("app_pages/data.py")
        app.radio[0].set_value("Hugging Face id").run()
        next(box for box in app.text_input if box.label == "Model id").set_value(name).run()
        assert not app.exception
        shown.append([text.replace(name, "NAME") for text in texts(app, "error")])
    assert shown[0] == shown[1] and shown[0]


@pytest.mark.parametrize(
    "link",
    [
        {"data": "csv:/etc/passwd::train:text:label:"},
        {"data": "hf:/etc::train:text:label:"},
        {"model": "/root"},
        {"n": "50000"},
        {"epochs": "100000"},
        {"prompt": "Review: {text} " + "very " * 1000 + "long"},
        {"pos": " " + "yes" * 100},
        {"data": "hf:owner/set::" + "s" * 300 + ":text:label:"},
    ],
    ids=[
        "csv-path",
        "hf-folder",
        "model-folder",
        "examples-over-cap",
        "epochs-over-cap",
        "prompt-over-cap",
        "completion-over-cap",
        "split-over-cap",
    ],
)
def test_shared_link_cannot_reach_files_or_exceed_the_caps(shared_server, link):
    app = open_page("app_pages/sweep.py", query=link)
    assert not app.exception
    assert any("could not be applied" in text for text in texts(app, "error"))
    assert app.session_state["extract_config"] == ExtractConfig()
    assert "root:x:" not in everything_shown(app)


def hostile_csv() -> bytes:
    rows = [
        ("fine\n\n![pixel](http://attacker.example/p.png) [x](javascript:alert(1))", 1),
        ("<script>alert(1)</script> awful", 0),
        ("=cmd|' /C calc'!A0 lovely", 1),
        ("dull $x^2$ :smile:", 0),
    ]
    return (
        pd.DataFrame(rows * 3 + [(f"plain review {i}", i % 2) for i in range(40)], columns=["text", "label"])
        .to_csv(index=False)
        .encode()
    )


def test_uploaded_text_is_shown_as_text_and_kept_with_the_session(shared_server):
    app = open_page("app_pages/data.py")
    app.radio[1].set_value("csv").run()
    app.file_uploader[0].set_value(("hostile.csv", hostile_csv(), "text/csv")).run()
    assert not app.exception
    assert any(
        "12 duplicate row(s) dropped" in text or "8 duplicate row(s) dropped" in text for text in texts(app, "caption")
    )
    for body in texts(app, "html"):
        assert "<script" not in body and "<img" not in body
    for source in [element.value for element in app.markdown] + [element.value for element in app.caption]:
        assert "![" not in source and "](" not in source
    assert not default_uploads().exists() or not any(default_uploads().iterdir())  # not in the shared cache


def data_page_with_a_set_selected(extract, sweep) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180)
    app.session_state["extract_config"], app.session_state["sweep_config"] = extract, sweep
    app.session_state["cached_sets"] = {"selection": {"rows": [0], "columns": []}}
    return app.switch_page("app_pages/data.py").run()


def test_shared_cache_listing_shows_no_paths_and_no_delete(tiny_run, monkeypatch):
    local = data_page_with_a_set_selected(*tiny_run)
    assert "Delete" in [button.label for button in local.button]  # the owner may delete
    monkeypatch.setenv("CCS_LAB_SHARED", "1")
    app = data_page_with_a_set_selected(*tiny_run)
    assert not app.exception
    assert "Delete" not in [button.label for button in app.button]
    listing = app.dataframe(key="cached_sets").value
    assert not listing.astype(str).apply(lambda column: column.str.contains("/tmp/|/root/")).any().any()


def test_a_damaged_activation_set_is_one_error_and_is_set_aside(tiny_run):
    import streamlit as st

    st.cache_resource.clear()  # layers verified and kept in memory by earlier tests stay valid there
    extract, sweep = tiny_run
    store = ActivationStore()
    key = activation_key(extract)
    with open(store.path(key) / ACTIVATIONS_FILE, "r+b") as handle:
        handle.seek(-60, os.SEEK_END)
        handle.write(b"\x00\x01\x02\x03")
    app = open_page("app_pages/inspector.py", extract, sweep)
    assert not app.exception
    assert any("failed its check" in text and "recomputed" in text for text in texts(app, "error"))
    assert not store.has(key)


def test_invalid_json_in_one_entry_does_not_break_the_data_page(tiny_run):
    extract, sweep = tiny_run
    store = ActivationStore()
    (store.path(activation_key(extract)) / "meta.json").write_text("{broken")
    app = open_page("app_pages/data.py", extract, sweep)
    assert not app.exception
    assert "damaged" in " ".join(app.dataframe(key="cached_sets").value["dataset"])


def test_a_failing_page_shows_one_error_line_not_a_traceback(tiny_run, monkeypatch):
    import core.analysis.examples

    def broken(*args, **kwargs):
        raise RuntimeError("boom at /secret/server/path.py\nsecond line")

    monkeypatch.setattr(core.analysis.examples, "example_table", broken)
    app = open_page("app_pages/inspector.py", *tiny_run)
    assert not app.exception
    assert texts(app, "error") == ["Unexpected RuntimeError: boom at path.py"]


def test_a_bad_link_leaves_the_session_unchanged(tiny_run):
    extract, sweep = tiny_run
    for link in ({"layer": "999999"}, {"seeds": "0"}, {"n_train": "0"}, {"seeds": "2.5"}):
        app = open_page("app_pages/sweep.py", extract, sweep, query=link)
        assert not app.exception
        assert app.session_state["sweep_config"] == sweep and app.session_state["extract_config"] == extract
        assert len([text for text in texts(app, "error") if "could not be applied" in text]) == 1
