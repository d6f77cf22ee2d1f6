"""The settings of an imbalance sweep. They live above core.config because they name the
registries of methods and normalizations (the demo's methods are the registry's own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from core.config import Bound, CCSConfig, ExtractConfig, setting
from core.normalizations import NORMALIZATIONS
from core.probes import DEMO_METHODS, METHOD_IDS

# How the test split is normalized: "own" statistics (the reference code) or the training
# ones ("train", DEPLOYMENT).
TestNormalization = Literal["own", "train"]
TEST_NORMALIZATIONS = get_args(TestNormalization)
SPLIT = "split"  # the settings that draw a sweep's training and test pairs
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

    layer: int = setting(
        23,
        label="Layer",
        depth=True,
        help="hidden-state index to probe, or a depth: 75% (of the model's layers), middle or last",
        bound=Bound(0, 1_000),
    )
    p_levels: tuple[float, ...] = setting(
        (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95),
        label="Levels of p",
        help="fractions of true-+ training pairs, strictly between 0 and 1",
        bound=Bound(0, 1, whole=False, open=True),
        count=Bound(1, 32),
        param="p",
    )
    n_train: int = setting(
        400, label="Training pairs per cell (n_train)", bound=Bound(2, 100_000), group=SPLIT, step=50
    )
    n_test: int = setting(600, label="Balanced test pairs (n_test)", bound=Bound(2, 100_000), group=SPLIT, step=50)
    seeds: tuple[int, ...] = setting(
        tuple(range(10)),
        label="Seeds",
        range_count=True,
        help="number of seeds N (seeds 0..N-1), or a list: 0,3,7",
        bound=Bound(0, 2**31 - 1),
        count=Bound(1, 100, 20),
    )
    methods: tuple[str, ...] = setting(DEMO_METHODS, label="Methods", choices=METHOD_IDS)
    normalization: str = setting(
        "mean",
        label="Normalization",
        help="per-side normalization or remedy (core.normalizations)",
        choices=NORMALIZATIONS,
        param="norm",
    )
    test_normalization: TestNormalization = setting(
        "own",
        label="Test normalization",
        help="own: the test split's own statistics (reference code); train: the training statistics (deployment)",
        param="test_norm",
    )
    split_seed: int = setting(
        0,
        label="Test split seed",
        help="the seed that fixes the balanced test split",
        bound=Bound(0, 1_000_000),
        group=SPLIT,
    )
    ccs: CCSConfig = field(default_factory=CCSConfig)
    # The negated question of the negation_pooled normalization; None: the prompt + " not".
    negated_prompt: str | None = setting(
        None,
        label="Negated prompt",
        help="negation_pooled's negated question, with one {text} slot (default: the prompt + ' not')",
        param="negated",
        omit_when_default=True,
    )


# A run: what to extract and how to sweep it (decks, remedies and grids name runs this way).
Run = tuple[ExtractConfig, SweepConfig]
