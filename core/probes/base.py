"""The one shape every trained probe takes: a linear direction, a bias, the training
statistics it was normalized with, and how it turns a contrast pair into a confidence.

Two forms exist. A "pair" probe (CCS) scores each side: p(x+) = sigmoid(w.x+ + b),
p(x-) likewise, and the confidence that x+ is true is (p(x+) + 1 - p(x-)) / 2, as in
the reference code (which predicts "x+ true" exactly when p(x+) > p(x-)). A
"difference" probe (TPC, logistic regression, random) scores the difference:
confidence = sigmoid(w.(x+ - x-) + b). Either way the prediction is confidence > 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.normalize import NormStats
from core.probes import PAIR


@dataclass
class PairScores:
    """Per-example outputs of a probe on (normalized) pairs; p_pos/p_neg only for pair probes."""

    confidence: np.ndarray
    p_pos: np.ndarray | None = None
    p_neg: np.ndarray | None = None


@dataclass
class LinearProbe:
    """One trained probe of one sweep cell."""

    method: str
    form: str
    weight: torch.Tensor
    bias: float
    train_stats: NormStats
    loss: float = float("nan")

    def scores(self, pos: torch.Tensor, neg: torch.Tensor) -> PairScores:
        """Confidence that x+ is true for [n, d] pairs already normalized as the caller
        chose (the test split's own statistics, or this probe's training statistics).
        Computed in float64: test logits reach +-38 on the demo, where a float32 sigmoid
        rounds to exactly 1 and ties pairs that the probe ranks apart (that had lowered
        AUROC by up to 0.01)."""
        pos, neg, weight = pos.double(), neg.double(), self.weight.double()
        if self.form == PAIR:
            p_pos = torch.sigmoid(pos @ weight + self.bias).numpy()
            p_neg = torch.sigmoid(neg @ weight + self.bias).numpy()
            return PairScores(0.5 * (p_pos + 1.0 - p_neg), p_pos, p_neg)
        return PairScores(torch.sigmoid((pos - neg) @ weight + self.bias).numpy())
