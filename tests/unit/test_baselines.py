"""Known answers for the baseline probes: TPC against numpy's SVD, logistic regression on
separable data and against scikit-learn run to a tight tolerance."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.utils.class_weight import compute_sample_weight

from core.normalizations import fit_stats
from core.probes.crc import top_principal_component
from core.probes.supervised import fit_logistic, shifted_intercept


def test_tpc_is_the_top_right_singular_vector_of_the_centered_differences():
    generator = torch.Generator().manual_seed(0)
    pos = torch.randn(300, 40, generator=generator) * torch.linspace(0.5, 3.0, 40)
    neg = torch.randn(300, 40, generator=generator)
    differences = (pos - neg).double().numpy()
    _, _, vt = np.linalg.svd(differences - differences.mean(0), full_matrices=False)
    component = top_principal_component(pos, neg).double().numpy()
    assert abs(abs(component @ vt[0]) - 1) < 1e-6
    assert torch.equal(top_principal_component(pos, neg), top_principal_component(pos, neg))


def test_tpc_of_constant_differences_is_a_fixed_unit_vector():
    pos, neg = torch.ones(20, 8), torch.zeros(20, 8)
    assert torch.equal(top_principal_component(pos, neg), torch.eye(8)[0])


def test_logistic_regression_finds_the_separating_direction():
    generator = torch.Generator().manual_seed(1)
    labels = (torch.rand(400, generator=generator) < 0.8).numpy().astype(int)
    truth = torch.zeros(16)
    truth[3] = 1.0
    differences = torch.randn(400, 16, generator=generator) * 0.3 + torch.from_numpy(2 * labels - 1)[:, None] * truth
    weight, _, loss = fit_logistic(differences, labels)
    assert torch.nn.functional.cosine_similarity(weight, truth, dim=0) > 0.95
    assert loss < 0.1


def _offset_differences(n=120, dim=60, seed=2):
    """Non-separable differences with a large shared offset, like raw hidden-state
    differences (the offset is what slows a solver on uncentered inputs)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.7).astype(int)
    differences = rng.standard_normal((n, dim)) + 0.8 * (2 * labels - 1)[:, None] * (np.arange(dim) < 3)
    differences += 40.0 * rng.standard_normal(dim)
    return torch.from_numpy(differences).to(torch.float32), labels


def _objective(weight, intercept, differences, labels):
    """sklearn's balanced L2 logistic objective (C = 1, intercept unpenalized)."""
    x = differences.double().numpy()
    margin = (x @ weight.double().numpy() + intercept) * (2 * labels - 1)
    sample_weight = compute_sample_weight("balanced", labels)
    return float((sample_weight * np.logaddexp(0, -margin)).sum() + 0.5 * (weight.double() ** 2).sum())


def test_logistic_regression_reaches_the_optimum_of_the_uncentered_problem():
    differences, labels = _offset_differences()
    oracle = LogisticRegression(class_weight="balanced", tol=1e-12, max_iter=100_000).fit(
        differences.double().numpy(), labels
    )
    weight, intercept, loss = fit_logistic(differences, labels)
    oracle_weight = torch.from_numpy(oracle.coef_[0])
    best = _objective(oracle_weight, oracle.intercept_[0], differences, labels)
    assert _objective(weight, intercept, differences, labels) == pytest.approx(best, rel=1e-6)
    torch.testing.assert_close(weight.double(), oracle_weight, atol=1e-3, rtol=1e-3)
    # The intercept alone is ill-determined here (the offset makes it trade against the
    # weights); what the fit predicts is not.
    probability = torch.sigmoid(differences.double() @ weight.double() + intercept).numpy()
    np.testing.assert_allclose(probability, oracle.predict_proba(differences.double().numpy())[:, 1], atol=2e-3)
    assert loss == pytest.approx(log_loss(labels, oracle.predict_proba(differences.double().numpy())[:, 1]), rel=1e-4)


def test_lr_on_mean_normalized_pairs_is_lr_on_raw_differences_with_a_shifted_intercept():
    differences, labels = _offset_differences(seed=3)
    pos = differences + 5.0
    neg = torch.zeros_like(differences) - 2.0
    stats = fit_stats(pos, neg, "mean")
    pos_n, neg_n = stats.apply(pos, neg)
    direct = LogisticRegression(class_weight="balanced", tol=1e-12, max_iter=100_000).fit(
        (pos_n - neg_n).double().numpy(), labels
    )
    weight, intercept, _ = fit_logistic(pos - neg, labels)
    derived = shifted_intercept(weight, intercept, stats.mean_pos - stats.mean_neg)
    torch.testing.assert_close(weight.double(), torch.from_numpy(direct.coef_[0]), atol=1e-3, rtol=1e-3)
    assert derived == pytest.approx(direct.intercept_[0], abs=1e-3)
