"""Distractors in the dashboard on a tiny model: the Data page sets a distractor and a named
template, and the Sweep page of a run extracted with a distractor reports, per method and
p, whether its probes found truth or the words."""

from __future__ import annotations

import dataclasses

from core.config import Template
from core.data.templates import REVIEW_FAMILY
from core.experiments.pipeline import run_pipeline
from core.extraction.runtime import Runtime
from tests.app.conftest import open_page, texts


def test_data_page_sets_a_distractor_and_a_named_template(tiny_run):
    extract, sweep = tiny_run
    app = open_page("app_pages/data.py", extract, sweep)
    [box] = [b for b in app.checkbox if b.label == "Distractor words"]
    box.check().run()
    [use] = [b for b in app.button if b.label == "Use these settings"]
    use.click().run()
    assert not app.exception
    assert app.session_state["extract_config"].template.distractor == ("Banana", "Shed")
    app.selectbox(key="data_template_preset").set_value("is_negative").run()
    assert not app.exception
    assert app.session_state["extract_config"].template == REVIEW_FAMILY["is_negative"].template


def test_sweep_page_reports_truth_or_distractor(tiny_run):
    extract, sweep = tiny_run
    extract = dataclasses.replace(extract, template=Template(distractor=("Banana", "Shed")))
    run_pipeline(extract, sweep, Runtime(device="cpu"))
    app = open_page("app_pages/sweep.py", extract, sweep)
    assert not app.exception and not app.error
    assert "Truth or distractor?" in texts(app, "subheader")
    report = app.dataframe[-1].value
    assert {"truth_accuracy", "distractor_accuracy", "seeds_finding_distractor"} <= set(report.columns)
    assert len(report) == len(sweep.methods) * len(sweep.p_levels)
