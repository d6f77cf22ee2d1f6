"""Burns per-side normalization of contrast pairs, the step at the heart of the imbalance
effect.

Each side is centered on its own: x+ - mean(x+) and x- - mean(x-) ("mean"), optionally
also divided by its own per-dimension std ("meanstd"; population std, ddof 0, as numpy
computes it in the reference code). Centering removes the constant "ends in positive /
ends in negative" offset exactly, at any p. But mean(x+) also carries (2p - 1) times
half the truth direction, so at p != 0.5 centering moves the zero point of truth too.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.config import NORMALIZATIONS
from core.errors import UserError


@dataclass
class NormStats:
    """Per-side statistics of one training (or test) set; std is None unless "meanstd"."""

    kind: str
    mean_pos: torch.Tensor
    mean_neg: torch.Tensor
    std_pos: torch.Tensor | None = None
    std_neg: torch.Tensor | None = None


def _safe_std(x: torch.Tensor) -> torch.Tensor:
    std = x.std(dim=0, correction=0)
    return torch.where(std > 0, std, torch.ones_like(std))


def fit_stats(x_pos: torch.Tensor, x_neg: torch.Tensor, kind: str = "mean") -> NormStats:
    """Statistics of [n, d] hidden states for normalization `kind` (mean, meanstd, none).
    Constant dimensions get std 1 instead of a division by zero."""
    if kind not in NORMALIZATIONS:
        raise UserError(f"Unknown normalization '{kind}' (use {', '.join(NORMALIZATIONS)}).")
    if kind == "none":
        zeros = torch.zeros(x_pos.shape[-1], dtype=x_pos.dtype)
        return NormStats(kind, zeros, zeros.clone())
    stats = NormStats(kind, x_pos.mean(dim=0), x_neg.mean(dim=0))
    if kind == "meanstd":
        stats.std_pos, stats.std_neg = _safe_std(x_pos), _safe_std(x_neg)
    return stats


def apply_stats(stats: NormStats, x_pos: torch.Tensor, x_neg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalize [n, d] pairs with given statistics (their own, or a training set's)."""
    pos, neg = x_pos - stats.mean_pos, x_neg - stats.mean_neg
    if stats.std_pos is not None:
        pos, neg = pos / stats.std_pos, neg / stats.std_neg
    return pos, neg


def normalize(x_pos: torch.Tensor, x_neg: torch.Tensor, kind: str = "mean") -> tuple[torch.Tensor, torch.Tensor]:
    """Normalize pairs with their own statistics (what CCS sees in the reference code)."""
    return apply_stats(fit_stats(x_pos, x_neg, kind), x_pos, x_neg)
