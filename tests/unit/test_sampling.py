"""The sampler: exact class counts, disjointness from the fixed test split, nesting across p."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.sampling import (
    balanced_subset,
    check_balanced_counts,
    check_pool,
    positives_for,
    split_test,
    training_draw,
)
from core.errors import UserError

LABELS = np.array([1] * 700 + [0] * 500, dtype=np.int8)


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.55, 0.7, 0.9, 0.95, 0.99])
@pytest.mark.parametrize("n_train", [100, 257, 400])
def test_training_draw_has_exact_counts_and_avoids_the_test_split(p, n_train):
    test, pool = split_test(LABELS, 200, seed=0)
    for seed in range(3):
        draw = training_draw(LABELS, pool, p, n_train, seed)
        assert len(draw) == n_train == len(set(draw.tolist()))
        assert LABELS[draw].sum() == positives_for(p, n_train) == int(np.floor(p * n_train + 0.5))
        assert not set(draw.tolist()) & set(test.tolist())


def test_rounding_is_half_up():
    assert positives_for(0.95, 400) == 380
    assert positives_for(0.5, 401) == 201
    assert positives_for(0.7, 10) == 7


def test_test_split_is_balanced_fixed_and_disjoint_from_pool():
    test, pool = split_test(LABELS, 301, seed=5)
    again, _ = split_test(LABELS, 301, seed=5)
    assert np.array_equal(test, again)
    assert LABELS[test].sum() == 151 and len(test) == 301
    assert len(np.intersect1d(test, pool)) == 0 and len(test) + len(pool) == len(LABELS)
    other, _ = split_test(LABELS, 301, seed=6)
    assert not np.array_equal(test, other)


def test_draws_are_nested_across_p_and_differ_across_seeds():
    _, pool = split_test(LABELS, 200, seed=0)
    low = set(training_draw(LABELS, pool, 0.5, 200, seed=1).tolist())
    high = set(training_draw(LABELS, pool, 0.9, 200, seed=1).tolist())
    positives_low = {i for i in low if LABELS[i] == 1}
    negatives_high = {i for i in high if LABELS[i] == 0}
    assert positives_low <= high and negatives_high <= low
    assert set(training_draw(LABELS, pool, 0.5, 200, seed=2).tolist()) != low


def test_pool_too_small_names_the_level_and_the_counts():
    _, pool = split_test(LABELS, 200, seed=0)
    with pytest.raises(UserError, match=r"p = 0.1 needs 405 training pairs with label 0.*has 400") as error:
        check_pool(LABELS, pool, [0.5, 0.1], 450)
    assert "Lower n_train" in str(error.value)
    with pytest.raises(UserError, match="single class"):
        check_pool(LABELS, pool, [0.999], 100)


def test_test_split_needs_enough_of_each_class():
    with pytest.raises(UserError, match="needs 600 examples of each class"):
        split_test(LABELS, 1200, seed=0)


def test_balanced_subset_respects_vetoes():
    chosen = balanced_subset(LABELS, 300, seed=0, accept=lambda idx: idx % 3 != 0)
    assert len(chosen) == 300 and LABELS[chosen].sum() == 150
    assert np.all(chosen % 3 != 0)
    with pytest.raises(UserError, match="only 0 usable"):
        balanced_subset(LABELS, 10, seed=0, accept=lambda idx: np.zeros(len(idx), dtype=bool))


def test_a_balanced_subset_too_large_for_a_class_is_refused_with_the_callers_advice():
    check_balanced_counts((500, 700), 1000, "unused")  # 500 of each: just enough
    with pytest.raises(
        UserError, match=r"^1,001 balanced examples need 500 with label 0 and 501 with label 1; ask less\.$"
    ):
        check_balanced_counts((700, 500), 1001, "ask less")
