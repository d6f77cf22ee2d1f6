"""The limit of a label-free fix (core.analysis.separation): the separation measure on
classes of known distance, the information bound in its closed-form limit and against a
mixture fitted to ideal classes, the accuracy a miss costs, and the verdict sentence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.analysis.balance import ideal_mixture_miss
from core.analysis.separation import (
    COST_TOLERANCE,
    accuracy_cost,
    bound_miss,
    class_separation,
    label_free_verdict,
    midpoint_variance,
    pairs_needed,
    pairs_text,
    run_verdicts,
    tolerated_miss,
)
from core.config import CCSConfig
from core.experiments.sweep import run_sweep
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationSet
from tests.unit.test_template_ensembles import planted_templates


@pytest.mark.parametrize("distance", [0.5, 2.0, 4.0])
def test_separation_of_classes_a_known_distance_apart(distance):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 20_000)
    scores = rng.normal(0, 1, len(labels)) + distance * labels
    assert class_separation(scores * 3 + 7, labels) == pytest.approx(distance, rel=0.03)  # scale-free


def test_the_bound_reaches_the_two_sample_means_once_the_classes_stand_apart():
    # Far apart, the mixture is two labelled samples: the midpoint's variance is that of
    # (mean1 + mean0) / 2 from n p and n (1 - p) pairs of unit spread.
    for p in (0.5, 0.9, 0.95):
        assert midpoint_variance(14.0, p) == pytest.approx(0.25 * (1 / p + 1 / (1 - p)), rel=1e-3)


@pytest.mark.parametrize("separation", [3.0])
def test_the_bound_and_a_fitted_mixture_agree_on_many_pairs(separation):
    simulated = ideal_mixture_miss(separation, 0.95, 2000, repeats=60)["median_free"]
    assert simulated / bound_miss(separation, 0.95, 2000) == pytest.approx(1, abs=0.3)


def test_a_miss_costs_accuracy_as_two_shifted_gaussians_say():
    assert accuracy_cost(2.0, 0.0) == 0.0
    # Burns centering at p = 0.95 (0.9 half-gaps) on classes 2 sd apart: Phi(1) - (Phi(0.1) + Phi(1.9)) / 2
    assert accuracy_cost(2.0, 0.9) == pytest.approx(0.8413 - (0.5398 + 0.9713) / 2, abs=1e-4)
    for separation in (1.0, 1.7, 3.0):
        allowed = tolerated_miss(separation)
        assert accuracy_cost(separation, allowed) == pytest.approx(COST_TOLERANCE, abs=1e-6)
        needed = pairs_needed(separation, 0.95)
        assert bound_miss(separation, 0.95, needed) <= allowed < bound_miss(separation, 0.95, needed - 1) * 1.01


def test_the_verdict_says_no_where_the_classes_overlap_and_yes_where_they_stand_apart():
    near = label_free_verdict(1.6, 0.95, 400)
    assert not near.possible and near.needed > 400 and near.miss_burns == pytest.approx(0.9)
    assert "no label-free centering can recover the threshold" in near.sentence("CCS")
    assert f"about {near.needed:,} pairs would" in near.sentence("CCS")
    far = label_free_verdict(4.0, 0.95, 400)
    assert far.possible and "could recover" in far.sentence("CCS")
    with pytest.raises(ValueError):
        label_free_verdict(float("nan"), 0.95, 400)


def test_classes_that_barely_differ_have_nothing_to_recover_and_far_apart_ones_need_nothing():
    close = label_free_verdict(0.2, 0.95, 400)
    assert not close.separated and not close.possible and close.short() == "nothing to recover"
    assert "barely differ" in close.sentence("TPC") and "54%" in close.sentence("TPC")  # Phi(0.1)
    assert label_free_verdict(0.0, 0.95, 400).short() == "nothing to recover"
    apart = label_free_verdict(float("inf"), 0.95, 400)
    assert apart.possible and apart.short() == "possible"
    assert class_separation(np.array([1.0, 1.0, 0.0, 0.0]), np.array([1, 1, 0, 0])) == float("inf")
    assert class_separation(np.array([1.0, 1.0, 1.0, 1.0]), np.array([1, 1, 0, 0])) == 0.0
    assert "more than 10 half-gaps" in label_free_verdict(0.52, 0.95, 400).sentence("CCS")
    assert pairs_text(2_000_000) == "more than a million pairs" and pairs_text(606) == "about 606 pairs"


def test_a_run_reports_the_separation_along_each_probe():
    pos, neg, labels = planted_templates(n=1600, feature=0.0, truth=1.0, noise=0.4)
    texts = tuple(f"t{i}" for i in range(len(labels)))
    acts = ActivationSet("1" * 64, pos[:, :, 0].contiguous(), neg[:, :, 0].contiguous(), labels, texts, texts, (0,), {})
    config = SweepConfig(
        layer=0, methods=("ccs", "lr_norm", "random"), p_levels=(0.5, 0.95), seeds=(0, 1), n_train=400, n_test=400,
        ccs=CCSConfig(epochs=200, lr=2e-3),
    )  # fmt: skip
    verdicts = run_verdicts(acts, run_sweep(acts, config)).set_index("method")
    planted = 2 * 1.0 / (0.4 * math.sqrt(2))  # +-truth along u, the two sides' own noise in the difference
    assert verdicts.loc["lr_norm", "separation"] == pytest.approx(planted, rel=0.12)
    assert "random" not in verdicts.index  # a random direction has no verdict
