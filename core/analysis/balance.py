"""Why a label-free balancing remedy works or not, measured on one run's training draws:
how well the consistency direction it is guided by points at truth, how well its mixture
estimates the share of true pairs and labels the pairs, and how far the centers it moves
to land from the oracle's, against how far Burns centering lands.

The labels are read here only to measure (the remedies themselves never see them).
Truth along a draw is its class-mean difference of x+ - x- (the direction the oracle
balances along); distances along it are in units of half the distance between the two
classes' means, so 1 is a miss as large as the whole truth signal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from core.config import SweepConfig
from core.data.sampling import split_test, training_draw
from core.normalizations import fit_stats
from core.probes.mixture import consistency_direction, two_gaussians
from core.store.activations import ActivationSet

COMPARED = ("mean", "em_balanced", "prior_shift", "self_balanced")


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
        stats = fit_stats(pos, neg, kind)
        center = float((stats.mean_pos - stats.mean_neg).double() @ truth)
        row[f"miss_{kind}"] = abs(center - oracle_center) / half_separation
    return row


def balance_diagnosis(acts: ActivationSet, sweep: SweepConfig) -> pd.DataFrame:
    """draw_diagnosis of every training draw (p level x seed) of `sweep` on `acts`."""
    pos, neg = acts.layer(sweep.layer)
    _, pool = split_test(acts.labels, sweep.n_test, sweep.split_seed, acts.texts)
    rows = []
    for p in sweep.p_levels:
        for seed in sweep.seeds:
            draw = training_draw(acts.labels, pool, p, sweep.n_train, seed)
            rows.append({"p_level": p, "seed": seed, **draw_diagnosis(pos[draw], neg[draw], acts.labels[draw])})
    return pd.DataFrame(rows)
