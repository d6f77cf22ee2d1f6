"""`content_free`: the answer-token offset estimated from content-free inputs.

The template is filled with texts that carry no content (CONTENT_FREE_TEXTS, as in
Zhao et al. 2021's contextual calibration) and extracted alongside. Their mean
difference x+ - x- estimates the offset the two completions add on their own; each
side's center is the midpoint of the two sides' means plus or minus half of it. The
midpoint is the same whatever the labels (truth enters the two sides with opposite
signs), so the centers carry no truth at any p.

Assumes the completions add the same offset to a content-free prompt as to a real one,
and that the model reads no truth into a content-free text. A lean towards one answer
on empty input becomes a fixed threshold error, the same at every p.
"""

from __future__ import annotations

import torch

from core.errors import UserError
from core.normalizations.stats import FitInputs, NormStats, weighted_mean

# Changing these changes what every content_free sweep computes: raise core.experiments.sweep.SWEEP_REVISION.
CONTENT_FREE_TEXTS = ("", "N/A", "[MASK]")


def fit_content_free(inputs: FitInputs, weights: torch.Tensor | None = None) -> NormStats:
    """Centers midpoint +- half the content-free offset (`inputs.companion`: the
    content-free pairs)."""
    if inputs.companion is None:
        raise UserError("The content_free normalization needs the template's content-free pairs extracted.")
    free_pos, free_neg = inputs.companion
    offset = (free_pos - free_neg).mean(dim=0).to(inputs.pos.dtype)
    midpoint = (weighted_mean(inputs.pos, weights) + weighted_mean(inputs.neg, weights)) / 2
    return NormStats("content_free", midpoint + offset / 2, midpoint - offset / 2)
