"""Known answers for the baseline probes: TPC against numpy's SVD, logistic regression on
separable data."""

import numpy as np
import torch

from core.probes.crc import top_principal_component
from core.probes.supervised import fit_logistic


def test_tpc_is_the_top_right_singular_vector_of_the_centered_differences():
    generator = torch.Generator().manual_seed(0)
    pos = torch.randn(300, 40, generator=generator) * torch.linspace(0.5, 3.0, 40)
    neg = torch.randn(300, 40, generator=generator)
    differences = (pos - neg).double().numpy()
    _, _, vt = np.linalg.svd(differences - differences.mean(0), full_matrices=False)
    component = top_principal_component(pos, neg).double().numpy()
    assert abs(abs(component @ vt[0]) - 1) < 1e-6
    assert torch.equal(top_principal_component(pos, neg), top_principal_component(pos, neg))


def test_tpc_of_constant_differences_is_a_fixed_unit_vector():
    pos, neg = torch.ones(20, 8), torch.zeros(20, 8)
    assert torch.equal(top_principal_component(pos, neg), torch.eye(8)[0])


def test_logistic_regression_finds_the_separating_direction():
    generator = torch.Generator().manual_seed(1)
    labels = (torch.rand(400, generator=generator) < 0.8).numpy().astype(int)
    truth = torch.zeros(16)
    truth[3] = 1.0
    differences = torch.randn(400, 16, generator=generator) * 0.3 + torch.from_numpy(2 * labels - 1)[:, None] * truth
    weight, _, loss = fit_logistic(differences, labels)
    assert torch.nn.functional.cosine_similarity(weight, truth, dim=0) > 0.95
    assert loss < 0.1
