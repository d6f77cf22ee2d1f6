"""Per-side normalization on noise-free synthetic pairs, where the mechanism is exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.analysis.theory import centered_truth_positions, mean_truth_shift, synthetic_pairs, truth_variance_ratio
from core.normalizations import fit_stats, normalize


def noise_free(p, a=2.0, b=6.0, n=400):
    return synthetic_pairs(n, 12, p=p, truth_strength=a, token_offset=b, noise=0.0, content_scale=1.0, seed=3)


@pytest.mark.parametrize("p", [0.5, 0.7, 0.9, 0.95])
def test_token_offset_is_removed_exactly_at_any_p(p):
    data = noise_free(p)
    pos, neg = normalize(data.pos, data.neg)
    offset = data.offset_direction
    # The constant offset contributes nothing after centering: the offset coordinate of
    # x+ and x- is only content, identical on both sides.
    torch.testing.assert_close(pos @ offset, neg @ offset, atol=1e-5, rtol=0)


@pytest.mark.parametrize("p", [0.5, 0.6, 0.8, 0.9, 0.95])
def test_centering_removes_a_2p_minus_1_share_of_truth(p):
    a = 2.0
    data = noise_free(p, a=a)
    stats = fit_stats(data.pos, data.neg)
    truth = data.truth_direction
    content_mean = (stats.mean_pos + stats.mean_neg) / 2  # the shared content's mean
    shift = ((stats.mean_pos - content_mean) @ truth).item()
    assert shift == pytest.approx(mean_truth_shift(p, a) + 0.0, abs=1e-5)
    pos, _ = stats.apply(data.pos, data.neg)
    # Remove the content's own truth coordinate to read off where examples sit.
    content = (data.pos + data.neg) / 2
    coordinate = ((pos - (content - content.mean(0))) @ truth).numpy()
    true_at, false_at = centered_truth_positions(p, a)
    np.testing.assert_allclose(coordinate[data.labels == 1], true_at, atol=1e-5)
    np.testing.assert_allclose(coordinate[data.labels == 0], false_at, atol=1e-5)
    assert coordinate.var() == pytest.approx(truth_variance_ratio(p) * (a / 2) ** 2, rel=1e-4)


def test_at_balance_nothing_of_truth_is_removed():
    data = noise_free(0.5)
    stats = fit_stats(data.pos, data.neg)
    assert abs(((stats.mean_pos - stats.mean_neg) @ data.truth_direction).item()) < 1e-5


def test_meanstd_gives_unit_variance_and_handles_constant_dimensions():
    x = torch.randn(200, 5) * torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]) + 7
    x[:, 2] = 1.5
    pos, neg = normalize(x, x * 2, "meanstd")
    std = pos.std(0, correction=0)
    torch.testing.assert_close(std[[0, 1, 3, 4]], torch.ones(4), atol=1e-5, rtol=0)
    assert torch.all(pos[:, 2] == 0) and torch.isfinite(neg).all()


def test_none_leaves_inputs_alone_and_training_stats_can_be_applied_to_test_data():
    x = torch.randn(50, 3)
    pos, neg = normalize(x, x + 1, "none")
    assert torch.equal(pos, x) and torch.equal(neg, x + 1)
    stats = fit_stats(x, x + 1, "mean")
    test_pos, test_neg = stats.apply(x[:10] + 5, x[:10])
    torch.testing.assert_close(test_pos, x[:10] + 5 - x.mean(0))
    torch.testing.assert_close(test_neg, x[:10] - x.mean(0) - 1)
