"""CCS searched in the top principal directions of the training differences
(core.probes.ccs_subspace): the reference CCS run on the projected pairs from the same
start gives the same probe, lifted back to the full space; and on planted pairs with more
dimensions than training pairs, where full-space CCS finds a consistent direction that is
not truth, the subspace search finds truth."""

from __future__ import annotations

import math

import numpy as np
import torch

from core import CCS, SubspaceCCS
from core.analysis.theory import synthetic_pairs
from core.normalizations import fit_stats
from core.probes.ccs import initial_parameters
from core.probes.ccs_subspace import TOP_DIRECTIONS
from core.probes.crc import top_principal_directions
from tests.oracle_ccs import OracleCCS


def planted(n: int, dim: int, seed: int, **geometry) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    data = synthetic_pairs(n, dim, seed=seed, **geometry)
    return torch.as_tensor(data.pos, dtype=torch.float32), torch.as_tensor(data.neg, dtype=torch.float32), data.labels


def test_the_subspace_probe_is_the_reference_ccs_on_the_projected_pairs_lifted_back():
    pos, neg, _ = planted(120, 40, seed=1)
    restarts, epochs, seed = 3, 300, 7
    fitted = SubspaceCCS(random_state=seed, restarts=restarts, epochs=epochs).fit(pos, neg)
    pos_n, neg_n = fit_stats(pos, neg, "mean").apply(pos, neg)
    basis = top_principal_directions(pos_n, neg_n, TOP_DIRECTIONS)
    assert basis.shape == (40, TOP_DIRECTIONS)
    weight, bias = initial_parameters(40, restarts, seed)
    spread = math.sqrt(40 / TOP_DIRECTIONS)
    oracle = OracleCCS(
        (neg_n @ basis).numpy(), (pos_n @ basis).numpy(), (weight @ basis * spread).numpy(), (bias * spread).numpy(),
        nepochs=epochs,
    )  # fmt: skip
    oracle.repeated_train()
    expected = basis @ oracle.best_probe[0].weight.detach()[0]
    np.testing.assert_allclose(fitted.coef_, expected.numpy(), atol=2e-4)
    assert abs(fitted.intercept_ - float(oracle.best_probe[0].bias.detach())) < 2e-4
    # The probe lies in the subspace: nothing of it is left outside the basis.
    inside = basis @ (basis.T @ torch.as_tensor(fitted.coef_))
    np.testing.assert_allclose(inside.numpy(), fitted.coef_, atol=1e-5)


def test_with_more_dimensions_than_pairs_only_the_subspace_search_finds_truth():
    pos, neg, labels = planted(400, 300, seed=3, truth_strength=3.0, noise=1.0)
    train, test = slice(0, 200), slice(200, 400)
    for seed in (0, 1):
        full = CCS(random_state=seed).fit(pos[train], neg[train]).score(pos[test], neg[test], labels[test])
        small = SubspaceCCS(random_state=seed).fit(pos[train], neg[train]).score(pos[test], neg[test], labels[test])
        assert full < 0.65 and small > 0.9, (seed, full, small)
