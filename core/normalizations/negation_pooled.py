"""`negation_pooled`: per-side means pooled over each question and its negation.

Every example is also asked through a negated prompt (by default the prompt with " not"
appended: "... The sentiment of this review is not" + " positive"), whose true
completion is the other one. Pooled over both prompts, each answer side is true for
exactly half of its rows, whatever p, so its mean carries no truth, if the model writes
"this completion is true" along the same direction under both prompts.

Assumes that shared truth direction. What the two prompts' answer-token offsets differ
by stays in the centers as a fixed threshold error, the same at every p.
"""

from __future__ import annotations

import torch

from core.errors import UserError
from core.normalizations.stats import FitInputs, NormStats, weighted_mean


def fit_negation_pooled(inputs: FitInputs, weights: torch.Tensor | None = None) -> NormStats:
    """Each side's mean over its rows under both prompts (`inputs.companion`: the negated
    pairs, row for row with `inputs.pos` and `inputs.neg`)."""
    if inputs.companion is None or inputs.companion[0].shape != inputs.pos.shape:
        raise UserError("The negation_pooled normalization needs the same examples asked through the negated prompt.")
    negated_pos, negated_neg = inputs.companion
    mean_pos = (weighted_mean(inputs.pos, weights) + weighted_mean(negated_pos.to(inputs.pos.dtype), weights)) / 2
    mean_neg = (weighted_mean(inputs.neg, weights) + weighted_mean(negated_neg.to(inputs.neg.dtype), weights)) / 2
    return NormStats("negation_pooled", mean_pos, mean_neg)
