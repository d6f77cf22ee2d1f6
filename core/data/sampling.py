"""Which examples go where: the balanced subset that is extracted, the fixed balanced test
split, and the training draw with exactly round(p * n_train) pairs whose + completion
is true.

Training draws are nested across p: for one seed, each class is shuffled once and the
draw at any p takes a prefix of each shuffled class. Every draw is still a uniform
random sample with the requested class counts, and the levels of p share as many
examples as they can (common random numbers), so the difference between two levels is
not buried under resampling noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from core.errors import UserError


def positives_for(p: float, n_train: int) -> int:
    """round(p * n_train), rounding halves up: the number of training pairs whose + is true."""
    return math.floor(p * n_train + 0.5 + 1e-9)


def balanced_counts(n: int) -> tuple[int, int]:
    """(label-0, label-1) examples of a balanced set of n, label 1 taking the odd one: the
    extracted subset (balanced_subset) and the test split (test_counts) alike."""
    return n // 2, n - n // 2


def check_balanced_counts(available: Sequence[int], n: int, advice: str) -> None:
    """Raise a UserError, ending with `advice`, when `available` (label-0, label-1) examples
    are too few for a balanced subset of n (balanced_counts)."""
    need = balanced_counts(n)
    if available[0] < need[0] or available[1] < need[1]:
        raise UserError(
            f"{n:,} balanced examples need {need[0]:,} with label 0 and {need[1]:,} with label 1; {advice}."
        )


def _rng(*words: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(w) for w in words]))


def balanced_subset(
    labels: np.ndarray, n: int, seed: int, accept: Callable[[np.ndarray], np.ndarray] | None = None
) -> np.ndarray:
    """Indices of n examples, n // 2 of each class (label 1 gets the odd one), drawn at
    random with `seed`. `accept(indices) -> bool mask` can veto candidates (too long to
    tokenize, say); vetoed ones are replaced by the next in the shuffled order.
    Returned in a shuffled order."""
    rng = _rng(seed, 1)
    need = dict(enumerate(balanced_counts(n)))
    chosen = []
    for label in (0, 1):
        candidates = rng.permutation(np.flatnonzero(labels == label))
        kept: list[np.ndarray] = []
        count, start = 0, 0
        while count < need[label] and start < len(candidates):
            block = candidates[start : start + max(2 * (need[label] - count), 64)]
            start += len(block)
            good = block[accept(block)] if accept is not None else block
            kept.append(good[: need[label] - count])
            count += len(kept[-1])
        if count < need[label]:
            raise UserError(
                f"Asked for {n} examples ({need[label]} with label {label}), but only {count} usable "
                f"examples have label {label}. Ask for at most {2 * count} examples."
            )
        chosen.append(np.concatenate(kept))
    return rng.permutation(np.concatenate(chosen))


def test_counts(n_test: int) -> tuple[int, int]:
    """(label-0, label-1) pairs of a balanced test split of n_test (balanced_counts)."""
    return balanced_counts(n_test)


def split_test(
    labels: np.ndarray, n_test: int, seed: int, texts: tuple[str, ...] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(test indices, training-pool indices): a balanced test split of n_test pairs fixed
    by `seed`, and everything else as the pool. With `texts`, the two are disjoint by text
    too: an example whose text (whitespace and case aside) is in the test split never
    enters the pool, so a duplicated row cannot be trained on and tested."""
    if n_test < 2:
        raise UserError(f"n_test must be at least 2 (got {n_test}).")
    counts = np.bincount(labels.astype(np.int64), minlength=2)
    needed = test_counts(n_test)
    if counts[0] < needed[0] or counts[1] < needed[1]:
        raise UserError(
            f"A balanced test split of {n_test} needs {needed[1]} examples of each class; "
            f"the activation set has {counts[0]} with label 0 and {counts[1]} with label 1."
        )
    rng = _rng(seed, 2)
    test = np.concatenate(
        [
            rng.permutation(np.flatnonzero(labels == 0))[: needed[0]],
            rng.permutation(np.flatnonzero(labels == 1))[: needed[1]],
        ]
    )
    test.sort()
    pool = np.setdiff1d(np.arange(len(labels)), test)
    if texts is not None:
        held_out = {text_key(texts[i]) for i in test}
        pool = np.array([i for i in pool if text_key(texts[i]) not in held_out], dtype=np.int64)
    return test, pool


def text_key(text: str) -> str:
    """What makes two texts the same example: equal after case folding and collapsing
    whitespace (core.data.texts drops such duplicates on load)."""
    return " ".join(text.split()).casefold()


def check_counts(available: dict[int, int], p_levels, n_train: int) -> None:
    """Raise a UserError naming the first p level that `available` training examples per
    label cannot serve."""
    for p in p_levels:
        if not 0.0 < p < 1.0:
            raise UserError(f"p = {p} is not a fraction strictly between 0 and 1.")
        positives = positives_for(p, n_train)
        if positives in (0, n_train):
            raise UserError(
                f"p = {p} with n_train = {n_train} gives a single class ({positives} true-+ pairs); "
                "supervised baselines and accuracy need both. Use p strictly between "
                f"{1 / n_train:.3f} and {1 - 1 / n_train:.3f}."
            )
        for label, needed in ((1, positives), (0, n_train - positives)):
            if needed > available[label]:
                raise UserError(
                    f"p = {p:g} needs {needed} training pairs with label {label}, but the training pool "
                    f"(after holding out the test split) has {available[label]}. Lower n_train or "
                    "n_test, or extract more examples."
                )


def check_pool(labels: np.ndarray, pool: np.ndarray, p_levels, n_train: int) -> None:
    """check_counts for the labels of an actual training pool."""
    check_counts({1: int((labels[pool] == 1).sum()), 0: int((labels[pool] == 0).sum())}, p_levels, n_train)


def training_draw(labels: np.ndarray, pool: np.ndarray, p: float, n_train: int, seed: int) -> np.ndarray:
    """Indices (into `labels`) of n_train pool examples, exactly round(p * n_train) of them
    with label 1, nested across p for a given seed (see the module docstring)."""
    check_pool(labels, pool, [p], n_train)
    rng = _rng(seed, 3)
    pool_pos = rng.permutation(pool[labels[pool] == 1])
    pool_neg = rng.permutation(pool[labels[pool] == 0])
    positives = positives_for(p, n_train)
    return np.sort(np.concatenate([pool_pos[:positives], pool_neg[: n_train - positives]]))
