"""The Remedies page in AppTest on a tiny model: it offers to compute what is missing,
computes every remedy (extracting the companion prompts once), then draws the remedy
chart, the recovered-share table and the decomposition, and a method change redraws."""

from __future__ import annotations

from core.__main__ import main
from core.normalizations import NORMALIZATION_REGISTRY, REMEDIES
from tests.app.conftest import charts, command_configs, open_page, shown_command, texts


def test_remedies_page_computes_every_remedy_then_draws(tiny_run, local_options):
    app = open_page("app_pages/remedies.py", *tiny_run)
    assert not app.exception
    assert any("Not computed yet" in text for text in texts(app, "info"))
    assert len(charts(app)) == 2  # Burns is cached: the remedy chart (Burns only) and the decomposition
    app.button(key="remedies_compute").click().run()
    assert not app.exception, app.exception
    again = open_page("app_pages/remedies.py", *tiny_run)
    assert not again.exception and not again.error and not texts(again, "info")
    assert len(charts(again)) == 2
    shares = again.dataframe[0].value
    assert len(shares) == len(REMEDIES)  # one row per remedy at p = 0.75 (the tiny run's only high level)
    assert set(shares["remedy"]) == {NORMALIZATION_REGISTRY[remedy].label for remedy in REMEDIES}
    spec = again.get("vega_lite_chart")[0].proto.spec
    again.selectbox(key="remedies_method").set_value("lr_norm").run()
    assert not again.exception and again.get("vega_lite_chart")[0].proto.spec != spec
    words = shown_command(again)
    assert words[3] == "remedies" and words[-2:] == ["--method", "lr_norm"]
    assert command_configs(words, *local_options) == tiny_run


def test_remedies_page_with_no_remedy_chosen_shows_burns_alone(tiny_run, local_options, capsys):
    app = open_page("app_pages/remedies.py", *tiny_run)
    app.multiselect(key="remedies_chosen").set_value([]).run()
    assert not app.exception and not app.error and not texts(app, "info") and len(charts(app)) == 2
    words = shown_command(app)
    assert words[-2:] == ["--remedies", ""]  # Burns alone, on the command line too
    assert main([*words[3:], *local_options]) == 0
    assert "moved threshold + lost direction" in capsys.readouterr().out


def test_remedies_page_says_the_label_free_limit_and_draws_the_label_budget(tiny_run):
    app = open_page("app_pages/remedies.py", *tiny_run)
    assert any("sd apart with 16 pairs at p = 0.75" in text for text in texts(app, "markdown"))
    app.toggle(key="remedies_budget").set_value(True).run()
    assert not app.exception and not app.error
    assert len(charts(app)) == 3  # the remedy chart, the decomposition and the label budget
    assert any("label-budget" in element.value for element in app.code)


def test_sweep_page_says_the_label_free_limit_of_each_probe(tiny_run):
    app = open_page("app_pages/sweep.py", *tiny_run)
    assert not app.exception and not app.error
    said = [text for text in texts(app, "markdown") if "sd apart" in text]
    assert len(said) == len([m for m in tiny_run[1].methods if m != "random"])
