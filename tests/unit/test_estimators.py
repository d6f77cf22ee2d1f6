"""The public API's estimators (core.api.estimators): one per method of the registry, each with
scikit-learn's conventions, each finding a planted truth direction, and CCS's finding the
same direction as the sweep's cell it is fitted like."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

import core
from core.analysis.theory import synthetic_pairs
from core.api.estimators import ESTIMATORS, ContrastProbe
from core.errors import UserError
from core.probes import FLOOR_METHOD, METHOD_REGISTRY
from core.settings.presets import FAST_CCS
from core.settings.sweep import SweepConfig


def public_estimators() -> dict[str, type]:
    """Every class in core.__all__ with a fit and get_params, as a user would find them."""
    found = {}
    for name in core.__all__:
        value = getattr(core, name)
        if isinstance(value, type) and hasattr(value, "fit") and hasattr(value, "get_params"):
            found[name] = value
    return found


@pytest.fixture(scope="module")
def planted():
    """Balanced pairs with a truth direction, a large answer-token offset and noise:
    (train pos, neg, labels), (test pos, neg, labels) as numpy arrays."""
    data = synthetic_pairs(1000, 24, p=0.5, truth_strength=2.0, token_offset=4.0, noise=0.5, seed=3)
    pos, neg, labels = data.pos.numpy(), data.neg.numpy(), data.labels.astype(int)
    return (pos[:600], neg[:600], labels[:600]), (pos[600:], neg[600:], labels[600:])


def test_every_method_of_the_registry_has_one_public_estimator():
    found = public_estimators()
    assert {cls.method.id for cls in found.values()} == set(METHOD_REGISTRY)
    assert len(found) == len(METHOD_REGISTRY) and set(found) == {m.estimator for m in METHOD_REGISTRY.values()}
    assert all(issubclass(cls, ContrastProbe) for cls in found.values()) and ESTIMATORS.keys() == METHOD_REGISTRY.keys()


@pytest.mark.parametrize("name", sorted(public_estimators()))
def test_each_estimator_finds_the_planted_truth_and_follows_sklearn(name, planted):
    (pos, neg, labels), (test_pos, test_neg, test_labels) = planted
    cls = public_estimators()[name]
    options = {"epochs": FAST_CCS.epochs, "lr": FAST_CCS.lr} if cls is core.CCS else {}
    estimator = cls(**options)
    assert estimator.fit(pos, neg, labels) is estimator  # labels passed to all: the unsupervised ones ignore them
    score = estimator.score(test_pos, test_neg, test_labels)
    if cls.method.id == FLOOR_METHOD:
        assert 0.4 < score < 0.95
    else:
        assert score > 0.95, (name, score)
    assert estimator.coef_.shape == (24,) and np.isfinite(estimator.intercept_)
    assert estimator.mean_pos_.shape == (24,) and estimator.n_features_in_ == 24
    proba = estimator.predict_proba(test_pos, test_neg)
    assert proba.shape == (400, 2) and np.allclose(proba.sum(1), 1)
    assert set(np.unique(estimator.predict(test_pos, test_neg))) <= {0, 1}
    twin = clone(estimator)
    assert type(twin) is cls and twin.get_params() == estimator.get_params() and not hasattr(twin, "coef_")
    assert twin.set_params(random_state=7).random_state == 7


def test_score_sign_resolves_only_the_unsupervised_methods(planted):
    (pos, neg, labels), (test_pos, test_neg, test_labels) = planted
    tpc = core.TPC().fit(pos, neg)
    raw = float((tpc.predict(test_pos, test_neg) == test_labels).mean())
    assert tpc.score(test_pos, test_neg, test_labels) == pytest.approx(max(raw, 1 - raw))
    flipped = core.RawLogistic().fit(pos, neg, 1 - labels)  # supervised: a learned sign is kept, wrong or not
    assert flipped.score(test_pos, test_neg, test_labels) < 0.05


def test_estimators_refuse_bad_input_in_one_line(planted):
    (pos, neg, labels), _ = planted
    with pytest.raises(UserError, match="supervised"):
        core.LDA().fit(pos, neg)
    with pytest.raises(UserError, match="same shape"):
        core.TPC().fit(pos, neg[:, :10])
    with pytest.raises(UserError, match="0 or 1"):
        core.MassMean().fit(pos, neg, labels + 1)
    with pytest.raises(UserError, match="NaN"):
        core.TPC().fit(np.where(pos > 3, np.nan, pos), neg)
    with pytest.raises(UserError, match="Unknown normalization"):
        core.TPC(normalization="bogus").fit(pos, neg)
    with pytest.raises(UserError, match="companion"):
        core.TPC(normalization="negation_pooled").fit(pos, neg)
    fitted = core.TPC().fit(pos, neg)
    with pytest.raises(UserError, match="fitted on 24"):
        fitted.predict(pos[:, :10], neg[:, :10])
    with pytest.raises(UserError, match="two or more"):
        fitted.predict(pos[:1], neg[:1])
    assert core.TPC(test_normalization="train").fit(pos, neg).predict(pos[:1], neg[:1]).shape == (1,)


def test_the_ccs_estimator_and_the_sweep_agree_on_the_same_cell():
    """Fitted on a sweep cell's training draw with the cell's seed, the estimator runs the
    sweep's optimizer from the sweep's initial weights: the same direction, the same accuracy."""
    data = synthetic_pairs(700, 16, p=0.5, truth_strength=2.0, token_offset=4.0, noise=0.6, seed=1)
    acts = data.as_activation_set()
    config = SweepConfig(
        layer=0, p_levels=(0.5, 0.9), n_train=200, n_test=200, seeds=(0, 4), methods=("ccs", "tpc"), ccs=FAST_CCS
    )
    result = core.sweep(acts, config)
    test_pos, test_neg, test_labels = result.test_pairs()
    for p, seed in ((0.9, 4), (0.5, 0)):
        pos, neg, labels = result.training_pairs(p, seed)
        assert labels.mean() == pytest.approx(p, abs=0.01)
        mine = core.CCS(random_state=seed, epochs=FAST_CCS.epochs, lr=FAST_CCS.lr).fit(pos, neg)
        theirs = result.estimator("ccs", p, seed)
        cosine = float(np.dot(mine.coef_, theirs.coef_) / np.linalg.norm(mine.coef_) / np.linalg.norm(theirs.coef_))
        assert cosine > 0.999, (p, seed, cosine)
        row = result.table[(result.table.method == "ccs") & (result.table.p == p) & (result.table.seed == seed)]
        assert mine.score(test_pos, test_neg, test_labels) == pytest.approx(float(row.accuracy.iloc[0]), abs=0.01)
        assert theirs.score(test_pos, test_neg, test_labels) == pytest.approx(float(row.accuracy.iloc[0]))
        assert mine.loss_ == pytest.approx(float(row.loss.iloc[0]), rel=1e-3)


def test_a_sweep_cell_as_an_estimator_scores_as_its_row(planted):
    data = synthetic_pairs(700, 16, p=0.5, seed=2)
    config = SweepConfig(layer=0, p_levels=(0.5, 0.8), n_train=200, n_test=200, seeds=(0, 1), ccs=FAST_CCS)
    result = core.sweep(data.as_activation_set(), config)
    pos, neg, labels = result.test_pairs()
    for row in result.table.itertuples():
        estimator = result.estimator(row.method, row.p, row.seed)
        assert isinstance(estimator, ESTIMATORS[row.method])
        assert estimator.score(pos, neg, labels) == pytest.approx(row.accuracy), row
    with pytest.raises(UserError, match="no cell"):
        result.estimator("ccs", 0.7, 0)
    assert torch.is_tensor(pos) and len(result.summary("auroc")) == len(config.methods) * 2
