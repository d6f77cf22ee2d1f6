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


def _em_many(
    x: np.ndarray, share: np.ndarray, mean_a: np.ndarray, mean_b: np.ndarray, variance: np.ndarray, fixed: bool
) -> tuple[np.ndarray, ...]:
    """EM on every row of `x` [R, n] at once, each from its own start ([R] each); a row
    stops when its mean log-likelihood gains less than TOLERANCE. With `fixed` the shares
    stay where they start. Returns (share, mean_a, mean_b, variance, responsibility,
    likelihood), each row as EM left it."""
    floor = 1e-12 * np.maximum(x.var(axis=1), 1e-12)
    previous = np.full(len(x), -np.inf)
    active = np.ones(len(x), dtype=bool)
    responsibility = np.zeros_like(x)
    likelihood = np.full(len(x), -np.inf)
    for _ in range(EM_STEPS):
        rows = np.flatnonzero(active)
        xs, s, v = x[rows], share[rows, None], variance[rows, None]
        log_a = np.log(s) - (xs - mean_a[rows, None]) ** 2 / (2 * v)
        log_b = np.log(1 - s) - (xs - mean_b[rows, None]) ** 2 / (2 * v)
        top = np.maximum(log_a, log_b)
        total = top + np.log(np.exp(log_a - top) + np.exp(log_b - top))
        r = np.exp(log_a - total)
        responsibility[rows], likelihood[rows] = r, total.mean(axis=1) - 0.5 * np.log(variance[rows])
        if not fixed:
            share[rows] = np.clip(r.mean(axis=1), 1e-4, 1 - 1e-4)
        mean_a[rows] = (r * xs).sum(axis=1) / np.maximum(r.sum(axis=1), 1e-12)
        mean_b[rows] = ((1 - r) * xs).sum(axis=1) / np.maximum((1 - r).sum(axis=1), 1e-12)
        spread = (r * (xs - mean_a[rows, None]) ** 2 + (1 - r) * (xs - mean_b[rows, None]) ** 2).mean(axis=1)
        variance[rows] = np.maximum(spread, floor[rows])
        active[rows[likelihood[rows] - previous[rows] < TOLERANCE]] = False
        previous[rows] = likelihood[rows]
        if not active.any():
            break
    return share, mean_a, mean_b, variance, responsibility, likelihood


START_CUTS = (5, 25, 50, 75, 95)  # percentiles where the EM starts cut the scores in two


def _split_starts(x: np.ndarray, shares: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """The EM starts of every row of `x` [P, n], rows in that order: per cut of
    START_CUTS, the share above the cut, the means above and below it and the pooled
    variance (a cut with one side empty starts from the extremes). With given `shares`
    (one per row), each cut starts twice, component a above the cut and below it, since
    which side of a cut holds the share is what the fit must find."""
    starts = []
    for index, row in enumerate(x):
        share = None if shares is None else float(shares[index])
        for boundary in np.percentile(row, START_CUTS):
            above = row > boundary
            if above.all() or not above.any():
                start = (0.5, float(row.max()), float(row.min()), float(row.var()) or 1.0)
            else:
                a, b = row[above], row[~above]
                pooled = (((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()) / len(row)
                variance = float(pooled) or float(row.var()) or 1.0
                start = (float(above.mean()), float(a.mean()), float(b.mean()), variance)
            if share is None:
                starts.append(start)
            else:
                starts += [(share, *start[1:]), (share, start[2], start[1], start[3])]
    return tuple(np.array(column, dtype=np.float64) for column in zip(*starts))


def two_gaussians_many(scores: np.ndarray, share: float | np.ndarray | None = None) -> list[Mixture]:
    """two_gaussians of every row of `scores` [P, n], all fitted in one batched EM (`share`:
    one held share for every row, or one per row)."""
    x = np.asarray(scores, dtype=np.float64)
    shares = None if share is None else np.broadcast_to(np.asarray(share, dtype=np.float64), (len(x),))
    starts = len(START_CUTS) * (1 if share is None else 2)
    fitted = _em_many(np.repeat(x, starts, axis=0), *_split_starts(x, shares), fixed=share is not None)
    share_a, mean_a, mean_b, variance, responsibility, likelihood = fitted
    mixtures = []
    for row in range(len(x)):
        best = row * starts + int(np.argmax(likelihood[row * starts : (row + 1) * starts]))
        mixtures.append(
            Mixture(
                float(share_a[best]),
                float(mean_a[best]),
                float(mean_b[best]),
                float(np.sqrt(variance[best])),
                responsibility[best],
            )
        )
    return mixtures


def two_gaussians(scores: np.ndarray, share: float | None = None) -> Mixture:
    """The two-component, shared-variance Gaussian mixture of 1-D `scores` by EM, the most
    likely of several starts (cuts at the 5th, 25th, 50th, 75th and 95th percentiles, each
    side's share, mean and spread taken from the cut): one start falls near a small class
    far from a large one, where a single symmetric start settles on one wide bump. With
    `share`, component a's weight is held at it (a known prior) and only the means and
    the spread are fitted, from starts with a on either side of each cut; the likelihood
    picks the side."""
    return two_gaussians_many(np.asarray(scores)[None], share)[0]


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


def balanced_soft_labels(
    pos: torch.Tensor, neg: torch.Tensor, weights: torch.Tensor | None = None, share: float | None = None
) -> np.ndarray:
    """Each pair's probability of being in one of two estimated classes (which one is
    arbitrary), settled by EM: the consistency direction with the current soft classes
    weighted equally; the differences x+ - x-, each side centered on its equally weighted
    mean, projected on it; a two-Gaussian mixture of those projections (one class's share
    held at `share` when given); repeated until no soft label moves by more than SETTLED
    (or MAX_ROUNDS). `weights` weigh the rows."""
    balance, previous = weights, None
    for _ in range(MAX_ROUNDS):
        direction = consistency_direction(pos, neg, balance)
        mass = torch.full((len(pos),), 1 / len(pos)) if balance is None else balance / balance.sum()
        centered = (pos - mass @ pos) - (neg - mass @ neg)
        soft = two_gaussians((centered.double() @ direction.double()).numpy(), share).responsibility
        if previous is not None and min(np.abs(soft - previous).max(), np.abs(soft - (1 - previous)).max()) < SETTLED:
            break
        previous = soft
        balance = soft_balancing_weights(soft) if weights is None else soft_balancing_weights(soft) * weights
    return previous if previous is not None else soft
