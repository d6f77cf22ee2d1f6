"""`em_balanced`: class-balanced per-side means without labels, from soft labels that EM
estimates along the consistency direction, refined until they stop changing.

The soft labels are core.probes.mixture.balanced_soft_labels: each round, the
consistency direction of the pairs (VINC's objective, with the two estimated classes
weighted equally, so truth regains the variance that imbalance took from it); the
differences x+ - x-, centered with the classes balanced, projected on it; a
two-component Gaussian mixture of those projections, whose responsibilities are each
pair's soft label; until no soft label moves by more than 0.001. Each side's mean then
weighs the two soft classes equally.

Assumes that truth is the feature along which the two sides are most anti-correlated
(a distractor that flips with the answer more strongly wins instead, as it does for VINC
itself), and that along it the differences form two Gaussian clusters of one spread; a
mixture needs the minority class to show as a bump, so with heavily overlapping classes
at p = 0.95 its estimate is noisy. It fixes a moved threshold only, like every remedy here.
"""

from __future__ import annotations

import torch

from core.normalizations.per_side import per_side_means
from core.normalizations.stats import FitInputs, NormStats
from core.probes.mixture import balanced_soft_labels, soft_balancing_weights


def fit_em_balanced(inputs: FitInputs, weights: torch.Tensor | None = None) -> NormStats:
    """Per-side means with EM's two soft classes weighing the same."""
    balance = soft_balancing_weights(balanced_soft_labels(inputs.pos, inputs.neg, weights))
    return per_side_means(inputs, balance if weights is None else balance * weights, "em_balanced")
