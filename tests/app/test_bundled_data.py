"""The Data page offers every bundled data set (core.data.bundled), each with its template."""

from __future__ import annotations

from core.data.bundled import BUNDLED_DATASETS
from tests.app.conftest import open_page


def test_the_data_page_offers_every_bundled_set_with_its_template(tiny_run):
    app = open_page("app_pages/data.py", *tiny_run)
    [source] = [r for r in app.radio if r.label == "Dataset"]
    source.set_value("bundled").run()
    box = app.selectbox(key="data_bundled_name")
    assert box.options == [entry.label for entry in BUNDLED_DATASETS.values()]
    box.set_value("larger_than").run()
    assert not app.exception
    [prompt] = [t for t in app.text_area if t.label.startswith("Prompt")]
    assert prompt.value == BUNDLED_DATASETS["larger_than"].template.prompt
