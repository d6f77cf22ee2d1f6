"""Known answers for the normalization registry and the remedies (core.normalizations) on
the synthetic generator, where the truth direction, the token offset and the class
balance are known: each remedy's centers carry no truth where its assumption holds, so a
probe trained at p = 0.95 scores as at p = 0.5; where an assumption fails, the error is
the one the docstring names, and self-balancing stops short under heavy overlap."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from core.analysis.balance import balance_diagnosis, ideal_mixture_miss
from core.analysis.remedies import recovered_share, remedy_summary, with_threshold_remedies
from core.analysis.theory import mean_truth_shift, synthetic_pairs
from core.config import CCSConfig
from core.errors import UserError
from core.experiments.sweep import run_sweep
from core.metrics import ESTIMATED_PRIOR, threshold_accuracy
from core.normalizations import NORMALIZATION_REGISTRY, NORMALIZATIONS, REMEDIES, fit_stats, normalize
from core.normalizations.stats import NormStats, class_balancing_weights
from core.probes.crc import top_principal_component
from core.probes.mixture import balanced_soft_labels, soft_balancing_weights, two_gaussians, two_gaussians_many
from core.probes.vinc import vinc_direction
from core.settings.sweep import SweepConfig


def imbalanced(p: float = 0.95, truth: float = 2.0, noise: float = 0.4, n: int = 2000, **options):
    return synthetic_pairs(n, 12, p=p, truth_strength=truth, token_offset=6.0, noise=noise, seed=4, **options)


def fit_on(data, kind: str) -> NormStats:
    return fit_stats(
        data.pos,
        data.neg,
        kind,
        data.labels,
        {"negation_pooled": data.negated, "content_free": data.content_free}.get(kind),
    )


def truth_in_centers(stats: NormStats, data) -> float:
    """How far the centers sit along truth, relative to a balanced set's (0 = none)."""
    return float(((stats.mean_pos - stats.mean_neg) / 2) @ data.truth_direction)


def test_every_entry_fits_saves_and_loads_itself():
    data = imbalanced(0.7)
    for kind in NORMALIZATIONS:
        stats = fit_on(data, kind)
        assert stats.kind == kind
        loaded = NormStats.from_tensors(kind, stats.to_tensors("m."), "m.")
        for field in ("mean_pos", "mean_neg", "std_pos", "std_neg"):
            a, b = getattr(stats, field), getattr(loaded, field)
            assert (a is None) == (b is None) and (a is None or torch.equal(a, b))
        assert (stats.std_pos is None) == NORMALIZATION_REGISTRY[kind].shift_only


def test_only_a_normalization_that_says_so_reads_labels():
    """Other labels, with another share of true pairs (which prior_given reads) and other
    pairs true (which the oracle reads), change only what reads labels."""
    data = imbalanced(0.8)
    other = data.labels.copy()
    other[: len(other) // 4] = 0
    for kind in NORMALIZATIONS:
        companion = {"negation_pooled": data.negated, "content_free": data.content_free}.get(kind)
        same = torch.equal(
            fit_stats(data.pos, data.neg, kind, data.labels, companion).mean_pos,
            fit_stats(data.pos, data.neg, kind, other, companion).mean_pos,
        )
        assert same != NORMALIZATION_REGISTRY[kind].uses_labels, kind


def test_prior_given_reads_only_the_share_of_true_pairs():
    data = imbalanced(0.8)
    shuffled = np.random.default_rng(0).permutation(data.labels)
    torch.testing.assert_close(
        fit_on(data, "prior_given").mean_pos, fit_stats(data.pos, data.neg, "prior_given", shuffled).mean_pos
    )


def test_an_unknown_normalization_or_a_missing_input_is_a_clear_error():
    data = imbalanced(0.8)
    with pytest.raises(UserError, match="Unknown normalization"):
        fit_stats(data.pos, data.neg, "median")
    for kind in ("oracle_balanced", "prior_given", "content_free", "negation_pooled"):
        with pytest.raises(UserError, match=kind):
            fit_stats(data.pos, data.neg, kind)


def test_sample_weights_weigh_rows():
    data = imbalanced(0.5, n=200)
    weights = torch.zeros(200)
    weights[:50] = 1.0
    stats = fit_stats(data.pos, data.neg, "mean", weights=weights)
    torch.testing.assert_close(stats.mean_pos, data.pos[:50].mean(0))


@pytest.mark.parametrize("p", [0.6, 0.8, 0.95])
def test_burns_centers_carry_the_2p_minus_1_share_and_the_label_free_remedies_none(p):
    data = imbalanced(p, truth=2.0, noise=0.3)
    assert truth_in_centers(fit_on(data, "mean"), data) == pytest.approx(mean_truth_shift(p, 2.0), abs=0.03)
    for kind in ("oracle_balanced", "content_free", "negation_pooled"):
        assert abs(truth_in_centers(fit_on(data, kind), data)) < 0.03, kind


def test_self_balancing_finds_the_oracle_centers_when_the_classes_separate():
    data = imbalanced(0.95, truth=4.0, noise=0.3)
    oracle, found = fit_on(data, "oracle_balanced"), fit_on(data, "self_balanced")
    assert abs(truth_in_centers(found, data)) < 0.02
    torch.testing.assert_close(found.mean_pos - found.mean_neg, oracle.mean_pos - oracle.mean_neg, atol=0.02, rtol=0)


def test_self_balancing_stops_between_burns_and_the_oracle_under_heavy_overlap():
    """2-means splits the larger class when the classes overlap: the documented limit."""
    data = imbalanced(0.95, truth=1.0, noise=1.0)
    burns, found = truth_in_centers(fit_on(data, "mean"), data), truth_in_centers(fit_on(data, "self_balanced"), data)
    assert 0.05 < abs(found) < abs(burns)


def test_em_balancing_finds_the_oracle_centers_where_two_means_splits_the_larger_class():
    data = imbalanced(0.95, truth=2.0, noise=0.6)
    burns = truth_in_centers(fit_on(data, "mean"), data)
    assert abs(truth_in_centers(fit_on(data, "self_balanced"), data)) > 0.3  # 2-means cut the larger class
    assert abs(truth_in_centers(fit_on(data, "em_balanced"), data)) < 0.03  # the mixture did not
    # One step along the direction found under Burns centering gets part of the way.
    assert 0.05 < abs(truth_in_centers(fit_on(data, "prior_shift"), data)) < 0.5 * abs(burns)


def test_the_given_prior_finds_the_oracle_centers_where_the_estimated_one_does():
    data = imbalanced(0.95, truth=2.0, noise=0.6)
    assert abs(truth_in_centers(fit_on(data, "prior_given"), data)) < 0.03


def test_label_free_balancing_cannot_place_heavily_overlapping_classes():
    """At p = 0.95 with the classes one noise width apart, the minority shows no bump:
    neither mixture remedy moves the centers toward the oracle's, nor does knowing the
    share of true pairs (the documented limit: the class means are lost too)."""
    data = imbalanced(0.95, truth=1.0, noise=1.0)
    burns = truth_in_centers(fit_on(data, "mean"), data)
    for kind in ("em_balanced", "prior_shift", "prior_given"):
        assert abs(truth_in_centers(fit_on(data, kind), data)) > 0.9 * abs(burns), kind


def test_a_distractor_that_flips_more_strongly_than_truth_leaves_em_balancing_at_burns():
    """The consistency direction is then the distractor's, whose two halves are balanced:
    EM finds them equal, so the weights stay even and the centers stay Burns's."""
    data = imbalanced(0.95, truth=2.0, noise=0.4, distractor_strength=4.0)
    burns, found = fit_on(data, "mean"), fit_on(data, "em_balanced")
    assert truth_in_centers(found, data) == pytest.approx(truth_in_centers(burns, data), abs=0.05)


def test_the_mixture_recovers_a_small_class_and_both_means():
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.normal(-0.4, 0.5, 1900), rng.normal(3.6, 0.5, 100)])
    mixture = two_gaussians(scores)
    small = min(mixture.share_a, 1 - mixture.share_a)
    assert small == pytest.approx(0.05, abs=0.01) and mixture.sd == pytest.approx(0.5, abs=0.03)
    assert sorted([mixture.mean_a, mixture.mean_b]) == pytest.approx([-0.4, 3.6], abs=0.1)
    assert mixture.midpoint == pytest.approx(1.6, abs=0.1)
    # With the share given, either way round, the fit finds which side holds it.
    for share, large in ((0.95, -0.4), (0.05, 3.6)):
        held = two_gaussians(scores, share)
        assert held.share_a == share and held.mean_a == pytest.approx(large, abs=0.1)


def test_the_batched_mixture_fits_each_row_as_alone():
    rng = np.random.default_rng(1)
    rows = np.stack([np.concatenate([rng.normal(0, 1, 270), rng.normal(s, 1, 30)]) for s in (0.5, 2.0, 5.0)])
    for row, fitted in zip(rows, two_gaussians_many(rows)):
        alone = two_gaussians(row)
        assert (fitted.share_a, fitted.mean_a, fitted.mean_b, fitted.sd) == (
            alone.share_a,
            alone.mean_a,
            alone.mean_b,
            alone.sd,
        )
        np.testing.assert_array_equal(fitted.responsibility, alone.responsibility)


def test_a_content_free_lean_and_a_negation_offset_are_fixed_errors_the_same_at_every_p():
    leaning = [
        truth_in_centers(fit_on(imbalanced(p, content_free_lean=0.6), "content_free"), imbalanced(p))
        for p in (0.5, 0.95)
    ]
    assert leaning[0] == pytest.approx(0.3, abs=0.02) and leaning[1] == pytest.approx(leaning[0], abs=0.02)
    offsets = []
    for p in (0.5, 0.95):
        data = imbalanced(p, negated_offset=4.0)
        stats = fit_on(data, "negation_pooled")
        offsets.append(float((stats.mean_pos - stats.mean_neg) @ data.offset_direction))
    # Pooled offset = (6 + 4) / 2 instead of 6, at every p.
    assert offsets == pytest.approx([5.0, 5.0], abs=0.05)


def sweep_table(data, normalization: str, methods: tuple[str, ...], test_normalization: str) -> pd.DataFrame:
    """Two seeds at p = 0.5 and 0.95 on the synthetic pairs `data`."""
    config = SweepConfig(
        layer=0,
        p_levels=(0.5, 0.95),
        n_train=300,
        n_test=400,
        seeds=(0, 1),
        methods=methods,
        normalization=normalization,
        test_normalization=test_normalization,
        ccs=CCSConfig(epochs=300, restarts=2),
    )
    acts = data.as_activation_set(companion=NORMALIZATION_REGISTRY[normalization].companion)
    return run_sweep(acts, config).table


def sweep_accuracy(data, normalization: str, methods: tuple[str, ...], test_normalization: str) -> dict:
    table = sweep_table(data, normalization, methods, test_normalization)
    return table.groupby(["method", "p"]).accuracy.mean().to_dict()


# Which probes lose accuracy to a moved threshold depends on how the test split is
# centered: with its own (balanced) statistics, those that learn an intercept on the
# imbalanced draw (CCS, LR); with the training statistics, those that threshold at the
# training draw's origin too (CCS, TPC).
@pytest.mark.parametrize("test_normalization, methods", [("own", ("ccs", "lr_norm")), ("train", ("ccs", "tpc"))])
@pytest.mark.parametrize("remedy", ["oracle_balanced", "em_balanced", "content_free", "negation_pooled"])
def test_a_remedy_recovers_the_balanced_accuracy_that_burns_centering_loses(remedy, test_normalization, methods):
    data = synthetic_pairs(2000, 12, truth_strength=2.0, token_offset=6.0, noise=0.6, seed=5)
    burns = sweep_accuracy(data, "mean", methods, test_normalization)
    fixed = sweep_accuracy(data, remedy, methods, test_normalization)
    for method in methods:
        assert burns[(method, 0.5)] - burns[(method, 0.95)] > 0.08, method
        assert fixed[(method, 0.95)] > fixed[(method, 0.5)] - 0.02, (remedy, method)


def test_the_remedies_are_registry_entries_with_a_stated_assumption():
    assert set(REMEDIES) == {
        "oracle_balanced",
        "self_balanced",
        "em_balanced",
        "prior_shift",
        "prior_given",
        "content_free",
        "negation_pooled",
    }
    assert not any(NORMALIZATION_REGISTRY[kind].uses_labels for kind in ("em_balanced", "prior_shift"))
    for kind in REMEDIES:
        module = __import__(f"core.normalizations.{kind}", fromlist=["_"])
        assert "Assumes" in module.__doc__, kind


def test_a_sweep_without_its_companion_attached_says_so():
    data = imbalanced(0.5, n=400)
    config = SweepConfig(
        layer=0, p_levels=(0.5,), n_train=100, n_test=100, seeds=(0,), methods=("tpc",), normalization="content_free"
    )
    with pytest.raises(UserError, match="companion"):
        run_sweep(data.as_activation_set(), config)
    assert len(run_sweep(data.as_activation_set(companion="content_free"), dataclasses.replace(config)).table) == 1


def _alignment(direction: torch.Tensor, data) -> float:
    return abs(float(direction @ data.truth_direction))


def test_em_balanced_covariance_gives_tpc_and_vinc_back_the_truth_they_lost():
    """A balanced distractor that flips as strongly as 0.8 of truth: at p = 0.8 truth keeps
    0.64 of its variance and TPC turns to the distractor. Weighing the two classes EM
    estimates equally gives truth its variance back (the consistency guide still leans on
    truth there), as the labels' own weights do."""
    data = synthetic_pairs(
        2000, 12, p=0.8, truth_strength=2.0, token_offset=6.0, noise=0.6, distractor_strength=1.6, seed=4
    )
    pos, neg = normalize(data.pos, data.neg, "mean")
    assert _alignment(top_principal_component(pos, neg), data) < 0.1
    assert _alignment(top_principal_component(pos, neg, class_balancing_weights(data.labels)), data) > 0.99
    weights = soft_balancing_weights(balanced_soft_labels(pos, neg))
    assert _alignment(top_principal_component(pos, neg, weights), data) > 0.99
    assert _alignment(vinc_direction(pos, neg), data) < 0.8 < 0.99 < _alignment(vinc_direction(pos, neg, weights), data)


def test_em_balanced_covariance_cannot_start_from_a_guide_that_lost_truth():
    """At p = 0.95 the same distractor wins the consistency direction too; along it the two
    halves are balanced, so EM's weights stay even and nothing changes (the labels' own
    weights would still find truth: the limit is the guide)."""
    data = synthetic_pairs(
        2000, 12, p=0.95, truth_strength=2.0, token_offset=6.0, noise=0.6, distractor_strength=1.2, seed=4
    )
    pos, neg = normalize(data.pos, data.neg, "mean")
    weights = soft_balancing_weights(balanced_soft_labels(pos, neg))
    assert _alignment(top_principal_component(pos, neg, class_balancing_weights(data.labels)), data) > 0.99
    assert _alignment(top_principal_component(pos, neg, weights), data) < 0.2
    assert _alignment(vinc_direction(pos, neg, weights), data) < 0.2


def test_the_balance_diagnosis_reads_the_truth_off_a_known_answer():
    """On Gaussian classes the mixture finds the share and the labels, and Burns's miss is
    |2p - 1| of the truth signal, as the two-point model says."""
    data = synthetic_pairs(1000, 12, p=0.5, truth_strength=2.0, token_offset=6.0, noise=0.6, seed=4)
    sweep = SweepConfig(layer=0, p_levels=(0.5, 0.95), n_train=300, n_test=400, seeds=(0, 1))
    table = balance_diagnosis(data.as_activation_set(), sweep).groupby("p_level").mean()
    balanced, imbalanced_draw = table.loc[0.5], table.loc[0.95]
    assert balanced.p_estimated == pytest.approx(0.5, abs=0.03) and balanced.soft_label_accuracy > 0.97
    assert balanced.guide_cosine > 0.97 and balanced.miss_mean == pytest.approx(0.0, abs=1e-6)
    assert imbalanced_draw.miss_mean == pytest.approx(0.9, abs=0.01)


def test_the_threshold_is_placed_at_the_given_value_and_flipped_with_the_accuracy():
    log_odds = np.array([[-2.0, -1.0, 1.0, 2.0], [-2.0, -1.0, 1.0, 2.0]])
    labels = np.array([0, 0, 1, 1])
    np.testing.assert_allclose(
        threshold_accuracy(labels, log_odds, np.array([0.0, 1.5]), np.array([False, True])), [1.0, 0.25]
    )


def test_the_estimated_prior_threshold_gives_back_a_moved_threshold_without_labels():
    """Well separated synthetic pairs, deployment protocol: TPC's threshold moves with
    Burns centering at p = 0.95; the midpoint of a mixture of its training scores puts it
    back (the accuracy of balance), costs nothing at balance, and reads the test split the
    same way under either protocol."""
    data = synthetic_pairs(2000, 12, truth_strength=2.0, token_offset=6.0, noise=0.6, seed=5)
    tables = {
        protocol: sweep_table(data, "mean", ("tpc",), protocol).groupby("p")[["accuracy", ESTIMATED_PRIOR]].mean()
        for protocol in ("train", "own")
    }
    deployed = tables["train"]
    assert deployed.accuracy[0.5] - deployed.accuracy[0.95] > 0.15
    assert deployed[ESTIMATED_PRIOR][0.95] > deployed.accuracy[0.5] - 0.01
    assert abs(deployed[ESTIMATED_PRIOR][0.5] - deployed.accuracy[0.5]) < 0.005
    pd.testing.assert_series_equal(deployed[ESTIMATED_PRIOR], tables["own"][ESTIMATED_PRIOR])


def test_a_threshold_remedy_is_compared_as_a_remedy_of_the_same_probes_when_deployed():
    rows = [
        {"method": "tpc", "p": p, "seed": seed, "accuracy": accuracy, ESTIMATED_PRIOR: at_prior, "auroc": 0.9}
        for seed in (0, 1, 2)
        for p, accuracy, at_prior in ((0.5, 0.9, 0.9), (0.95, 0.7, 0.8 + 0.01 * seed))
    ]
    burns = pd.DataFrame(rows).assign(normalization="mean", test_normalization="train")
    share = (
        recovered_share(with_threshold_remedies({"mean": burns}), "tpc").set_index("normalization").loc[ESTIMATED_PRIOR]
    )
    assert share.gain == pytest.approx(0.11) and share.recovered == pytest.approx(0.55)
    drawn = remedy_summary(with_threshold_remedies({"mean": burns}), "tpc")
    assert set(drawn[drawn.normalization == ESTIMATED_PRIOR].metric) == {"accuracy"}  # its AUROC is Burns's
    # Only beside Burns centering, and only as a deployment reads the test split.
    assert with_threshold_remedies({"oracle_balanced": burns}).keys() == {"oracle_balanced"}
    assert with_threshold_remedies({"mean": burns.assign(test_normalization="own")}).keys() == {"mean"}


def test_the_diagnosis_along_truth_finds_gaussian_classes_symmetric_and_their_midpoint():
    data = synthetic_pairs(1000, 12, p=0.5, truth_strength=2.0, token_offset=6.0, noise=0.6, seed=4)
    sweep = SweepConfig(layer=0, p_levels=(0.5, 0.95), n_train=300, n_test=400, seeds=(0, 1))
    table = balance_diagnosis(data.as_activation_set(), sweep).groupby("p_level").mean()
    assert (table.truth_separation_in_sd > 4).all() and (table[["skew_true", "skew_false"]].abs() < 0.5).all().all()
    assert (table.truth_miss_given < 0.05).all() and (table.truth_miss_free < 0.05).all()


def test_an_ideal_mixture_finds_the_classes_when_they_separate_and_not_when_a_small_one_overlaps():
    far = ideal_mixture_miss(6.0, 0.95, 300, repeats=20)
    assert far["median_free"] < 0.05 and far["median_given"] < 0.05
    near = ideal_mixture_miss(1.2, 0.95, 300, repeats=20)
    assert near["median_free"] > 0.3 and near["q90_given"] > 0.5  # Burns misses by 0.9
    assert ideal_mixture_miss(1.2, 0.5, 300, repeats=20)["median_given"] < 0.05
