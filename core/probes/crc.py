"""TPC: the top principal component of the normalized differences x+ - x- (Burns et al.'s
"contrastive representation clustering", the top-PC variant). Unsupervised; its sign
is arbitrary, so accuracy is sign-resolved like CCS's."""

from __future__ import annotations

import numpy as np
import torch


def top_principal_component(pos: torch.Tensor, neg: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Unit direction [d] of largest variance of the [n, d] normalized differences (with
    row `weights`, of their weighted variance about their weighted mean). Where the
    differences do not vary at all (the embedding layer, where x+ and x- differ only by
    the completion token), any direction is as good as another and scores are 0."""
    differences = (pos - neg).double().numpy()
    if not np.ptp(differences, axis=0).any():
        return torch.nn.functional.one_hot(torch.tensor(0), differences.shape[1]).to(torch.float32)
    if weights is not None:
        share = weights.double().numpy() / float(weights.sum())
        centered = (differences - share @ differences) * np.sqrt(share)[:, None]
        return torch.from_numpy(np.linalg.svd(centered, full_matrices=False)[2][0].copy()).to(torch.float32)
    # ARPACK computes just the one component (15x faster than a full SVD at d = 576);
    # the fixed random_state makes its starting vector, and so the result, reproducible.
    # scikit-learn costs about 1.3 s to import, which every command of the CLI would pay for
    # reading the method registry (its --help included); only a fit needs it.
    from sklearn.decomposition import PCA

    component = PCA(n_components=1, svd_solver="arpack", random_state=0).fit(differences).components_[0]
    return torch.from_numpy(component).to(torch.float32)


def top_principal_directions(pos: torch.Tensor, neg: torch.Tensor, k: int) -> torch.Tensor:
    """The orthonormal directions [d, k'] of largest variance of the [n, d] normalized
    differences about their mean, k' = min(k, n, d) (full SVD, float64; their signs are
    arbitrary)."""
    differences = (pos - neg).double().numpy()
    directions = np.linalg.svd(differences - differences.mean(0), full_matrices=False)[2][:k]
    return torch.from_numpy(directions.T.copy()).to(torch.float32)
