"""The Runs page in AppTest: it lists cached runs, two chosen overlay on one chart with
what differs in the legend, and the owner can delete a run."""

from __future__ import annotations

import dataclasses

from core.__main__ import main
from core.experiments.pipeline import run_pipeline
from core.experiments.runs import list_runs
from tests.app.conftest import charts, open_page, shown_command, texts


def test_no_runs_yet_says_how_to_make_one():
    app = open_page("app_pages/runs.py")
    assert not app.exception
    assert any("No finished runs yet" in text for text in texts(app, "info"))


def test_two_runs_overlay_on_one_chart_and_one_can_be_deleted(tiny_run):
    extract, sweep = tiny_run
    run_pipeline(extract, dataclasses.replace(sweep, test_normalization="train"), device="cpu")
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
