"""Burns et al.'s per-side normalization, the step at the heart of the imbalance effect.

Each side is centered on its own: x+ - mean(x+) and x- - mean(x-) ("mean"), optionally
also divided by its own per-dimension std ("meanstd"; population std, ddof 0, as numpy
computes it in the reference code). Centering removes the constant "ends in positive /
ends in negative" offset exactly, at any p. But mean(x+) also carries (2p - 1) times
half the truth direction, so at p != 0.5 centering moves the zero point of truth too.
"""

from __future__ import annotations

import torch

from core.normalizations.stats import FitInputs, NormStats, weighted_mean


def _safe_std(x: torch.Tensor, mean: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    std = x.std(dim=0, correction=0) if weights is None else weighted_mean((x - mean) ** 2, weights).sqrt()
    return torch.where(std > 0, std, torch.ones_like(std))


def fit_none(inputs: FitInputs, weights: torch.Tensor | None = None) -> NormStats:
    """No normalization: zero means, no std (what the raw-input methods read)."""
    zeros = torch.zeros(inputs.pos.shape[-1], dtype=inputs.pos.dtype)
    return NormStats("none", zeros, zeros.clone())


def per_side_means(inputs: FitInputs, weights: torch.Tensor | None, kind: str) -> NormStats:
    """Each side's (weighted) mean: the statistics of "mean", and of the remedies that only
    change the weights."""
    return NormStats(kind, weighted_mean(inputs.pos, weights), weighted_mean(inputs.neg, weights))


def fit_mean(inputs: FitInputs, weights: torch.Tensor | None = None) -> NormStats:
    """Center each side on its own mean."""
    return per_side_means(inputs, weights, "mean")


def fit_meanstd(inputs: FitInputs, weights: torch.Tensor | None = None) -> NormStats:
    """Center each side and divide by its own per-dimension std; a constant dimension
    gets std 1 instead of a division by zero."""
    stats = per_side_means(inputs, weights, "meanstd")
    stats.std_pos = _safe_std(inputs.pos, stats.mean_pos, weights)
    stats.std_neg = _safe_std(inputs.neg, stats.mean_neg, weights)
    return stats
