"""Supervised baselines: logistic regression (scikit-learn) on pair differences, with
class_weight="balanced" as in the reference notebook, so that the ordinary prior shift
of an imbalanced training set (an intercept leaning to the majority class) is not
confused with the normalization effect this lab studies."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from core.probes.linear import Fit


def fit_logistic(differences: torch.Tensor, labels: np.ndarray, tol: float = 1e-6, max_iter: int = 2000) -> Fit:
    """The Fit (weight [d], intercept, training log-loss) of a balanced-class logistic regression
    predicting label 1 (+ is true) from [n, d] differences x+ - x-.

    The solver sees the differences centered on their mean and the intercept is moved back
    afterwards (see shifted_intercept): the same objective and the same optimum, but raw
    differences share a large constant offset that is nearly collinear with the intercept:
    on three demo cells L-BFGS at sklearn's default tol 1e-4 stopped 0.014-0.067 above the
    minimum of the penalized objective (11-24) after 100-280 iterations. Centered, it
    reaches the minimum to about 1e-6 in about 110 iterations; `tol` is tighter than the
    default so that the result is the optimum, not wherever the solver gave up."""
    # scikit-learn costs about 1.3 s to import, which every command of the CLI would pay for
    # reading the method registry (its --help included); only a fit needs it.
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    features = differences.double().numpy()
    center = features.mean(axis=0)
    model = LogisticRegression(class_weight="balanced", tol=tol, max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features - center, labels)
    loss = log_loss(labels, model.predict_proba(features - center)[:, 1], labels=[0, 1])
    weight = torch.from_numpy(model.coef_[0])
    intercept = shifted_intercept(weight, float(model.intercept_[0]), -torch.from_numpy(center))
    return Fit(weight.to(torch.float32), intercept, float(loss))


def shifted_intercept(weight: torch.Tensor, intercept: float, shift: torch.Tensor) -> float:
    """The intercept of the same fit refitted to `differences - shift`, for a fit whose
    weight does not depend on where the inputs sit (logistic regression, whose L2 penalty
    leaves the intercept alone; the mass-mean probe; LDA).

    Moving every input by a constant vector then moves the optimum only in its intercept:
    w.(d - shift) + b' = w.d + b for b' = b + w.shift, with the same weight and the same
    training loss. Mean
    normalization is such a shift (shift = mean(x+) - mean(x-) of the training draw),
    so "LR on normalized inputs" is "LR on raw differences" with its zero point moved;
    the sweep derives it that way instead of fitting it again."""
    return float(intercept + torch.dot(weight.double(), shift.double()))
