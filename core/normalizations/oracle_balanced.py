"""`oracle_balanced`: per-side means with the two classes reweighted to equal mass.

Assumes the labels of the training pairs are known. Each side's mean then carries no
truth at any p (the (2p - 1) share centering removes vanishes when both classes weigh
the same), and still removes the answer-token offset exactly: the upper bound of any
fix that only moves the normalization's means. A probe that lost its direction, not
its threshold, is not helped.
"""

from __future__ import annotations

import torch

from core.errors import UserError
from core.normalizations.per_side import per_side_means
from core.normalizations.stats import FitInputs, NormStats, class_balancing_weights


def fit_oracle_balanced(inputs: FitInputs, weights: torch.Tensor | None = None) -> NormStats:
    """Per-side means, each class of `inputs.labels` given half the (weighted) mass."""
    if inputs.labels is None:
        raise UserError("The oracle_balanced normalization needs the labels of the pairs it normalizes.")
    balance = class_balancing_weights(inputs.labels)
    return per_side_means(inputs, balance if weights is None else balance * weights, "oracle_balanced")
