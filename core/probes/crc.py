"""TPC: the top principal component of the normalized differences x+ - x- (Burns et al.'s
"contrastive representation clustering", the top-PC variant). Unsupervised; its sign
is arbitrary, so accuracy is sign-resolved like CCS's."""

from __future__ import annotations

import torch
from sklearn.decomposition import PCA


def top_principal_component(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """Unit direction [d] of largest variance of the [n, d] normalized differences."""
    differences = (pos - neg).double().numpy()
    component = PCA(n_components=1, svd_solver="full").fit(differences).components_[0]
    return torch.from_numpy(component).to(torch.float32)
