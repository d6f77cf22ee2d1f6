"""`prior_shift`: Burns centering, then each side's center moved along the consistency
direction by the shift the estimated share of true pairs predicts, in one step.

Centering subtracts (2p - 1) times half the truth separation from x+ - x- along truth.
A two-component Gaussian mixture fitted to the centered differences projected on the
consistency direction (core.probes.mixture) estimates p and both clusters; the
midpoint of the clusters is where balanced classes would center, (1 - 2p̂) times half
their separation. Each side's center moves by half of it, in opposite directions, so
the differences are centered on the midpoint. Only the one direction moves; the rest of
each center is Burns's.

Assumes what em_balanced assumes (truth is the most anti-correlated feature of the two
sides, two Gaussian clusters along it), and in addition that the direction found under
Burns centering, where truth keeps 4p(1 - p) of its variance, is already truth. It
fixes a moved threshold only, like every remedy here.
"""

from __future__ import annotations

import torch

from core.normalizations.per_side import per_side_means
from core.normalizations.stats import FitInputs, NormStats
from core.probes.mixture import consistency_direction, two_gaussians


def fit_prior_shift(inputs: FitInputs, weights: torch.Tensor | None = None) -> NormStats:
    """Burns's per-side means, each moved by half the mixture's midpoint along the
    consistency direction (in opposite directions)."""
    stats = per_side_means(inputs, weights, "prior_shift")
    direction = consistency_direction(inputs.pos, inputs.neg, weights)
    pos, neg = stats.apply(inputs.pos, inputs.neg)
    mixture = two_gaussians(((pos - neg).double() @ direction.double()).numpy())
    move = (mixture.midpoint / 2) * direction
    return NormStats("prior_shift", stats.mean_pos + move, stats.mean_neg - move)
