"""A tiny model's run, cached in the test's own cache, and a helper that opens a page of
the real app.py in streamlit.testing's AppTest with that run as the current one."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.__main__ import build_parser
from core.cli.arguments import extract_config_from, sweep_config_from
from core.config import CCSConfig, DatasetSpec, ExtractConfig, ModelSpec
from core.experiments.pipeline import run_pipeline
from core.extraction.runtime import Runtime
from core.settings.sweep import SweepConfig

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def tiny_run(tiny_llama, sentiment_csv):
    """Configs of a finished, cached run on the tiny model (60 examples, 2 levels, 2 seeds)."""
    extract = ExtractConfig(
        model=ModelSpec(model_id=str(tiny_llama)),
        dataset=DatasetSpec(source="csv", name=str(sentiment_csv)),
        n_examples=60,
    )
    sweep = SweepConfig(
        layer=2, p_levels=(0.5, 0.75), n_train=16, n_test=20, seeds=(0, 1), ccs=CCSConfig(epochs=30, restarts=2)
    )
    run_pipeline(extract, sweep, Runtime(device="cpu"))
    return extract, sweep


@pytest.fixture
def local_options(tiny_llama, sentiment_csv) -> tuple[str, ...]:
    """The options of tiny_run that no link or shown command carries: its local model and CSV file."""
    return ("--model", str(tiny_llama), "--dataset", "csv", "--dataset-name", str(sentiment_csv))


def open_page(
    page: str,
    extract: ExtractConfig | None = None,
    sweep: SweepConfig | None = None,
    query: dict[str, str] | None = None,
) -> AppTest:
    """Run app.py on `page` (a path under app_pages/) with the given state, as a browser
    opening that page's URL would."""
    app = AppTest.from_file(APP, default_timeout=180)
    if extract is not None:
        app.session_state["extract_config"] = extract
    if sweep is not None:
        app.session_state["sweep_config"] = sweep
    for key, value in (query or {}).items():
        app.query_params[key] = value
    return app.switch_page(page).run()


def charts(app: AppTest) -> list:
    return list(app.get("vega_lite_chart"))


def texts(app: AppTest, kind: str) -> list[str]:
    """The text of every element of `kind`, as a reader sees it (user text reaches
    Markdown elements backslash-escaped, see ui.render.plain)."""
    if kind == "html":
        return [element.proto.body for element in app.get("html")]
    return [re.sub(r"\\(.)", r"\1", element.value) for element in getattr(app, kind)]


def shown_command(app: AppTest) -> list[str]:
    """The words of the `python -m core ...` command the page shows to reproduce its view."""
    [command] = [element.value for element in app.code if element.value.startswith("python -m core ")]
    return shlex.split(command)


def command_configs(words: list[str], *local: str) -> tuple[ExtractConfig, SweepConfig]:
    """The configs a shown command runs, with the `local` options it leaves out (a local
    model or CSV file) added back, as its caption says to."""
    args = build_parser().parse_args([*words[3:], *local])
    return extract_config_from(args), sweep_config_from(args)
