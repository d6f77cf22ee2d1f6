"""`self_balanced`: class-balanced per-side means without labels, from pseudo-labels.

Start from the plain per-side means; pseudo-label each pair by the side of the origin
its normalized difference falls along the top principal direction of the (weighted)
normalized differences; reweight so the two pseudo-classes weigh the same; refit; stop
when the partition stops changing. The partition is sign-symmetric (flipping the
direction swaps the two pseudo-classes and leaves the balanced means unchanged), so no
label or sign convention is needed.

Assumes truth is the top principal direction of the differences once balanced, and
that the two classes separate well enough along it. Along one direction each step puts
the threshold midway between the two pseudo-classes' means, which is 2-means (Lloyd's
algorithm): with well-separated classes it converges to the oracle's means; with heavy
overlap, 2-means is known to split the larger class, so the fixed point stays between
Burns centering and the oracle. It fixes a moved threshold only, like every remedy here.
"""

from __future__ import annotations

import numpy as np
import torch

from core.normalizations.per_side import per_side_means
from core.normalizations.stats import FitInputs, NormStats, class_balancing_weights

MAX_ROUNDS = 50


def pseudo_labels(inputs: FitInputs, stats: NormStats, weights: torch.Tensor | None) -> np.ndarray:
    """Which side of the origin each normalized difference falls along the top principal
    direction of the weighted normalized differences (an arbitrary but fixed sign)."""
    pos, neg = stats.apply(inputs.pos, inputs.neg)
    difference = (pos - neg).double()
    scale = torch.ones(len(difference), dtype=torch.float64) if weights is None else weights.double()
    scaled = difference * (scale / scale.sum()).sqrt()[:, None]
    # The top right singular vector of the weighted rows is the top eigenvector of the
    # weighted second-moment matrix, without forming the d x d matrix.
    _, _, vh = torch.linalg.svd(scaled, full_matrices=False)
    return (difference @ vh[0] > 0).numpy()


def fit_self_balanced(inputs: FitInputs, weights: torch.Tensor | None = None) -> NormStats:
    """Per-side means with the two pseudo-classes of `pseudo_labels` weighing the same,
    iterated to a fixed partition (at most MAX_ROUNDS rounds)."""
    stats = per_side_means(inputs, weights, "self_balanced")
    previous = None
    for _ in range(MAX_ROUNDS):
        labels = pseudo_labels(inputs, stats, weights)
        if previous is not None and (np.array_equal(labels, previous) or np.array_equal(labels, ~previous)):
            break
        previous = labels
        balance = class_balancing_weights(labels)
        stats = per_side_means(inputs, balance if weights is None else balance * weights, "self_balanced")
    return stats
