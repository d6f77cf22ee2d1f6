"""Every contrast-pair method as a scikit-learn-style estimator, for a researcher's own
(pos, neg) arrays: parameters stored by `__init__` only (get_params, set_params and
sklearn.base.clone work), `fit(pos, neg, y=None)` returns the estimator, and what it learns
ends in an underscore (coef_, intercept_, loss_, the training statistics it normalized with).

Each class is the public face of one method of the registry (core.probes.METHOD_REGISTRY,
whose entry names the class): it normalizes with the same code (core.normalizations) and
trains with the same fit the sweep engine calls, CCS with the same batched reference
optimizer (core.probes.ccs.train_ccs) and the same initial weights for a seed, so an
estimator fitted on a sweep cell's training pairs with `random_state` = the cell's seed
finds the cell's direction.

Pairs are [n, d] arrays (numpy or torch) of the hidden states of x+ and x-; labels are 0/1,
1 where the + completion is the true one.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from core.config import CCSConfig
from core.errors import UserError
from core.normalizations import NORMALIZATION_REGISTRY, NORMALIZATIONS, fit_stats
from core.normalizations.stats import NormStats
from core.probes import METHOD_REGISTRY, LinearProbe, Method
from core.probes.ccs import ccs_problem, initial_parameters

_BY_ESTIMATOR = {method.estimator: method for method in METHOD_REGISTRY.values()}
TEST_NORMALIZATIONS = ("own", "train")


def _pairs(pos: Any, neg: Any, width: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Two [n, d] arrays as float32 tensors, checked: the same shape, finite, `width` wide."""
    tensors = []
    for name, side in (("pos", pos), ("neg", neg)):
        tensor = side.detach().cpu() if torch.is_tensor(side) else torch.from_numpy(np.asarray(side, dtype=np.float32))
        if tensor.ndim != 2:
            raise UserError(f"{name} is {list(tensor.shape)}; pairs are [n, d] arrays (one layer).")
        tensors.append(tensor.to(torch.float32))
    pos_t, neg_t = tensors
    if pos_t.shape != neg_t.shape:
        raise UserError(f"pos is {list(pos_t.shape)} and neg {list(neg_t.shape)}; they must be the same shape.")
    if width is not None and pos_t.shape[1] != width:
        raise UserError(f"The pairs are {pos_t.shape[1]} wide; this estimator was fitted on {width}.")
    if not (torch.isfinite(pos_t).all() and torch.isfinite(neg_t).all()):
        raise UserError("The pairs hold NaN or infinite values.")
    return pos_t, neg_t


def _labels(y: Any, n: int) -> np.ndarray:
    labels = np.asarray(y.cpu() if torch.is_tensor(y) else y).reshape(-1)
    if len(labels) != n:
        raise UserError(f"There are {len(labels)} labels for {n} pairs.")
    if not np.isin(labels, (0, 1)).all():
        raise UserError("Labels must be 0 or 1 (1 = the + completion is true).")
    return labels.astype(np.int64)


class ContrastProbe(BaseEstimator):
    """What every method's estimator shares; each subclass is one method of the registry.

    Parameters:
        normalization: the per-side normalization fitted on the training pairs (core.
            normalizations; "mean" is the reference's centering). A method that reads raw
            pairs (RawLogistic) ignores it.
        test_normalization: how pairs passed to predict_proba are normalized: "own", with
            their own statistics (the reference code, and the sweep's default; it needs
            two or more pairs), or "train", with the training statistics (a deployment).
        random_state: the seed (CCS's initial weights, the random direction), as a sweep's seed.
    """

    method: ClassVar[Method]

    def __init_subclass__(cls, **options):
        super().__init_subclass__(**options)
        cls.method = _BY_ESTIMATOR[cls.__name__]  # a KeyError here: a class the registry does not name

    def __init__(self, normalization: str = "mean", test_normalization: str = "own", random_state: int = 0):
        self.normalization = normalization
        self.test_normalization = test_normalization
        self.random_state = random_state

    @property
    def supervised(self) -> bool:
        """Whether fit reads the labels (score then keeps the sign it learned)."""
        return self.method.supervised

    def _kind(self, labels: np.ndarray | None) -> str:
        """The normalization its fit uses, checked."""
        if self.test_normalization not in TEST_NORMALIZATIONS:
            raise UserError(f"test_normalization is {self.test_normalization!r}; use 'own' or 'train'.")
        if not self.method.normalized_inputs:
            return "none"
        norm = NORMALIZATION_REGISTRY.get(self.normalization)
        if norm is None:
            raise UserError(f"Unknown normalization {self.normalization!r} (use {', '.join(NORMALIZATIONS)}).")
        if norm.companion is not None:
            raise UserError(f"The normalization {norm.id!r} needs companion pairs, which only a sweep extracts.")
        if norm.uses_labels and (labels is None or self.test_normalization == "own"):
            raise UserError(
                f"The normalization {norm.id!r} reads labels: fit with y and predict with test_normalization='train'."
            )
        return norm.id

    def _train(self, pos: torch.Tensor, neg: torch.Tensor, labels, stats: NormStats) -> tuple:
        """(weight, bias, training loss) of the method's fit on the normalized pairs."""
        fit = self.method.fit(*stats.apply(pos, neg), labels, self.random_state)
        return fit.weight, fit.bias, fit.loss

    def fit(self, pos, neg, y=None):
        """Fit on [n, d] training pairs; `y` (0/1) only reaches a supervised method (and a
        normalization that reads labels). Returns the estimator."""
        pos_t, neg_t = _pairs(pos, neg)
        labels = _labels(y, len(pos_t)) if y is not None else None
        if self.supervised and labels is None:
            raise UserError(f"{self.method.label} is supervised: fit(pos, neg, y) needs the labels.")
        kind = self._kind(labels)
        stats = fit_stats(pos_t, neg_t, kind, labels)
        weight, bias, loss = self._train(pos_t, neg_t, labels if self.supervised else None, stats)
        return self.from_probe(LinearProbe(self.method.id, self.method.form, weight.float(), float(bias), stats, loss))

    def from_probe(self, probe: LinearProbe):
        """This estimator, fitted: the trained `probe` of its method (a sweep cell's, or its own fit's)."""
        if probe.method != self.method.id:
            raise UserError(f"A {probe.method} probe cannot be a {type(self).__name__} estimator.")
        stats = probe.train_stats
        self.probe_ = probe
        self.coef_ = probe.weight.numpy()
        self.intercept_ = probe.bias
        self.loss_ = probe.loss
        self.train_stats_ = stats
        self.mean_pos_, self.mean_neg_ = stats.mean_pos.numpy(), stats.mean_neg.numpy()
        self.std_pos_ = None if stats.std_pos is None else stats.std_pos.numpy()
        self.std_neg_ = None if stats.std_neg is None else stats.std_neg.numpy()
        self.n_features_in_ = int(probe.weight.shape[0])
        self.classes_ = np.array([0, 1])
        return self

    def _scores(self, pos, neg):
        check_is_fitted(self, "probe_")
        pos_t, neg_t = _pairs(pos, neg, self.n_features_in_)
        if self.test_normalization == "own":
            if len(pos_t) < 2:
                raise UserError("test_normalization='own' normalizes pairs by their own statistics: pass two or more.")
            stats = fit_stats(pos_t, neg_t, self.train_stats_.kind)
        else:
            stats = self.train_stats_
        return self.probe_.scores(*stats.apply(pos_t, neg_t))

    def predict_proba(self, pos, neg) -> np.ndarray:
        """[n, 2]: the probability that each pair's label is 0 and 1 (x+ true), as the probe's
        form (core.probes.base) scores it. An unsupervised method's sign is arbitrary."""
        confidence = self._scores(pos, neg).confidence
        return np.column_stack([1 - confidence, confidence])

    def decision_function(self, pos, neg) -> np.ndarray:
        """[n]: the log-odds that x+ is true."""
        return self._scores(pos, neg).log_odds

    def predict(self, pos, neg) -> np.ndarray:
        """[n]: 1 where the probe says x+ is true (confidence > 0.5), else 0."""
        return (self._scores(pos, neg).confidence > 0.5).astype(int)

    def score(self, pos, neg, y) -> float:
        """Accuracy on labeled pairs. For an unsupervised method the sign is chosen with the
        labels, max(acc, 1 - acc), as the reference code and the sweep's `accuracy` column do
        (core.metrics); a supervised method keeps the sign it learned."""
        labels = _labels(y, len(np.asarray(pos)))
        accuracy = float((self.predict(pos, neg) == labels).mean())
        return accuracy if self.supervised else max(accuracy, 1 - accuracy)


class CCS(ContrastProbe):
    """Contrast-Consistent Search (Burns et al. 2022) with the reference optimizer: `restarts`
    random initializations of `epochs` full-batch AdamW epochs (`lr`, `weight_decay`),
    keeping the lowest final loss, on `device`."""

    def __init__(
        self,
        normalization: str = "mean",
        test_normalization: str = "own",
        random_state: int = 0,
        epochs: int = 1000,
        restarts: int = 10,
        lr: float = 1e-3,
        weight_decay: float = 0.01,
        device: str = "cpu",
    ):
        super().__init__(normalization, test_normalization, random_state)
        self.epochs = epochs
        self.restarts = restarts
        self.lr = lr
        self.weight_decay = weight_decay
        self.device = device

    def _train(self, pos, neg, labels, stats):
        config = CCSConfig(epochs=self.epochs, restarts=self.restarts, lr=self.lr, weight_decay=self.weight_decay)
        weight, bias = initial_parameters(pos.shape[1], config.restarts, self.random_state)
        membership = torch.ones(1, len(pos), dtype=torch.bool)
        problem = ccs_problem(pos, neg, membership, [stats], weight[None], bias[None])
        (fit,) = self.method.train_batched([problem], config, self.device)
        return fit.weight[0], float(fit.bias[0]), float(fit.loss[0])


class SubspaceCCS(CCS):
    """CCS searched in the top few principal directions of the normalized training differences
    (core.probes.ccs_subspace), with CCS's parameters."""


class TPC(ContrastProbe):
    """The top principal component of the normalized differences (unsupervised)."""


class VINC(ContrastProbe):
    """elk's eigen reporter: the direction along which x+ and x- are most anti-correlated (unsupervised)."""


class EMBalancedTPC(ContrastProbe):
    """TPC with the two classes EM estimates without labels weighted equally (a label-free remedy)."""


class EMBalancedVINC(ContrastProbe):
    """VINC with the two classes EM estimates without labels weighted equally (a label-free remedy)."""


class RawLogistic(ContrastProbe):
    """Logistic regression (class_weight="balanced") on raw differences x+ - x-: the supervised ceiling."""


class NormalizedLogistic(ContrastProbe):
    """Logistic regression (class_weight="balanced") on the normalized differences CCS sees."""


class MassMean(ContrastProbe):
    """The difference of the class means of the normalized differences, threshold midway (supervised)."""


class LDA(ContrastProbe):
    """The mass-mean direction corrected by the shrunk within-class covariance, equal priors (supervised)."""


class RandomDirection(ContrastProbe):
    """A random unit direction drawn from `random_state`: the floor."""


ESTIMATORS: dict[str, type[ContrastProbe]] = {
    cls.method.id: cls for cls in (*ContrastProbe.__subclasses__(), *CCS.__subclasses__())
}


def estimator_for(method: str, **params) -> ContrastProbe:
    """The estimator of the registry's method `method` (its id), with `params`."""
    if method not in ESTIMATORS:
        raise UserError(f"Unknown method {method!r} (use {', '.join(ESTIMATORS)}).")
    return ESTIMATORS[method](**params)
