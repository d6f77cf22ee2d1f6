"""Supervised baselines: logistic regression (scikit-learn) on pair differences, with
class_weight="balanced" as in the reference notebook, so that the ordinary prior shift
of an imbalanced training set (an intercept leaning to the majority class) is not
confused with the normalization effect this lab studies."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss


def fit_logistic(differences: torch.Tensor, labels: np.ndarray,
                 max_iter: int = 2000) -> tuple[torch.Tensor, float, float]:
    """(weight [d], intercept, training log-loss) of a balanced-class logistic regression
    predicting label 1 (+ is true) from [n, d] differences x+ - x-."""
    features = differences.double().numpy()
    model = LogisticRegression(class_weight="balanced", max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, labels)
    loss = log_loss(labels, model.predict_proba(features)[:, 1], labels=[0, 1])
    return torch.from_numpy(model.coef_[0]).to(torch.float32), float(model.intercept_[0]), float(loss)
