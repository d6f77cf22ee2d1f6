"""Known answers for the mass-mean probe and LDA (core.probes.mass_mean): each against a
plain numpy implementation, the covariance correction recovering the Bayes direction
where the class means alone point elsewhere, the threshold midway, invariance to a
shift of the inputs (what lets the sweep share one raw fit), and, in a sweep on planted
pairs, the imbalance moving their threshold but not their ranking."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core.analysis.theory import synthetic_pairs
from core.experiments.sweep import run_sweep
from core.probes.mass_mean import fit_lda, fit_mass_mean
from core.probes.supervised import shifted_intercept
from core.settings.sweep import SweepConfig


def anisotropic(n: int = 6000, dim: int = 6, seed: int = 0):
    """Differences whose classes sit at +-mu under correlated noise: the mass-mean points
    along mu, the Bayes direction along inverse(Sigma) mu, which differs."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], n // 2)
    mu = np.array([1.0, 0.5, 0, 0, 0, 0])[:dim]
    mixing = np.eye(dim) + 0.9 * np.outer(np.ones(dim), np.eye(dim)[0])
    sigma = mixing @ mixing.T
    noise = rng.standard_normal((n, dim)) @ mixing.T
    differences = (2 * labels - 1)[:, None] * mu + noise
    return torch.from_numpy(differences).to(torch.float32), labels, mu, sigma


def cosine(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_mass_mean_is_the_difference_of_the_class_means_with_a_midway_threshold():
    differences, labels, _, _ = anisotropic()
    weight, bias, _ = fit_mass_mean(differences, labels)
    x = differences.double().numpy()
    means = x[labels == 1].mean(0), x[labels == 0].mean(0)
    assert np.allclose(weight.numpy(), means[0] - means[1], atol=1e-5)
    assert np.isclose(bias, -(means[0] - means[1]) @ (means[0] + means[1]) / 2, atol=1e-4)


def test_lda_corrects_the_mass_mean_by_the_within_class_covariance():
    differences, labels, mu, sigma = anisotropic()
    x = differences.double().numpy()
    pooled = np.cov(np.vstack([x[labels == c] - x[labels == c].mean(0) for c in (0, 1)]).T)
    oracle = np.linalg.solve(pooled, x[labels == 1].mean(0) - x[labels == 0].mean(0))
    weight, bias, _ = fit_lda(differences, labels)
    assert cosine(weight, oracle) > 0.999
    assert cosine(weight, np.linalg.solve(sigma, mu)) > 0.99
    assert cosine(fit_mass_mean(differences, labels)[0], np.linalg.solve(sigma, mu)) < 0.9  # the correction matters
    scores = x @ weight.double().numpy() + bias
    assert abs(np.median(scores[labels == 1]) + np.median(scores[labels == 0])) < 0.1 * np.ptp(scores)  # midway


@pytest.mark.parametrize("fit", [fit_mass_mean, fit_lda])
def test_a_shift_of_every_input_moves_only_the_intercept(fit):
    differences, labels, _, _ = anisotropic(n=800)
    shift = torch.linspace(-30, 30, differences.shape[1])
    weight, bias, _ = fit(differences, labels)
    moved_weight, moved_bias, _ = fit(differences - shift, labels)
    assert torch.allclose(weight, moved_weight, atol=1e-4)
    assert np.isclose(moved_bias, shifted_intercept(weight, bias, shift), atol=1e-3)


def test_in_a_sweep_imbalance_moves_their_threshold_not_their_ranking():
    data = synthetic_pairs(4000, 16, truth_strength=2.0, token_offset=4.0, noise=0.5, seed=3)
    config = SweepConfig(
        layer=0, p_levels=(0.5, 0.95), n_train=400, n_test=600, seeds=(0, 1, 2), methods=("mass_mean", "lda")
    )
    table = run_sweep(data.as_activation_set("planted"), config).table
    by = table.groupby(["method", "p"])[["accuracy", "auroc"]].mean()
    for method in config.methods:
        assert by.loc[(method, 0.5), "accuracy"] > 0.95
        assert by.loc[(method, 0.95), "auroc"] > 0.95  # still ranks the pairs right
        assert by.loc[(method, 0.95), "accuracy"] < by.loc[(method, 0.5), "accuracy"] - 0.1  # the threshold slid
    direct = run_sweep(data.as_activation_set("planted"), dataclasses.replace(config, normalization="none")).table
    assert direct.groupby("p").accuracy.mean().min() > 0.95  # on raw differences nothing moves
