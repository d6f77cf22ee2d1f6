"""Two classes along one direction without labels: a two-component Gaussian mixture with a
shared variance, fitted by EM to the projections of the pairs' differences, the
consistency direction it is fitted along, and the soft labels EM settles on when the
direction is refitted with the two estimated classes weighted equally. The label-free
remedies read them: the normalizations em_balanced and prior_shift (their centers) and
the methods tpc_em and vinc_em (their covariance).

Along the truth direction the centered differences x+ - x- of a two-point model are two
clusters, the true pairs' and the false pairs', with weights p and 1 - p. Unlike 2-means
(self_balanced), a mixture with free weights does not put the boundary midway between
the clusters' means, so it does not split the larger class when the classes overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.probes.vinc import vinc_direction

EM_STEPS = 500
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Mixture:
    """A fitted mixture: component a's share and mean, component b's mean, the shared
    standard deviation, and each row's probability of belonging to component a."""

    share_a: float
    mean_a: float
    mean_b: float
    sd: float
    responsibility: np.ndarray

    @property
    def midpoint(self) -> float:
        """Halfway between the two components: where balanced classes would center."""
        return (self.mean_a + self.mean_b) / 2


def _em(x: np.ndarray, share: float, mean_a: float, mean_b: float, variance: float) -> tuple[Mixture, float]:
    """EM from one start; the fitted mixture and its mean log-likelihood."""
    floor = 1e-12 * max(float(x.var()), 1e-12)
    previous = -np.inf
    for _ in range(EM_STEPS):
        log_a = np.log(share) - (x - mean_a) ** 2 / (2 * variance)
        log_b = np.log(1 - share) - (x - mean_b) ** 2 / (2 * variance)
        top = np.maximum(log_a, log_b)
        total = top + np.log(np.exp(log_a - top) + np.exp(log_b - top))
        responsibility = np.exp(log_a - total)
        likelihood = float(total.mean()) - 0.5 * np.log(variance)
        share = float(np.clip(responsibility.mean(), 1e-4, 1 - 1e-4))
        mean_a = float((responsibility * x).sum() / max(responsibility.sum(), 1e-12))
        mean_b = float(((1 - responsibility) * x).sum() / max((1 - responsibility).sum(), 1e-12))
        variance = max(
            float((responsibility * (x - mean_a) ** 2 + (1 - responsibility) * (x - mean_b) ** 2).mean()), floor
        )
        if likelihood - previous < TOLERANCE:
            break
        previous = likelihood
    return Mixture(share, mean_a, mean_b, float(np.sqrt(variance)), responsibility), likelihood


def _split_start(x: np.ndarray, boundary: float) -> tuple[float, float, float, float]:
    """(share, mean above, mean below, pooled variance) of `x` cut at `boundary`."""
    above = x > boundary
    if above.all() or not above.any():
        return 0.5, float(x.max()), float(x.min()), float(x.var()) or 1.0
    a, b = x[above], x[~above]
    variance = (((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()) / len(x)
    return float(above.mean()), float(a.mean()), float(b.mean()), float(variance) or float(x.var()) or 1.0


def two_gaussians(scores: np.ndarray) -> Mixture:
    """The two-component, shared-variance Gaussian mixture of 1-D `scores` by EM, the most
    likely of several starts (cuts at the 5th, 25th, 50th, 75th and 95th percentiles, each
    side's share, mean and spread taken from the cut): one start falls near a small class
    far from a large one, where a single symmetric start settles on one wide bump."""
    x = np.asarray(scores, dtype=np.float64)
    fits = [_em(x, *_split_start(x, cut)) for cut in np.percentile(x, [5, 25, 50, 75, 95])]
    return max(fits, key=lambda fit: fit[1])[0]


def consistency_direction(pos: torch.Tensor, neg: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """The direction along which the two sides of a pair are most anti-correlated (VINC's
    objective, rows weighted): a feature that flips with the answer, as truth does, and
    not one both sides share, such as the kind of statement (the top principal direction
    self_balanced reads is often that)."""
    return vinc_direction(pos, neg, weights)


def soft_balancing_weights(responsibility: np.ndarray) -> torch.Tensor:
    """Row weights giving each of the two estimated classes half the mass, each row counted
    in both classes by its probability of belonging to each."""
    r = np.clip(responsibility, 0.0, 1.0)
    weights = r / (2 * max(r.sum(), 1e-12)) + (1 - r) / (2 * max((1 - r).sum(), 1e-12))
    return torch.from_numpy(weights).to(torch.float32)


MAX_ROUNDS = 30
SETTLED = 1e-3


def balanced_soft_labels(pos: torch.Tensor, neg: torch.Tensor, weights: torch.Tensor | None = None) -> np.ndarray:
    """Each pair's probability of being in one of two estimated classes (which one is
    arbitrary), settled by EM: the consistency direction with the current soft classes
    weighted equally; the differences x+ - x-, each side centered on its equally weighted
    mean, projected on it; a two-Gaussian mixture of those projections; repeated until no
    soft label moves by more than SETTLED (or MAX_ROUNDS). `weights` weigh the rows."""
    balance, previous = weights, None
    for _ in range(MAX_ROUNDS):
        direction = consistency_direction(pos, neg, balance)
        share = torch.full((len(pos),), 1 / len(pos)) if balance is None else balance / balance.sum()
        centered = (pos - share @ pos) - (neg - share @ neg)
        soft = two_gaussians((centered.double() @ direction.double()).numpy()).responsibility
        if previous is not None and min(np.abs(soft - previous).max(), np.abs(soft - (1 - previous)).max()) < SETTLED:
            break
        previous = soft
        balance = soft_balancing_weights(soft) if weights is None else soft_balancing_weights(soft) * weights
    return previous if previous is not None else soft
