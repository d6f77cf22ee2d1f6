"""The limit of a label-free fix, per probe: how far apart the two classes stand along the
probe's direction, and what that lets any label-free correction of the threshold do.

Burns centering on a draw with a share p of true pairs puts the zero point 2|p - 1/2|
half-gaps from the classes' midpoint (0.9 at p = 0.95). A label-free correction must
place the classes' midpoint from the unlabeled draw itself (the share p and where the two
classes sit). How well it can is set by how far apart the classes are and how many pairs
there are:

- the information bound: for two Gaussian classes of one spread `separation` standard
  deviations apart, with their share, means and spread unknown (as they are to a label-free
  fix), no unbiased estimate of the classes' midpoint from n pairs has a standard deviation
  below sqrt(g' I^-1 g / n) (Cramér-Rao; I the Fisher information of one pair, g the
  midpoint's gradient); its median miss is 0.674 of that;
- checked against the ideal mixture (core.analysis.balance.ideal_mixture_miss): what a
  two-Gaussian mixture fitted to such classes misses, estimating everything; the two agree
  from about a thousand pairs on (tests/unit/test_label_free_limit.py), and on fewer pairs
  the mixture, biased, can miss by less or more.

A miss costs accuracy: classes at +-s/2 with the threshold t sd off the midpoint score
(Phi(s/2 - t) + Phi(s/2 + t)) / 2 instead of Phi(s/2). The verdict says whether the bound's
median miss at this separation, p and training size costs more than COST_TOLERANCE, and how
many pairs would bring it under.

The separation is measured with the lab's evaluation labels on the fixed, balanced test
split, along each probe's direction: the difference w.(x+ - x-) of the pairs as the probe
reads them (a template ensemble's averaged over its templates), in pooled within-class
standard deviations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from core.experiments.cells import SweepResult
from core.experiments.training import normalize_test_pairs, split_inputs
from core.probes import FLOOR_METHOD
from core.store.activations import ActivationSet

COST_TOLERANCE = 0.01  # a correction "recovers the threshold" when it costs under 1 point of accuracy
MEDIAN_OF_HALF_NORMAL = stats.norm.ppf(0.75)  # median |N(0, 1)|: 0.674


def class_separation(scores: np.ndarray, labels: np.ndarray) -> float:
    """|mean(label 1) - mean(label 0)| of `scores` in pooled within-class standard deviations."""
    scores, is_true = np.asarray(scores, dtype=float), np.asarray(labels).astype(bool)
    true, false = scores[is_true], scores[~is_true]
    pooled = np.sqrt((((true - true.mean()) ** 2).sum() + ((false - false.mean()) ** 2).sum()) / len(scores))
    gap = abs(true.mean() - false.mean())
    if pooled > 0:
        return float(gap / pooled)
    return float("inf") if gap > 0 else 0.0  # every score of a class equal: apart exactly when they differ


def probe_separations(acts: ActivationSet, result: SweepResult) -> pd.DataFrame:
    """The separation of every cell's probe on the run's test split: method, p, seed, separation."""
    test = split_inputs(acts, result.config, result.test_indices)
    rows = []
    for (method, p, seed), probe in result.probes.items():
        along = probe.difference_scores(*normalize_test_pairs(probe, test, result.config.test_normalization))
        rows.append({"method": method, "p": p, "seed": seed, "separation": class_separation(along, test.labels)})
    return pd.DataFrame(rows)


def midpoint_variance(separation: float, p: float) -> float:
    """n times the smallest variance any unbiased estimate of the classes' midpoint can have
    from n unlabeled pairs (Cramér-Rao): g' I^-1 g, with I the Fisher information of one
    pair about (p, mu1, mu0, sigma) of two Gaussian classes of one spread (sigma = 1, means
    +-separation/2) and g the midpoint's gradient (0, 1/2, 1/2, 0). Every parameter is
    unknown to a label-free fix, as to the mixture it is checked against."""
    x = np.linspace(-separation / 2 - 14, separation / 2 + 14, 40_001)
    f1, f0 = stats.norm.pdf(x, separation / 2), stats.norm.pdf(x, -separation / 2)
    mixture = p * f1 + (1 - p) * f0
    u1, u0 = x - separation / 2, x + separation / 2
    gradients = np.stack([f1 - f0, p * f1 * u1, (1 - p) * f0 * u0, p * f1 * (u1**2 - 1) + (1 - p) * f0 * (u0**2 - 1)])
    information = np.trapezoid(gradients[:, None] * gradients[None] / mixture, x, axis=-1)
    g = np.array([0.0, 0.5, 0.5, 0.0])
    return float(g @ np.linalg.solve(information, g))


def bound_miss(separation: float, p: float, n: int) -> float:
    """The information bound's median miss of the classes' midpoint (in half-gaps) from n
    unlabeled pairs: 0.674 standard deviations of the best unbiased estimate."""
    return MEDIAN_OF_HALF_NORMAL * math.sqrt(midpoint_variance(separation, p) / n) / (separation / 2)


def accuracy_cost(separation: float, miss: float) -> float:
    """Balanced accuracy lost when the threshold sits `miss` half-gaps off the classes' midpoint."""
    half = separation / 2
    offset = miss * half
    return float(stats.norm.cdf(half) - (stats.norm.cdf(half - offset) + stats.norm.cdf(half + offset)) / 2)


def tolerated_miss(separation: float, cost: float = COST_TOLERANCE) -> float:
    """The largest miss (in half-gaps) that costs at most `cost` of accuracy at this separation."""
    if accuracy_cost(separation, 50.0) <= cost:
        return 50.0
    return float(optimize.brentq(lambda miss: accuracy_cost(separation, miss) - cost, 0.0, 50.0))


def pairs_needed(separation: float, p: float, cost: float = COST_TOLERANCE) -> int:
    """How many unlabeled pairs the information bound needs before its median miss costs under `cost`."""
    allowed = tolerated_miss(separation, cost) * separation / 2
    return math.ceil(midpoint_variance(separation, p) * (MEDIAN_OF_HALF_NORMAL / allowed) ** 2)


MIN_SEPARATION = 0.5  # sd: below it no threshold scores over Phi(0.25) = 60%, so there is none worth recovering
FAR_SEPARATION = 20.0  # sd: the bound is computed here for classes further apart (it is the two-sample one there)
FAR_MISS = 10.0  # half-gaps: beyond this the sentence says only "more than"
MANY_PAIRS = 1_000_000  # beyond this the sentence says only "more than a million pairs"


def pairs_text(needed: int) -> str:
    """How many pairs a verdict says would do, as a sentence says it."""
    return f"about {needed:,} pairs" if needed < MANY_PAIRS else "more than a million pairs"


@dataclass(frozen=True)
class Verdict:
    """What a label-free correction can do for one probe at one level of p and training size."""

    separation: float
    p: float
    n: int
    miss: float  # the information bound's median miss of the classes' midpoint, half-gaps
    miss_burns: float  # Burns centering's, 2|p - 1/2|
    cost: float  # the accuracy that miss costs
    needed: int  # pairs the bound needs to cost under COST_TOLERANCE
    possible: bool  # the miss costs under COST_TOLERANCE at n

    @property
    def separated(self) -> bool:
        """Whether the classes stand far enough apart along the probe for a threshold to matter."""
        return self.separation >= MIN_SEPARATION

    def short(self) -> str:
        """The verdict in a table cell."""
        if not self.separated:
            return "nothing to recover"
        return "possible" if self.possible else f"no ({pairs_text(self.needed)} would do)"

    def sentence(self, method_label: str) -> str:
        """The verdict in one sentence, as the sweep and Remedies pages and the CLI say it."""
        if not self.separated:
            best = stats.norm.cdf(self.separation / 2)
            return (
                f"{method_label}: at {self.separation:.1f} sd apart at p = {self.p:g} the classes barely differ along "
                f"this probe (no threshold scores over {best:.0%}), so there is no threshold for any centering to "
                "recover."
            )
        where = f"{method_label}: at {self.separation:.1f} sd apart with {self.n:,} pairs at p = {self.p:g}"
        miss = f"{self.miss:.2f}" if self.miss < FAR_MISS else f"more than {FAR_MISS:g}"
        misses = (
            f"the information bound puts any label-free estimate of the classes' midpoint a median "
            f"{miss} half-gaps off, Burns centering {self.miss_burns:.2f}"
        )
        if self.possible:
            return f"{where}, a label-free centering could recover the threshold ({misses}, costing {self.cost:.1%})."
        return (
            f"{where}, no label-free centering can recover the threshold ({misses}, costing {self.cost:.1%} of "
            f"accuracy); {pairs_text(self.needed)} would bring it under {COST_TOLERANCE:.0%}."
        )


def label_free_verdict(separation: float, p: float, n: int, cost: float = COST_TOLERANCE) -> Verdict:
    """The Verdict for classes `separation` sd apart, a share p of true pairs and n training
    pairs, from the information bound (asymptotic: an efficient estimate, such as the
    mixture's maximum likelihood, reaches it as n grows; tests check the two agree there)."""
    if math.isnan(separation) or separation < 0:
        raise ValueError(f"a separation must be a number of standard deviations, 0 or more, got {separation}")
    burns = 2 * abs(p - 0.5)
    if separation < MIN_SEPARATION:
        return Verdict(separation, p, n, math.nan, burns, math.nan, 0, False)
    apart = min(separation, FAR_SEPARATION)
    miss = bound_miss(apart, p, n)
    lost = accuracy_cost(apart, miss)
    return Verdict(separation, p, n, miss, burns, lost, pairs_needed(apart, p, cost), lost <= cost)


def run_verdicts(acts: ActivationSet, result: SweepResult) -> pd.DataFrame:
    """Per method of a run (the random direction left out), at its highest p: the mean
    separation over seeds along its probes and the label-free Verdict at that separation,
    p and the run's training size."""
    separations = probe_separations(acts, result)
    high = float(separations.p.max())
    rows = []
    at_high = separations[np.isclose(separations.p, high) & (separations.method != FLOOR_METHOD)]
    for method, part in at_high.groupby("method", sort=False):
        verdict = label_free_verdict(float(part.separation.mean()), high, result.config.n_train)
        rows.append({"method": method, **verdict.__dict__})
    return pd.DataFrame(rows)
