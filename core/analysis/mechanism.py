"""The mechanism, measured on real activations: what per-side centering does to the truth
direction as p changes, next to what the two-point model in core.analysis.theory predicts.

The truth direction u is supervised: the unit vector between the class means of the
pair differences d = x+ - x- (a mass-mean probe), fitted on the whole training pool.
Along u, the classes sit at m1 (x+ true) and m0 (x+ false), Delta = m1 - m0 apart.
A training draw with a fraction p of true-+ pairs has mean(x+) - mean(x-) = mean(d) at
m0 + p Delta along u, so centering puts true pairs at (1 - p) Delta and false ones at
-p Delta: the zero point, where the consistency term puts its threshold, slides with p.
The between-class (truth) variance along u is p (1 - p) Delta^2, 4p(1 - p) times its
balanced value; the within-class spread (p var1 + (1 - p) var0) does not shrink with it,
so on real activations the truth direction loses salience more slowly than 4p(1 - p).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from core.analysis.theory import truth_variance_ratio
from core.data.sampling import split_test, training_draw
from core.experiments.cells import SweepResult
from core.normalizations import NORMALIZATION_REGISTRY
from core.probes import logistic_twins
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationSet


def truth_direction(pos: torch.Tensor, neg: torch.Tensor, labels: np.ndarray) -> torch.Tensor:
    """Unit mass-mean direction of the differences x+ - x-: mean over label 1 minus mean over label 0."""
    differences = (pos - neg).double()
    mask = torch.from_numpy(labels.astype(bool))
    direction = differences[mask].mean(0) - differences[~mask].mean(0)
    return (direction / direction.norm()).float()


def centering_table(acts: ActivationSet, config: SweepConfig) -> pd.DataFrame:
    """Per (p, seed) training draw of `config`: the measured and predicted position of the
    centering point along u (mean_shift), of true and false pairs after centering, and
    the variance along u after centering, with its 4p(1 - p) truth-part prediction.

    Predictions use m0, Delta and the within-class variance measured on the pool, so
    they are a real test of the model, not a restatement of the measurement."""
    acts.require_one_template("The mechanism")
    pos, neg = acts.layer(config.layer)
    _test, pool = split_test(acts.labels, config.n_test, config.split_seed, acts.texts)
    u = truth_direction(pos[pool], neg[pool], acts.labels[pool]).double()
    along = ((pos - neg).double() @ u).numpy()
    labels = acts.labels
    m1, m0 = along[pool][labels[pool] == 1].mean(), along[pool][labels[pool] == 0].mean()
    delta = m1 - m0
    var0, var1 = (along[pool][labels[pool] == c].var() for c in (0, 1))
    rows = []
    for seed in config.seeds:
        for p in config.p_levels:
            draw = training_draw(labels, pool, p, config.n_train, seed)
            values, truth = along[draw], labels[draw] == 1
            centered = values - values.mean()
            p_hat = truth.mean()
            rows.append(
                {
                    "p": float(p),
                    "seed": int(seed),
                    "mean_shift": float(values.mean()),
                    "mean_shift_predicted": float(m0 + p_hat * delta),
                    "true_position": float(centered[truth].mean()),
                    "true_position_predicted": float((1 - p_hat) * delta),
                    "false_position": float(centered[~truth].mean()),
                    "false_position_predicted": float(-p_hat * delta),
                    "variance": float(centered.var()),
                    # Law of total variance: between-class (truth) part + each class's own spread.
                    "variance_predicted": float(p_hat * (1 - p_hat) * delta**2 + p_hat * var1 + (1 - p_hat) * var0),
                    "truth_variance_ratio_predicted": float(truth_variance_ratio(p_hat)),
                }
            )
    table = pd.DataFrame(rows)
    balanced = table[np.isclose(table.p, 0.5)].variance.mean() if (np.isclose(table.p, 0.5)).any() else np.nan
    table["variance_ratio"] = table.variance / balanced
    table.attrs.update(delta=float(delta), m0=float(m0), within_variance=(float(var0), float(var1)))
    return table


def _raw_direction(probe) -> torch.Tensor:
    """Unit probe direction in the original coordinates (w / sd under "meanstd")."""
    weight = probe.weight.double()
    if probe.train_stats.std_pos is not None:
        weight = weight / probe.train_stats.std_pos.double()
    return weight / weight.norm()


def direction_stability(result: SweepResult) -> pd.DataFrame:
    """|cos| between each cell's probe direction and the same method's direction, same
    seed, at the level of p closest to 0.5: does a method still find at p what it found on
    balanced data? (Directions are compared in raw coordinates: w / sd under "meanstd".)"""
    reference_p = min(result.config.p_levels, key=lambda level: abs(level - 0.5))
    rows = []
    for (method, p, seed), probe in result.probes.items():
        reference = _raw_direction(result.probes[(method, reference_p, seed)])
        rows.append(
            {"method": method, "p": p, "seed": seed, "stability": float(torch.abs(_raw_direction(probe) @ reference))}
        )
    return pd.DataFrame(rows)


def seed_agreement(result: SweepResult) -> pd.DataFrame:
    """Per method, the mean |cos| between the directions two different seeds find at the
    level of p closest to 0.5: the resampling noise floor for direction_stability."""
    reference_p = min(result.config.p_levels, key=lambda level: abs(level - 0.5))
    rows = []
    for method in result.config.methods:
        directions = [_raw_direction(result.probes[(method, reference_p, seed)]) for seed in result.config.seeds]
        pairs = [float(torch.abs(a @ b)) for i, a in enumerate(directions) for b in directions[i + 1 :]]
        if pairs:
            rows.append({"method": method, "agreement": float(np.mean(pairs))})
    return pd.DataFrame(rows)


def logistic_threshold_shift(result: SweepResult) -> dict | None:
    """LR on mean-normalized inputs against LR on raw differences (core.probes.
    logistic_twins), at the sweep's highest p:
    the two share their weights (core.probes.supervised.shifted_intercept), so they rank
    the test pairs alike and differ only in threshold. Returns p, both mean accuracies, both
    mean AUROCs, the largest per-cell AUROC difference over all cells and the cell count;
    None when the sweep lacks either method or its normalization does more than shift."""
    table, twins = result.table, logistic_twins()
    shift_only = NORMALIZATION_REGISTRY[result.config.normalization].shift_only
    if not shift_only or twins is None or not set(twins) <= set(table.method):
        return None
    by_cell = table.set_index(["method", "p", "seed"])
    raw, norm = by_cell.loc[twins[0]], by_cell.loc[twins[1]].reindex(by_cell.loc[twins[0]].index)
    top = max(result.config.p_levels)
    at_top = raw.index.get_level_values("p") == top
    return {
        "p": top,
        "accuracy_raw": float(raw.accuracy[at_top].mean()),
        "accuracy_norm": float(norm.accuracy[at_top].mean()),
        "auroc_raw": float(raw.auroc[at_top].mean()),
        "auroc_norm": float(norm.auroc[at_top].mean()),
        "max_auroc_difference": float((raw.auroc - norm.auroc).abs().max()),
        "cells": len(raw),
    }
