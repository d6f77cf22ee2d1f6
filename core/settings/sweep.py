"""The settings of an imbalance sweep. They live above core.config because they name the
registries of methods and normalizations (the demo's methods are the registry's own)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config import CCSConfig, ExtractConfig
from core.probes import DEMO_METHODS

TEST_NORMALIZATIONS = ("own", "train")
DEPLOYMENT = "train"  # the test protocol of a deployment: the test split read with the training statistics


@dataclass(frozen=True)
class SweepConfig:
    """An imbalance sweep: every method trained at every p level and seed.

    p is the fraction of the `n_train` training pairs whose + completion is true.
    The test split (`n_test` pairs, balanced) is fixed by `split_seed` and held out
    from every training draw. `test_normalization` "own" normalizes the test split
    with its own statistics (the reference code); "train" uses the training
    statistics (an unsupervised deployment on data you cannot re-center).
    """

    layer: int = 23
    p_levels: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
    n_train: int = 400
    n_test: int = 600
    seeds: tuple[int, ...] = tuple(range(10))
    methods: tuple[str, ...] = DEMO_METHODS
    normalization: str = "mean"
    test_normalization: str = "own"
    split_seed: int = 0
    ccs: CCSConfig = field(default_factory=CCSConfig)
    # The negated question of the negation_pooled normalization; None: the prompt + " not".
    # Left out of keys while None, so the keys of sweeps made before it stay the same.
    negated_prompt: str | None = field(default=None, metadata={"omit_when_default": True})


# A run: what to extract and how to sweep it (decks, remedies and grids name runs this way).
Run = tuple[ExtractConfig, SweepConfig]
