"""Why a label-free balancing remedy works or not, measured on one run's training draws:
how well the consistency direction it is guided by points at truth, how well its mixture
estimates the share of true pairs and labels the pairs, and how far the centers it moves
to land from the oracle's, against how far Burns centering lands. Then the best case, along
truth itself: how far apart and how skewed the two classes are there, and how far a
mixture's midpoint lands from the classes' even knowing the share of true pairs; and
ideal_mixture_miss, what the same mixture misses on Gaussian classes as far apart, the
limit that the number of pairs alone sets.

The labels are read here only to measure (the label-free remedies never see them;
prior_given, compared beside them, reads their share).
Truth along a draw is its class-mean difference of x+ - x- (the direction the oracle
balances along); distances along it are in units of half the distance between the two
classes' means, so 1 is a miss as large as the whole truth signal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy import stats

from core.analysis.separation import class_separation
from core.data.sampling import split_test, training_draw
from core.normalizations import fit_stats
from core.probes.mixture import consistency_direction, two_gaussians, two_gaussians_many
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationSet

COMPARED = ("mean", "em_balanced", "prior_shift", "self_balanced", "prior_given")


def draw_diagnosis(pos: torch.Tensor, neg: torch.Tensor, labels: np.ndarray) -> dict:
    """The measures of the module docstring on one training draw's raw pairs."""
    difference = (pos - neg).double()
    is_true = torch.from_numpy(labels.astype(bool))
    gap = difference[is_true].mean(0) - difference[~is_true].mean(0)
    truth = gap / gap.norm()
    half_separation = float(gap.norm()) / 2
    guide = consistency_direction(pos, neg, None).double()
    burns = fit_stats(pos, neg, "mean")
    centered = ((pos - burns.mean_pos) - (neg - burns.mean_neg)).double() @ guide
    mixture = two_gaussians(centered.numpy())
    a_is_true = np.corrcoef(mixture.responsibility, labels)[0, 1] >= 0
    oracle = fit_stats(pos, neg, "oracle_balanced", labels)
    oracle_center = float((oracle.mean_pos - oracle.mean_neg).double() @ truth)
    row = {
        "p": float(labels.mean()),
        "guide_cosine": abs(float(guide @ truth)),
        "p_estimated": mixture.share_a if a_is_true else 1 - mixture.share_a,
        "soft_label_accuracy": float(((mixture.responsibility > 0.5) == (labels == int(a_is_true))).mean()),
        "separation_in_sd": abs(mixture.mean_a - mixture.mean_b) / mixture.sd,
    }
    for kind in COMPARED:
        fitted = fit_stats(pos, neg, kind, labels)  # only prior_given reads them, and only their share
        center = float((fitted.mean_pos - fitted.mean_neg).double() @ truth)
        row[f"miss_{kind}"] = abs(center - oracle_center) / half_separation
    return row | along_truth(((pos - burns.mean_pos) - (neg - burns.mean_neg)).double() @ truth, labels)


def along_truth(projected: torch.Tensor, labels: np.ndarray) -> dict:
    """The best case for a mixture remedy, on a draw's Burns-centered differences projected
    on truth: the classes' separation in within-class standard deviations, each class's
    skewness, and how far the midpoint of a two-Gaussian mixture lands from the classes'
    midpoint, free and with the share of true pairs given (in half-separations)."""
    z, is_true = projected.numpy(), labels.astype(bool)
    true, false = z[is_true], z[~is_true]
    half = abs(true.mean() - false.mean()) / 2
    midpoint = (true.mean() + false.mean()) / 2
    return {
        "truth_separation_in_sd": class_separation(z, is_true),
        "skew_true": float(stats.skew(true)) if len(true) > 2 else float("nan"),
        "skew_false": float(stats.skew(false)) if len(false) > 2 else float("nan"),
        "truth_miss_free": abs(two_gaussians(z).midpoint - midpoint) / half,
        "truth_miss_given": abs(two_gaussians(z, float(is_true.mean())).midpoint - midpoint) / half,
    }


def ideal_mixture_miss(separation: float, p: float, n: int, repeats: int = 200, seed: int = 0) -> dict:
    """What along_truth's mixtures miss by on ideal data: `repeats` draws of n pairs, two
    Gaussian classes of one spread `separation` standard deviations apart, round(p * n)
    of them true, Burns-centered. Median and 90th percentile of the miss, free and with
    the share given: the limit n pairs set at that separation, before any skew."""
    rng = np.random.default_rng(seed)
    true = round(p * n)
    z = np.concatenate(
        [rng.normal(separation / 2, 1, (repeats, true)), rng.normal(-separation / 2, 1, (repeats, n - true))], axis=1
    )
    z -= z.mean(axis=1, keepdims=True)
    half = np.abs(z[:, :true].mean(1) - z[:, true:].mean(1)) / 2
    midpoint = (z[:, :true].mean(1) + z[:, true:].mean(1)) / 2
    result = {}
    for name, share in (("free", None), ("given", true / n)):
        miss = np.abs(np.array([m.midpoint for m in two_gaussians_many(z, share)]) - midpoint) / half
        result[f"median_{name}"], result[f"q90_{name}"] = float(np.median(miss)), float(np.quantile(miss, 0.9))
    return result


def balance_diagnosis(acts: ActivationSet, sweep: SweepConfig) -> pd.DataFrame:
    """draw_diagnosis of every training draw (p level x seed) of `sweep` on `acts`."""
    acts.require_one_template("The balance diagnosis")
    pos, neg = acts.layer(sweep.layer)
    _, pool = split_test(acts.labels, sweep.n_test, sweep.split_seed, acts.texts)
    rows = []
    for p in sweep.p_levels:
        for seed in sweep.seeds:
            draw = training_draw(acts.labels, pool, p, sweep.n_train, seed)
            rows.append({"p_level": p, "seed": seed, **draw_diagnosis(pos[draw], neg[draw], acts.labels[draw])})
    return pd.DataFrame(rows)
