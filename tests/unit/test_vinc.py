"""Known answers for VINC (core.probes.vinc): its objective against a plain numpy
transcription of elk's statistics, the truth direction recovered on synthetic pairs,
indifference to per-side shifts, and a consistent distractor winning once it is the
stronger anti-correlated feature, as the objective says it must."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.analysis.theory import synthetic_pairs
from core.probes.vinc import vinc_direction, vinc_objective


def elk_objective(pos: np.ndarray, neg: np.ndarray, var_weight=0.0, neg_cov_weight=0.5) -> np.ndarray:
    """elk's EigenFitter for one template, written out: hiddens [n, v=1, k=2, d]; the
    intracluster covariance over variants is zero; the intercluster one is the mean of the
    two sides' covariances; the contrastive one sums both ordered cross-covariances / k(k-1)."""
    n = len(pos)
    centered = [side - side.mean(axis=0) for side in (neg, pos)]
    intercluster = sum(c.T @ c for c in centered) / 2 / n
    contrastive = (centered[0].T @ centered[1] + centered[1].T @ centered[0]) / 2 / n
    return var_weight * intercluster - neg_cov_weight * contrastive


def cosine(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(abs(a @ b) / np.linalg.norm(a) / np.linalg.norm(b))


def test_objective_is_elks_with_its_defaults():
    data = synthetic_pairs(300, 8, p=0.7, seed=1)
    np.testing.assert_allclose(
        vinc_objective(data.pos, data.neg),
        elk_objective(data.pos.double().numpy(), data.neg.double().numpy()),
        atol=1e-10,
    )


@pytest.mark.parametrize("p", [0.5, 0.8])
def test_direction_is_the_truth_direction_on_synthetic_pairs(p):
    data = synthetic_pairs(4000, 16, p=p, truth_strength=2.0, token_offset=4.0, noise=0.3, seed=2)
    direction = vinc_direction(data.pos, data.neg)
    assert cosine(direction, data.truth_direction) > 0.99
    assert direction.norm().item() == pytest.approx(1.0, abs=1e-5)


def test_direction_ignores_a_shift_of_either_side():
    data = synthetic_pairs(500, 10, seed=3)
    shifted = vinc_direction(data.pos + 3.0, data.neg - torch.linspace(0, 2, 10))
    assert cosine(shifted, vinc_direction(data.pos, data.neg)) > 1 - 1e-9


def test_a_stronger_consistent_distractor_wins_and_a_weaker_one_does_not():
    strong = synthetic_pairs(4000, 16, truth_strength=1.0, distractor_strength=2.0, noise=0.3, seed=4)
    weak = synthetic_pairs(4000, 16, truth_strength=2.0, distractor_strength=1.0, noise=0.3, seed=4)
    assert cosine(vinc_direction(strong.pos, strong.neg), strong.distractor_direction) > 0.99
    assert cosine(vinc_direction(weak.pos, weak.neg), weak.truth_direction) > 0.99


def test_pairs_that_do_not_vary_give_a_fixed_direction():
    constant = torch.ones(20, 5)
    assert torch.equal(vinc_direction(constant, -constant), torch.tensor([1.0, 0, 0, 0, 0]))
