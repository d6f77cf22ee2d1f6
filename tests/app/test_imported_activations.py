"""An imported activation set in the dashboard: listed on the Data page beside this
machine's sets with its origin, chosen there (or by a link carrying its id), and then the
sweep, inspector, layers and remedies pages work on it, keeping what they train with it and
showing the command that reproduces each view on it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from core.__main__ import main
from core.analysis.theory import synthetic_pairs
from core.config import CCSConfig, DatasetSpec, ExtractConfig, ModelSpec
from core.experiments.runs import list_runs
from core.normalizations import NORMALIZATION_REGISTRY, REMEDIES
from core.settings.sweep import SweepConfig
from core.store.activation_files import write_activation_file
from core.store.activation_imports import import_activation_file
from core.store.activations import ActivationStore
from tests.app.conftest import charts, open_page, shown_command, texts

SWEEP = SweepConfig(
    layer=3, p_levels=(0.5, 0.9), n_train=60, n_test=80, seeds=(0, 1), ccs=CCSConfig(epochs=40, restarts=2)
)


@pytest.fixture
def imported(tmp_path):
    """A two-layer activation file with texts, imported into the test's cache."""
    data = synthetic_pairs(240, 12, p=0.5, truth_strength=2.0, token_offset=4.0, seed=4)
    path = write_activation_file(
        tmp_path / "elsewhere.safetensors",
        torch.stack([data.pos, 2 * data.pos]),
        torch.stack([data.neg, 2 * data.neg]),
        data.labels,
        layers=[3, 6],
        model="someone/big-model",
        texts=[f"claim number {i}" for i in range(240)],
    )
    found, _ = import_activation_file(path)
    return found


def with_import(page: str, identifier: str, sweep: SweepConfig = SWEEP):
    app = open_page(page, sweep=sweep, query=None)
    app.session_state["imported_activations"] = identifier
    return app.run()


def test_the_data_page_lists_an_imported_set_beside_the_local_ones_with_its_origin(imported, tiny_llama, sentiment_csv):
    local = ExtractConfig(  # a tiny model to preview: the bundled one would be converted first
        model=ModelSpec(model_id=str(tiny_llama)),
        dataset=DatasetSpec(source="csv", name=str(sentiment_csv)),
        n_examples=60,
    )
    app = open_page("app_pages/data.py", local)
    assert not app.exception and not app.error, [e.value for e in app.error]
    (listing,) = [frame.value for frame in app.dataframe if "origin" in frame.value.columns]
    assert listing.id.tolist() == [imported.id] and "imported from elsewhere.safetensors" in listing.origin.iloc[0]
    assert listing.model.iloc[0] == "someone/big-model" and listing.layers.iloc[0] == "3, 6"


def test_the_sweep_page_sweeps_an_imported_set_and_keeps_the_result_with_it(imported, tmp_path):
    app = with_import("app_pages/sweep.py", imported.id)
    assert not app.exception and not charts(app)
    assert any("imported from elsewhere.safetensors" in text for text in texts(app, "caption"))
    app.button(key="FormSubmitter:sweep_form-Run sweep").click().run()
    assert not app.exception and not app.error, app.exception
    assert len(charts(app)) == 1
    cells = app.dataframe[1].value
    assert len(cells) == 5 * 2 * 2 and set(cells.activation_key) == {imported.key}
    assert app.query_params["acts"] == imported.id  # the link names the set, never a path
    assert ActivationStore().entries() == []  # nothing of it among this machine's own sets
    (record,) = [r for r in list_runs() if r.imported == imported.id]
    assert "on activations imported from elsewhere.safetensors" in record.origin
    words = shown_command(app)
    assert words[3:6] == ["sweep", "--activations", imported.id]
    out = tmp_path / "again.csv"
    assert main([*words[3:], "--out", str(out)]) == 0  # the command reproduces the page's table
    assert pd.read_csv(out)[list(cells.columns)].equals(cells.reset_index(drop=True))


def test_a_link_with_an_import_id_opens_it_and_a_stale_one_is_reported(imported):
    app = open_page("app_pages/sweep.py", query={"acts": imported.id, "layer": "6"})
    assert not app.exception and app.session_state["imported_activations"] == imported.id
    assert app.session_state["sweep_config"].layer == 6
    bad = open_page("app_pages/sweep.py", query={"acts": "gone-0123abcd"})
    assert not bad.exception and "imported_activations" not in bad.session_state
    assert any("could not be applied" in error.value for error in bad.error)


def test_inspector_mechanism_layers_and_remedies_work_on_an_imported_set(imported):
    with_import("app_pages/sweep.py", imported.id).button(key="FormSubmitter:sweep_form-Run sweep").click().run()
    inspector = with_import("app_pages/inspector.py", imported.id)
    assert not inspector.exception and not inspector.error, [e.value for e in inspector.error]
    assert any("not the prompts" in text for text in texts(inspector, "caption"))
    table = inspector.dataframe[0].value
    assert len(table) == 80 and table.text.str.startswith("claim number").all()
    assert shown_command(inspector)[3:6] == ["inspect", "--activations", imported.id]

    mechanism = with_import("app_pages/mechanism.py", imported.id)
    assert not mechanism.exception and not mechanism.error, [e.value for e in mechanism.error]
    assert len(charts(mechanism)) >= 3

    layers = with_import("app_pages/layers.py", imported.id)
    assert not layers.exception
    layers.button(key="FormSubmitter:layer_form-Run layer scan").click().run()
    assert not layers.exception and not layers.error, layers.exception
    assert len(charts(layers)) == 1
    assert {r.config.layer for r in list_runs() if r.imported == imported.id} >= {3, 6}

    remedies = with_import("app_pages/remedies.py", imported.id, dataclasses.replace(SWEEP, methods=("ccs", "tpc")))
    assert not remedies.exception and not remedies.error
    (chosen,) = [m for m in remedies.multiselect if m.label.startswith("Remedies")]
    needing = {r for r in REMEDIES if NORMALIZATION_REGISTRY[r].companion}
    assert needing and not needing & set(chosen.options) and set(chosen.value) == set(REMEDIES) - needing
    assert np.isin(list(chosen.value), REMEDIES).all()
