"""A linear probe: what fitting one gives (Fit) and one sweep cell's trained probe
(LinearProbe), which scores pairs in its method's form (core.probes.base)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
import torch

from core.probes.base import PairScores, pair_scores


class Fit(NamedTuple):
    """A fitted probe on one cell's training pairs: its weight [d] (float32), bias, and
    training loss (nan for a method with no loss of its own)."""

    weight: torch.Tensor
    bias: float
    loss: float


class PairStatistics(Protocol):
    """The normalization a probe's training pairs were read through: its kind and how it
    normalizes [n, d] pairs. It is a core.normalizations.stats.NormStats, which sits a layer
    above the probes (core.normalizations reads core.probes.mixture), hence a protocol here."""

    kind: str

    def apply(self, x_pos: torch.Tensor, x_neg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...


@dataclass
class LinearProbe:
    """One trained probe of one sweep cell: its method and form (PAIR or DIFFERENCE), its
    direction and bias, the statistics its training pairs were normalized with, and its
    training loss."""

    method: str
    form: str
    weight: torch.Tensor
    bias: float
    train_stats: PairStatistics
    loss: float = float("nan")

    def difference_scores(self, pos: torch.Tensor, neg: torch.Tensor) -> np.ndarray:
        """w.(x+ - x-) of pairs already normalized as the caller chose, in float64 ([n]; a
        template ensemble's [n, k, d] averaged over its templates, as its log-odds are)."""
        along = (pos - neg).double() @ self.weight.double()
        return (along.mean(dim=1) if along.ndim == 2 else along).numpy()

    def scores(self, pos: torch.Tensor, neg: torch.Tensor) -> PairScores:
        """Confidence that x+ is true for [n, d] pairs already normalized as the caller
        chose (the test split's own statistics, or this probe's training statistics)."""
        return pair_scores(self.form, self.weight, self.bias, pos, neg)
