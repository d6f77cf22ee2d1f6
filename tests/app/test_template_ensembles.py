"""A template ensemble in the dashboard on a tiny model: the Data page makes one, the Sweep
page names its templates and draws it, and every page that reads one template's geometry
says so in one line instead of failing."""

from __future__ import annotations

import dataclasses

from core.data.ensembles import with_templates
from core.experiments.pipeline import run_pipeline
from core.extraction.runtime import Runtime
from tests.app.conftest import charts, open_page, texts


def test_data_page_makes_an_ensemble_of_the_sets_named_templates(tiny_run):
    extract, sweep = tiny_run
    app = open_page("app_pages/data.py", extract, sweep)
    app.multiselect(key="data_templates").set_value(["sentiment", "is_negative"]).run()
    [use] = [b for b in app.button if b.label == "Use these settings"]
    use.click().run()
    assert not app.exception and not app.error
    chosen = app.session_state["extract_config"]
    assert chosen == with_templates(extract, ("sentiment", "is_negative"))


def test_pages_on_an_ensemble_draw_it_or_say_in_one_line_what_they_cannot(tiny_run):
    extract, sweep = tiny_run
    ensemble = with_templates(extract, ("sentiment", "is_positive"))
    sweep = dataclasses.replace(sweep, methods=("ccs", "tpc", "lr_norm", "random"))
    run_pipeline(ensemble, sweep, Runtime(device="cpu"))
    app = open_page("app_pages/sweep.py", ensemble, sweep)
    assert not app.exception and not app.error and charts(app)
    assert any("2-template ensemble (sentiment, is_positive)" in text for text in texts(app, "caption"))
    assert any("template ensemble of 2" in text.lower() for text in texts(app, "caption"))
    for page in ("app_pages/inspector.py", "app_pages/remedies.py", "app_pages/layers.py", "app_pages/overview.py"):
        app = open_page(page, ensemble, sweep)
        assert not app.exception and not app.error, page
    assert charts(open_page("app_pages/inspector.py", ensemble, sweep))  # scored on the mean over templates
    app = open_page("app_pages/mechanism.py", ensemble, sweep)
    [error] = texts(app, "error")
    assert not app.exception and "reads the pairs of one template; this set is a template ensemble" in error
