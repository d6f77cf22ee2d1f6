"""The overview page in streamlit.testing's AppTest, on a tiny model: the demo button runs
the pipeline and draws the chart, a second visit comes from the cache, bad data shows an
error instead of a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import CCSConfig, DatasetSpec, ExtractConfig, ModelSpec, SweepConfig


@pytest.fixture
def tiny_configs(tiny_llama, sentiment_csv):
    extract = ExtractConfig(model=ModelSpec(model_id=str(tiny_llama)),
                            dataset=DatasetSpec(source="csv", name=str(sentiment_csv)), n_examples=40)
    sweep = SweepConfig(layer=2, p_levels=(0.5, 0.75), n_train=16, n_test=16, seeds=(0, 1),
                        ccs=CCSConfig(epochs=30, restarts=2))
    return extract, sweep


APP = str(Path(__file__).resolve().parents[2] / "app.py")


def start(extract, sweep) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.session_state["extract_config"] = extract
    app.session_state["sweep_config"] = sweep
    return app.run()


def charts(app: AppTest):
    return app.get("vega_lite_chart")


def test_demo_button_runs_then_cache_serves(tiny_configs):
    app = start(*tiny_configs)
    assert not app.exception
    assert not charts(app)
    app.button[0].click().run()
    assert not app.exception, app.exception
    assert len(charts(app)) == 1
    assert any("sign-resolved as max(acc, 1 - acc)" in c.value for c in app.caption)

    again = start(*tiny_configs)
    assert not again.exception and len(charts(again)) == 1 and len(again.button) == 0
    assert any("loaded from cache" in c.value for c in again.caption)
    # Switching the metric changes the chart's y axis.
    before = charts(again)[0].proto.spec
    again.radio[0].set_value("auroc").run()
    assert charts(again)[0].proto.spec != before and "AUROC" in charts(again)[0].proto.spec


def test_bad_data_shows_a_message(tiny_configs, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("review,label\ngood,1\nbad,0\n")
    extract, sweep = tiny_configs
    app = start(ExtractConfig(**{**extract.__dict__, "dataset": DatasetSpec(source="csv", name=str(bad))}), sweep)
    app.button[0].click().run()
    assert not app.exception
    assert "Missing column(s) ['text']" in app.error[0].value
