"""The floor: a random unit direction applied to normalized differences. Its
sign-resolved accuracy shows how far above 0.5 the max(acc, 1 - acc) convention alone
lifts a probe that knows nothing."""

from __future__ import annotations

import numpy as np
import torch


def random_direction(dim: int, seed: int) -> torch.Tensor:
    """A unit vector [dim] drawn uniformly on the sphere, reproducible from `seed`."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 4]))
    vector = rng.standard_normal(dim)
    return torch.from_numpy(vector / np.linalg.norm(vector)).to(torch.float32)
