"""The Runs page in AppTest: it lists cached runs, two chosen overlay on one chart with
what differs in the legend, and the owner can delete a run."""

from __future__ import annotations

import dataclasses
import json
import shutil

from core.__main__ import main
from core.experiments.pipeline import run_pipeline
from core.experiments.runs import list_runs
from core.extraction.runtime import Runtime
from tests.app.conftest import charts, open_page, shown_command, texts


def test_no_runs_yet_says_how_to_make_one():
    app = open_page("app_pages/runs.py")
    assert not app.exception
    assert any("No finished runs yet" in text for text in texts(app, "info"))


def test_two_runs_overlay_on_one_chart_and_one_can_be_deleted(tiny_run):
    extract, sweep = tiny_run
    run_pipeline(extract, dataclasses.replace(sweep, test_normalization="train"), Runtime(device="cpu"))
    records = list_runs()
    assert len(records) == 2
    app = open_page("app_pages/runs.py")
    assert not app.exception and len(app.dataframe) == 1 and len(app.dataframe[0].value) == 2
    app.multiselect(key="runs_chosen").set_value([r.key for r in records]).run()
    assert not app.exception
    [chart] = charts(app)
    spec = chart.proto.spec
    assert "test: train" in spec and "test: own" in spec  # the legend names what differs
    assert any("sign-resolved" in text for text in texts(app, "caption"))
    words = shown_command(app)
    assert words[3] == "compare" and words[4:6] == [r.key[:12] for r in records]
    assert main(words[3:]) == 0  # the same runs, from the cache
    app.multiselect(key="runs_chosen").set_value([records[0].key]).run()
    app.checkbox[0].check().run()
    [delete] = [b for b in app.button if b.label == "Delete chosen"]
    delete.click().run()
    assert not app.exception and len(list_runs()) == 1


def test_a_run_a_pack_brought_shows_its_origin_and_goes_only_with_its_pack(tiny_run, isolated_cache):
    """A run in an imported pack's folder (as unpack leaves it) is listed with its origin,
    filtered by it, not deleted by Delete chosen, and removed with its pack alone."""
    [own] = list_runs()
    folder = isolated_cache / "imported" / "talk-0123abcd"
    shutil.copytree(isolated_cache / "sweeps" / own.key, folder / "sweeps" / own.key)
    record = {"deck": "talk", "title": "T", "file_name": "talk.zip", "sha256": "0123abcd" + "0" * 56,
              "imported": 1_800_014_400}  # noon UTC, the 15th in every time zone within 11 hours  # fmt: skip
    (folder / "pack.json").write_text(json.dumps(record))
    app = open_page("app_pages/runs.py")
    assert not app.exception
    origins = list(app.dataframe[0].value["origin"])
    assert sorted(origins) == ["computed here", "from pack talk-0123abcd, imported 2027-01-15"]
    app.selectbox(key="runs_origin").set_value("talk-0123abcd").run()
    assert list(app.dataframe[0].value["origin"]) == ["from pack talk-0123abcd, imported 2027-01-15"]
    app.multiselect(key="runs_chosen").set_value([f"talk-0123abcd/{own.key}"]).run()
    assert [b.label for b in app.button if b.label in ("Delete chosen", "Remove pack")] == ["Remove pack"]
    app.checkbox[0].check().run()
    next(b for b in app.button if b.label == "Remove pack").click().run()
    assert not app.exception and not folder.exists() and [r.key for r in list_runs()] == [own.key]


def test_a_run_and_its_packs_copy_compare_under_addresses_of_their_own(tiny_run, isolated_cache, capsys):
    """This machine's run and a pack's copy of it (the same key) are told apart: the legend
    by their origin, the reproduce line by the copy's PACK_ID:KEY, which the CLI reads."""
    [own] = list_runs()
    folder = isolated_cache / "imported" / "talk-0123abcd"
    shutil.copytree(isolated_cache / "sweeps" / own.key, folder / "sweeps" / own.key)
    record = {"deck": "talk", "title": "T", "file_name": "talk.zip", "sha256": "0123abcd" + "0" * 56,
              "imported": 1_800_014_400}  # fmt: skip
    (folder / "pack.json").write_text(json.dumps(record))
    app = open_page("app_pages/runs.py")
    app.multiselect(key="runs_chosen").set_value([own.key, f"talk-0123abcd/{own.key}"]).run()
    assert not app.exception
    words = shown_command(app)
    assert words[3:6] == ["compare", own.key[:12], f"talk-0123abcd:{own.key[:12]}"]
    assert any(f"from pack talk-0123abcd, imported 2027-01-15 (run talk-0123abcd:{own.key[:12]})" in text
               for text in texts(app, "caption"))  # fmt: skip
    capsys.readouterr()
    assert main(words[3:]) == 0
    assert "origin computed here" in capsys.readouterr().out
