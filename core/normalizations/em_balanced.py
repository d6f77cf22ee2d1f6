"""`em_balanced`: class-balanced per-side means without labels, from soft labels that EM
estimates along the consistency direction, refined until they stop changing.

Each round: the consistency direction of the pairs (VINC's objective, with the two
estimated classes weighted equally, so truth regains the variance that imbalance took
from it); the centered differences x+ - x- projected on it; a two-component Gaussian
mixture fitted to those projections (core.normalizations.mixture), whose responsibilities
are each pair's soft label; each side's mean with the two soft classes weighted equally.
It stops when no soft label moves by more than 0.001 (or after MAX_ROUNDS).

Assumes that truth is the feature along which the two sides are most anti-correlated
(a distractor that flips with the answer more strongly wins instead, as it does for VINC
itself), and that along it the differences form two Gaussian clusters of one spread; a
mixture needs the minority class to show as a bump, so with heavily overlapping classes
at p = 0.95 its estimate is noisy. It fixes a moved threshold only, like every remedy here.
"""

from __future__ import annotations

import numpy as np
import torch

from core.normalizations.mixture import consistency_direction, soft_balancing_weights, two_gaussians
from core.normalizations.per_side import per_side_means
from core.normalizations.stats import FitInputs, NormStats

MAX_ROUNDS = 30
SETTLED = 1e-3


def fit_em_balanced(inputs: FitInputs, weights: torch.Tensor | None = None) -> NormStats:
    """Per-side means with EM's two soft classes weighing the same, iterated to stable soft labels."""
    balance = None
    stats = per_side_means(inputs, weights, "em_balanced")
    previous = None
    for _ in range(MAX_ROUNDS):
        combined = balance if weights is None else (balance * weights if balance is not None else weights)
        direction = consistency_direction(inputs.pos, inputs.neg, combined)
        pos, neg = stats.apply(inputs.pos, inputs.neg)
        mixture = two_gaussians(((pos - neg).double() @ direction.double()).numpy())
        soft = mixture.responsibility
        if previous is not None and min(np.abs(soft - previous).max(), np.abs(soft - (1 - previous)).max()) < SETTLED:
            break
        previous = soft
        balance = soft_balancing_weights(soft)
        stats = per_side_means(inputs, balance if weights is None else balance * weights, "em_balanced")
    return stats
