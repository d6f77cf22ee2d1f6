"""VINC, the closed-form eigen reporter of EleutherAI's elk (`EigenFitter`, removed from
elk in October 2023; read at commit 670eaec), for one prompt template.

elk's objective with its defaults (var_weight 0, neg_cov_weight 0.5, num_heads 1) is
A = var_weight * intercluster_cov - (1 - neg_cov_weight) * intracluster_cov
    - neg_cov_weight * contrastive_xcov,
and the reporter is the eigenvector of A with the largest eigenvalue. With one template
the intracluster covariance (spread across templates) is exactly zero, so A is
-0.5 * sym(Cov(x+, x-)): the direction along which the two sides of a pair are most
anti-correlated, which a consistent truth feature is. Covariances are centered per
side, as elk's are (divided by n).

Two departures, both so VINC reads its inputs like every method in this lab: elk erases
the side indicator with LEACE before fitting; here the pairs are normalized by the
sweep's per-side normalization instead (centering also removes the side offset, and
under imbalance also a (2p - 1) share of truth, as LEACE's mean difference would). And
elk resolves the sign with Platt scaling on training labels; here, like CCS and TPC,
the sign is resolved on the test split (max(acc, 1 - acc)). The pair's score is the
projection of x+ - x- with no intercept (elk's pairwise logit: its bias cancels), so
its confidence is an uncalibrated sigmoid of that projection.
"""

from __future__ import annotations

import numpy as np
import torch

NEG_COV_WEIGHT = 0.5  # elk's default; scales A, so it does not change the eigenvector


def vinc_objective(pos: torch.Tensor, neg: torch.Tensor, weights: torch.Tensor | None = None) -> np.ndarray:
    """A = -neg_cov_weight * sym(Cov(x+, x-)) [d, d] of [n, d] pairs, each side centered
    on its own mean, divided by n (elk's contrastive cross-covariance). With row
    `weights`, the weighted means and covariance (a label-free remedy weighs two
    estimated classes equally this way, core.probes.mixture)."""
    pos_np, neg_np = pos.double().numpy(), neg.double().numpy()
    if weights is None:
        centered_pos, centered_neg = pos_np - pos_np.mean(axis=0), neg_np - neg_np.mean(axis=0)
        cross = centered_pos.T @ centered_neg / len(centered_pos)
    else:
        share = weights.double().numpy()
        centered_pos = pos_np - np.average(pos_np, axis=0, weights=share)
        centered_neg = neg_np - np.average(neg_np, axis=0, weights=share)
        cross = (centered_pos * (share / share.sum())[:, None]).T @ centered_neg
    return -NEG_COV_WEIGHT * (cross + cross.T) / 2


def vinc_direction(pos: torch.Tensor, neg: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Unit eigenvector [d] of vinc_objective with the largest eigenvalue (its sign is
    arbitrary). Where the pairs do not vary at all, any direction is as good as another."""
    objective = vinc_objective(pos, neg, weights)
    if not objective.any():
        return torch.nn.functional.one_hot(torch.tensor(0), objective.shape[0]).to(torch.float32)
    _, vectors = np.linalg.eigh(objective)  # ascending eigenvalues
    return torch.from_numpy(vectors[:, -1].copy()).to(torch.float32)
