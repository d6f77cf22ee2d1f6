"""`prior_given`: em_balanced with the share of true training pairs given instead of
estimated: what a label-free balancing remedy could reach if only its prior were right.

It reads one number of the labels, their share (a researcher may know it from how the
data were built, or estimate it from a small labelled audit), never which pair is which.
The soft labels are core.probes.mixture.balanced_soft_labels with one class's share held
at it; each side's mean then weighs the two soft classes equally. At p = 0.5 it differs
from em_balanced only in the share EM may not move.

Assumes what em_balanced assumes apart from the prior: truth is the feature along which
the two sides are most anti-correlated, and along it the differences form two Gaussian
clusters of one spread. It separates the two errors a mixture remedy can make: where it
works and em_balanced does not, the estimated share was what failed.
"""

from __future__ import annotations

import numpy as np
import torch

from core.errors import UserError
from core.normalizations.per_side import per_side_means
from core.normalizations.stats import FitInputs, NormStats
from core.probes.mixture import balanced_soft_labels, soft_balancing_weights

EDGE = 1e-4  # a share of exactly 0 or 1 leaves one component empty; EM needs both


def fit_prior_given(inputs: FitInputs, weights: torch.Tensor | None = None) -> NormStats:
    """Per-side means with EM's two soft classes weighing the same, the share of true pairs
    read from the labels (weighted by `weights`)."""
    if inputs.labels is None:
        raise UserError("The prior_given normalization needs the share of true pairs, read from the labels.")
    labels = np.asarray(inputs.labels, dtype=np.float64)
    share = float(np.average(labels, weights=None if weights is None else weights.double().numpy()))
    soft = balanced_soft_labels(inputs.pos, inputs.neg, weights, float(np.clip(share, EDGE, 1 - EDGE)))
    balance = soft_balancing_weights(soft)
    return per_side_means(inputs, balance if weights is None else balance * weights, "prior_given")
