"""Links reproduce a config exactly; the CCS optimizer is chosen by name in the CLI and
named in every provenance line."""

import dataclasses

import pytest

from core.__main__ import build_parser
from core.cli.arguments import sweep_config_from
from core.config import CCSConfig
from core.errors import UserError
from core.settings.links import extract_from_params, extract_to_params, sweep_from_params, sweep_to_params
from core.settings.presets import DEMO, FAST_CCS, optimizer_name, with_optimizer
from core.views.report import chart_caption, describe_sweep

EXTRACT, SWEEP = DEMO


def test_a_changed_sweep_round_trips_through_its_link():
    changed = dataclasses.replace(
        SWEEP,
        layer=7,
        p_levels=(0.5, 0.9),
        n_train=123,
        seeds=(0, 1, 2),
        methods=("ccs", "lr_raw"),
        normalization="meanstd",
        test_normalization="train",
        ccs=dataclasses.replace(FAST_CCS, restarts=3),
    )
    params = sweep_to_params(changed)
    assert params == {
        "layer": "7",
        "p": "0.5,0.9",
        "n_train": "123",
        "seeds": "3",
        "methods": "ccs,lr_raw",
        "norm": "meanstd",
        "test_norm": "train",
        "epochs": "500",
        "lr": "0.002",
        "restarts": "3",
    }
    assert sweep_from_params(params) == changed
    assert sweep_to_params(SWEEP) == {} and sweep_from_params({}) == SWEEP


def test_a_changed_extraction_round_trips_through_its_link():
    changed = dataclasses.replace(
        EXTRACT, n_examples=50, template=dataclasses.replace(EXTRACT.template, positive=" good")
    )
    assert extract_from_params(extract_to_params(changed)) == changed


@pytest.mark.parametrize(
    "params, name",
    [
        ({"lr": "0"}, "'lr'"),
        ({"lr": "0.1,0.2"}, "'lr'"),
        ({"epochs": "many"}, "'epochs'"),
        ({"norm": "zscore"}, "'norm'"),
    ],
)
def test_bad_link_values_name_the_parameter(params, name):
    with pytest.raises(UserError, match=name):
        sweep_from_params(params)


def test_optimizers_by_name_keep_the_restarts():
    assert optimizer_name(CCSConfig()) == "reference" and optimizer_name(FAST_CCS) == "fast"
    assert optimizer_name(CCSConfig(epochs=30)) == "custom"
    fast = with_optimizer(CCSConfig(restarts=3), "fast")
    assert (fast.epochs, fast.lr, fast.restarts) == (FAST_CCS.epochs, FAST_CCS.lr, 3)


def test_cli_chooses_the_optimizer_and_explicit_values_override_it():
    parse = build_parser().parse_args
    assert sweep_config_from(parse(["sweep"])).ccs == CCSConfig()
    assert sweep_config_from(parse(["sweep", "--ccs-optimizer", "fast"])).ccs == FAST_CCS
    custom = sweep_config_from(parse(["sweep", "--ccs-optimizer", "fast", "--epochs", "100"])).ccs
    assert (custom.epochs, custom.lr) == (100, FAST_CCS.lr)


def test_provenance_names_the_optimizer():
    fast = dataclasses.replace(SWEEP, ccs=FAST_CCS)
    assert "10 restarts x 1000 AdamW epochs at lr 0.001 (reference optimizer)" in describe_sweep(SWEEP)
    assert "(fast optimizer)" in describe_sweep(fast)
    assert "CCS: fast optimizer, 10 restarts x 500 epochs at lr 0.002" in chart_caption(fast)
