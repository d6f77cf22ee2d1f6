"""How a trained probe (a linear direction and a bias) turns a contrast pair into a
confidence that its + side is true.

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

# The two forms, as the module docstring describes them: a method's Method.form.
PAIR = "pair"
DIFFERENCE = "difference"


@dataclass
class PairScores:
    """Per-example outputs of a probe on (normalized) pairs: the confidence that x+ is
    true, its log-odds (computed without the sigmoid, so pairs the probe ranks apart stay
    apart where the confidence rounds to 0 or 1), and p_pos/p_neg for pair probes."""

    confidence: np.ndarray
    log_odds: np.ndarray
    p_pos: np.ndarray | None = None
    p_neg: np.ndarray | None = None


def pair_scores(form: str, weight: torch.Tensor, bias: float, pos: torch.Tensor, neg: torch.Tensor) -> PairScores:
    """Confidence that x+ is true for [n, d] pairs (already normalized as the caller chose)
    under a probe of `form` with `weight` and `bias`. Computed in float64: test logits reach
    +-38 on the demo, where a float32 sigmoid rounds to exactly 1 and ties pairs that the
    probe ranks apart (that had lowered AUROC by up to 0.01).

    A template ensemble's [n, k, d] pairs score each template, then average the log-odds
    over the k templates (elk's "full" prompt ensembling averages the logits likewise)."""
    if pos.ndim == 3:
        each = pair_scores(form, weight, bias, pos.flatten(0, 1), neg.flatten(0, 1))
        n, k = pos.shape[:2]
        log_odds = each.log_odds.reshape(n, k).mean(axis=1)
        sides = [None if side is None else side.reshape(n, k).mean(axis=1) for side in (each.p_pos, each.p_neg)]
        return PairScores(torch.sigmoid(torch.from_numpy(log_odds)).numpy(), log_odds, *sides)
    pos, neg, weight = pos.double(), neg.double(), weight.double()
    if form == PAIR:
        on_pos, on_neg = pos @ weight + bias, neg @ weight + bias
        p_pos, p_neg = torch.sigmoid(on_pos).numpy(), torch.sigmoid(on_neg).numpy()
        # confidence = (p(x+) + 1 - p(x-)) / 2; its log-odds from log-sigmoids, stably
        log_sigmoid = torch.nn.functional.logsigmoid
        log_odds = (
            torch.logaddexp(log_sigmoid(on_pos), log_sigmoid(-on_neg))
            - torch.logaddexp(log_sigmoid(-on_pos), log_sigmoid(on_neg))
        ).numpy()
        return PairScores(0.5 * (p_pos + 1.0 - p_neg), log_odds, p_pos, p_neg)
    logits = (pos - neg) @ weight + bias
    return PairScores(torch.sigmoid(logits).numpy(), logits.numpy())
