"""Every page of the dashboard in AppTest on a tiny model: it renders without exception, a
widget change changes what it shows, and bad input leaves an error and the old state."""

from __future__ import annotations

import dataclasses

import pandas as pd

from core.__main__ import main
from tests.app.conftest import charts, command_configs, open_page, shown_command, texts


def test_overview_offers_the_demo_and_links_a_cached_run(tiny_run):
    fresh = open_page("app_pages/overview.py")
    assert not fresh.exception
    assert [b.label for b in fresh.button] == ["Run the offline demo"]
    cached = open_page("app_pages/overview.py", *tiny_run)
    assert not cached.exception
    assert any("loaded from cache" in text for text in texts(cached, "success"))
    assert "Open the accuracy-versus-imbalance chart" in [link.label for link in cached.get("page_link")]


def test_sweep_page_chart_metric_and_rerun_with_new_settings(tiny_run):
    extract, sweep = tiny_run
    app = open_page("app_pages/sweep.py", extract, sweep)
    assert not app.exception and len(charts(app)) == 1
    before = charts(app)[0].proto.spec
    app.radio(key="metric").set_value("auroc").run()
    after = charts(app)[0].proto.spec
    assert after != before and '"AUROC"' in after
    assert app.query_params["metric"] == "auroc"

    app.number_input(key="form_sweep_seeds").set_value(3)
    app.button(key="FormSubmitter:sweep_form-Run sweep").click().run()
    assert not app.exception, app.exception
    assert app.session_state["sweep_config"].seeds == (0, 1, 2)
    cells = app.dataframe[1].value
    assert len(cells) == 5 * 2 * 3 and set(cells.seed) == {0, 1, 2}
    assert app.query_params["seeds"] == "3"
    assert any("3 seeds" in text for text in texts(app, "caption"))


def test_sweep_page_shows_the_command_that_reproduces_its_table(tiny_run, local_options, tmp_path):
    extract, sweep = tiny_run
    app = open_page("app_pages/sweep.py", extract, sweep)
    app.radio(key="metric").set_value("auroc").run()
    words = shown_command(app)
    assert words[:4] == ["python", "-m", "core", "sweep"] and words[-2:] == ["--metric", "auroc"]
    assert str(extract.model.model_id) not in words  # a link's parameters: no path
    assert any("leaves out the local model" in text for text in texts(app, "caption"))
    assert command_configs(words, *local_options) == (extract, sweep)
    out = tmp_path / "again.csv"
    assert main([*words[3:], *local_options, "--out", str(out)]) == 0
    shown = app.dataframe[1].value
    assert pd.read_csv(out)[list(shown.columns)].equals(shown.reset_index(drop=True))


def test_sweep_page_runs_the_fast_optimizer_and_says_so_on_the_chart(tiny_run):
    extract, sweep = tiny_run
    app = open_page("app_pages/sweep.py", extract, dataclasses.replace(sweep, seeds=(0,), p_levels=(0.5,)))
    assert app.radio(key="form_sweep_optimizer").value == "custom"
    app.radio(key="form_sweep_optimizer").set_value("fast")
    app.button(key="FormSubmitter:sweep_form-Run sweep").click().run()
    assert not app.exception, app.exception
    ccs = app.session_state["sweep_config"].ccs
    assert (ccs.epochs, ccs.lr, ccs.restarts) == (500, 0.002, sweep.ccs.restarts)
    assert "CCS: fast optimizer" in charts(app)[0].proto.spec
    assert any("(fast optimizer)" in text for text in texts(app, "caption"))
    assert app.query_params["epochs"] == "500" and app.query_params["lr"] == "0.002"


def test_a_link_sets_the_view_and_a_bad_link_is_reported(tiny_run):
    extract, sweep = tiny_run
    linked = open_page(
        "app_pages/sweep.py",
        extract,
        sweep,
        query={
            "seeds": "1",
            "p": "0.5,0.75",
            "layer": "2",
            "n_train": "16",
            "n_test": "20",
            "epochs": "30",
            "restarts": "2",
        },
    )
    assert not linked.exception
    assert linked.session_state["sweep_config"] == dataclasses.replace(sweep, seeds=(0,))
    assert any("has not been run yet" in text for text in texts(linked, "info"))
    bad = open_page("app_pages/sweep.py", extract, sweep, query={"seeds": "many"})
    assert not bad.exception
    assert any("could not be applied" in text and "'seeds'" in text for text in texts(bad, "error"))
    assert bad.session_state["sweep_config"] == sweep


def test_inspector_lists_test_pairs_and_filters_errors(tiny_run, local_options):
    app = open_page("app_pages/inspector.py", *tiny_run)
    assert not app.exception
    table = app.dataframe[0].value
    assert len(table) == 20 and set(table.columns) >= {"text", "+ is", "probe says + is", "p(x+)", "p(x−)", "correct"}
    assert set(table["+ is"]) <= {"true", "false"}  # labels as words
    app.toggle[0].set_value(True).run()
    errors = app.dataframe[0].value
    assert len(errors) < 20 and set(errors["correct"]) <= {"✗"}
    assert any("accuracy" in text for text in texts(app, "markdown"))
    words = shown_command(app)
    assert words[3] == "inspect" and words[-7:] == ["--method", "ccs", "--p", "0.75", "--seed", "0", "--errors"]
    assert command_configs(words, *local_options) == tiny_run


def test_mechanism_measures_and_the_playground_retrains(tiny_run):
    app = open_page("app_pages/mechanism.py", *tiny_run)
    assert not app.exception
    assert len(charts(app)) == 3  # centering, variance, direction stability
    before = app.dataframe[0].value.copy()
    distractor = next(s for s in app.slider if s.label.startswith("Distractor"))
    distractor.set_value(0.0).run()
    assert not app.exception
    assert not app.dataframe[0].value.equals(before)


def test_layers_page_scans_every_layer(tiny_run, local_options):
    app = open_page("app_pages/layers.py", *tiny_run)
    assert not app.exception and not charts(app)
    app.button(key="FormSubmitter:layer_form-Run layer scan").click().run()
    assert not app.exception, app.exception
    assert len(charts(app)) == 1
    again = open_page("app_pages/layers.py", *tiny_run)  # every layer is cached now: shown at once
    assert len(charts(again)) == 1
    assert any("CCS: custom optimizer" in text for text in texts(again, "caption"))
    words = shown_command(again)
    extract, sweep = command_configs(words, *local_options)
    assert words[3] == "layers" and "--layer" not in words and extract == tiny_run[0]
    assert (sweep.p_levels, sweep.seeds) == ((0.5, 0.95), (0, 1, 2))  # the page's own levels and seeds


def test_layers_page_offers_the_named_ccs_optimizers(tiny_run):
    app = open_page("app_pages/layers.py", *tiny_run)
    choice = app.selectbox(key="layers_optimizer")
    assert choice.options == ["Reference", "Fast", "Custom (sweep page)"]  # the tiny run's CCS is custom
    choice.set_value("fast")
    app.button(key="FormSubmitter:layer_form-Run layer scan").click().run()
    assert not app.exception, app.exception
    assert any("CCS: fast optimizer, " in text and "x 500 epochs at lr 0.002" in text for text in texts(app, "caption"))


def test_data_page_previews_and_a_bad_csv_keeps_the_previous_state(tiny_run, tmp_path):
    extract, sweep = tiny_run
    app = open_page("app_pages/data.py", extract, sweep)
    assert not app.exception
    assert sum("x+:" in text for text in texts(app, "html")) == 3
    app.radio[1].set_value("csv").run()
    one_class = pd.DataFrame({"text": ["a", "b", "c"], "label": [1, 1, 1]}).to_csv(index=False).encode()
    app.file_uploader[0].set_value(("bad.csv", one_class, "text/csv")).run()
    assert not app.exception
    assert any("Only one class" in text for text in texts(app, "error"))
    [use] = [b for b in app.button if b.label == "Use these settings"]
    use.click().run()
    assert app.session_state["extract_config"].dataset == extract.dataset  # unchanged
    good = pd.DataFrame({"review": [f"review number {i}" for i in range(80)], "y": [i % 2 for i in range(80)]})
    good = good.to_csv(index=False)
    app.file_uploader[0].set_value(("good.csv", good.encode(), "text/csv")).run()
    [text_column] = [box for box in app.selectbox if box.label == "Text column"]
    text_column.set_value("review").run()
    [use] = [b for b in app.button if b.label == "Use these settings"]
    use.click().run()
    assert not app.exception
    chosen = app.session_state["extract_config"].dataset
    assert chosen.source == "csv" and chosen.text_column == "review" and chosen.label_column == "y"
    too_small = pd.DataFrame({"review": ["fine", "awful", "great", "dull"], "y": [1, 0, 1, 0]}).to_csv(index=False)
    app.file_uploader[0].set_value(("small.csv", too_small.encode(), "text/csv")).run()
    next(box for box in app.selectbox if box.label == "Text column").set_value("review").run()
    assert any("this data is too small" in text for text in texts(app, "error"))
    assert next(b for b in app.button if b.label == "Use these settings").disabled
