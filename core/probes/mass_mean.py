"""Closed-form supervised directions on pair differences (Marks & Tegmark 2023): the
mass-mean probe, the difference of the two class means, and its covariance-corrected
form, linear discriminant analysis. Both put the threshold midway between the classes
(equal priors), as the balanced-class logistic regression does, so a moved threshold
under imbalance comes from the normalization, not from a prior."""

from __future__ import annotations

import math

import numpy as np
import torch

from core.probes.linear import Fit


def _class_means(differences: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    truth = labels.astype(bool)
    return differences[truth].mean(axis=0), differences[~truth].mean(axis=0)


def fit_mass_mean(differences: torch.Tensor, labels: np.ndarray) -> Fit:
    """The Fit (weight = mean of label-1 differences minus mean of label-0 ones, intercept putting
    the threshold midway between them, nan loss) on [n, d] differences x+ - x-."""
    features = differences.double().numpy()
    true_mean, false_mean = _class_means(features, labels)
    weight = true_mean - false_mean
    return Fit(torch.from_numpy(weight).to(torch.float32), float(-weight @ (true_mean + false_mean) / 2), math.nan)


def fit_lda(differences: torch.Tensor, labels: np.ndarray) -> Fit:
    """The Fit (weight, intercept, nan loss) of linear discriminant analysis on [n, d] differences:
    the mass-mean direction corrected by the pooled within-class covariance, with
    Ledoit-Wolf shrinkage (hidden states have more dimensions than a cell has pairs) and
    equal priors (scikit-learn's LinearDiscriminantAnalysis, lsqr solver)."""
    # scikit-learn costs about 1.3 s to import, which every command of the CLI would pay for
    # reading the method registry (its --help included); only a fit needs it.
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    model = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto", priors=[0.5, 0.5])
    model.fit(differences.double().numpy(), labels)
    return Fit(torch.from_numpy(model.coef_[0]).to(torch.float32), float(model.intercept_[0]), math.nan)
