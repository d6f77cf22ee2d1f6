"""The metrics of a sweep cell (METRICS, one registry), with the paper's sign convention,
and 95% confidence intervals over seeds.

Sign convention: an unsupervised probe (CCS, TPC, VINC, random) does not know which end of
its direction means "true", so, as in Burns et al., its accuracy on the test split is
max(acc, 1 - acc); every other metric uses the same orientation as the accuracy.
Supervised probes are never flipped.

Two metrics separate the two ways a probe fails under imbalance: AUROC (does it still
rank true pairs above false ones: the direction) and calibrated accuracy (accuracy with
the threshold at the median test score, elk's label-free fix for a moved threshold; the
test split is balanced, so the median is where a balanced threshold belongs). Accuracy
below calibrated accuracy is a moved threshold; calibrated accuracy below its balanced
value is a lost direction.

The median threshold knows one thing about the test split's labels: that they are
balanced. The estimated-prior threshold (ESTIMATED_PRIOR) knows nothing: it reads the
test split as a deployment does, with the training statistics, and puts the threshold
where a two-Gaussian mixture of the probe's scores on its own training pairs says the two
classes meet (issue 21's label-free threshold for deployment).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from core.errors import UserError

CI_LEVEL = 0.95
ECE_BINS = 10


@dataclass(frozen=True)
class ThresholdRemedy:
    """How a metric that is the accuracy at a label-free threshold is shown as a remedy
    beside the normalizations (core.analysis.remedies.with_threshold_remedies): its label and
    what it assumes (its colour follows the lab's rule, core.views.palette)."""

    label: str
    description: str


@dataclass(frozen=True)
class Metric:
    """A column of the sweep table: its label, the chance level a chart draws (None: no
    chance line), whether higher is better, and, for the accuracy at a label-free
    threshold, how it is shown as a remedy."""

    label: str
    chance: float | None
    higher_is_better: bool = True
    remedy: ThresholdRemedy | None = None


ESTIMATED_PRIOR = "accuracy_prior"
METRICS = {
    "accuracy": Metric("Accuracy", 0.5),
    "auroc": Metric("AUROC", 0.5),
    "accuracy_calibrated": Metric("Calibrated accuracy (median threshold)", 0.5),
    ESTIMATED_PRIOR: Metric(
        "Deployed accuracy at the estimated-prior threshold",
        0.5,
        remedy=ThresholdRemedy(
            "Estimated-prior threshold",
            "No labels, no refit: the same probe, the test split read with its training statistics (as "
            "deployed), thresholded at the midpoint of a two-Gaussian mixture fitted to its scores on its own "
            "training pairs, where balanced classes would meet. Assumes those scores are two Gaussian bumps of "
            "one spread, one per class.",
        ),
    ),
    "ece": Metric("Expected calibration error", None, higher_is_better=False),
}
THRESHOLD_REMEDIES = {metric: spec.remedy for metric, spec in METRICS.items() if spec.remedy is not None}
# Below this many seeds a t-interval is too wide (2 seeds: t = 12.7) to mean much, and
# every table and caption says so.
FEW_SEEDS = 3


def evaluate(
    labels: np.ndarray, confidence: np.ndarray, resolve_sign: bool, log_odds: np.ndarray | None = None
) -> dict[str, float | bool]:
    """accuracy (sign-resolved when `resolve_sign`), accuracy_raw, auroc,
    accuracy_calibrated, ece and sign_flipped for confidences that x+ is true
    (prediction: confidence > 0.5; the ranking metrics use `log_odds` when given)."""
    return evaluate_many(
        labels, confidence[None], np.array([resolve_sign]), None if log_odds is None else log_odds[None]
    )[0]


def evaluate_many(
    labels: np.ndarray, confidences: np.ndarray, resolve_sign: np.ndarray, log_odds: np.ndarray | None = None
) -> list[dict]:
    """evaluate() for many probes at once: confidences [P, n] on the same n test pairs,
    resolve_sign [P], and optionally the confidences' log-odds [P, n], which the ranking
    metrics (AUROC, the median threshold) then use: a confidence rounds to exactly 1 for
    logits beyond about 37, which a probe with a large weight reaches, and would tie pairs
    it ranks apart. AUROC is the Mann-Whitney U statistic of the true-+ pairs'
    rankings against the others, over n1 * n0 (ties count half, as in roc_auc_score,
    which the tests hold it to); scipy computes it for every probe in one call, which
    took 0.03 s for a demo sweep's 350 probes against 0.5 s for roc_auc_score in a loop."""
    truth = np.asarray(labels).astype(bool)
    if truth.all() or not truth.any():
        raise ValueError("AUROC needs test pairs of both labels.")
    raw = ((confidences > 0.5) == truth).mean(axis=1)
    ranking = confidences if log_odds is None else log_odds
    u_statistic = stats.mannwhitneyu(ranking[:, truth], ranking[:, ~truth], axis=1, method="asymptotic").statistic
    auc = u_statistic / (truth.sum() * (~truth).sum())
    flipped = np.asarray(resolve_sign, dtype=bool) & (raw < 0.5)
    oriented = np.where(flipped[:, None], 1 - confidences, confidences)
    oriented_ranking = np.where(flipped[:, None], -ranking, ranking) if log_odds is not None else oriented
    calibrated = ((oriented_ranking > np.median(oriented_ranking, axis=1, keepdims=True)) == truth).mean(axis=1)
    return [
        {
            "accuracy": float(1 - r if f else r),
            "accuracy_raw": float(r),
            "auroc": float(1 - a if f else a),
            "accuracy_calibrated": float(c),
            "ece": expected_calibration_error(truth, o),
            "sign_flipped": bool(f),
        }
        for r, a, c, o, f in zip(raw, auc, calibrated, oriented, flipped)
    ]


def threshold_accuracy(
    labels: np.ndarray, log_odds: np.ndarray, thresholds: np.ndarray, flipped: np.ndarray
) -> np.ndarray:
    """Accuracy [P] of P probes whose x+ is called true above their own threshold on the
    log-odds [P, n] of the same n test pairs, in the orientation their accuracy took
    (`flipped` [P]: the sign convention above)."""
    right = ((log_odds > np.asarray(thresholds)[:, None]) == np.asarray(labels).astype(bool)).mean(axis=1)
    return np.where(np.asarray(flipped, dtype=bool), 1 - right, right)


def expected_calibration_error(truth: np.ndarray, confidence: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error of confidences that x+ is true: the predicted side's
    confidence max(c, 1 - c) in `bins` equal bins over [0.5, 1]; the mean over bins,
    weighted by their share of pairs, of |share predicted right - mean confidence|."""
    predicted = confidence > 0.5
    sure = np.where(predicted, confidence, 1 - confidence)
    right = predicted == truth
    which = np.minimum(((sure - 0.5) * 2 * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(right[members].mean() - sure[members].mean())
    return float(error)


def mean_ci(values: np.ndarray, level: float = CI_LEVEL, clip: bool = True) -> tuple[float, float, float]:
    """(mean, low, high): Student-t interval for the mean over seeds, cut to [0, 1] (every
    metric here is a proportion, so the true mean cannot lie outside it; `clip` False for
    a difference of two, which can); NaN bounds for a single value."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    mean = float(values.mean()) if len(values) else float("nan")
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    if not clip:
        return mean, float(mean - half), float(mean + half)
    return mean, float(max(0.0, mean - half)), float(min(1.0, mean + half))


def few_seeds_note(n_seeds: int) -> str:
    """A warning for intervals over fewer than FEW_SEEDS seeds, else ""."""
    if n_seeds >= FEW_SEEDS:
        return ""
    return (
        f"only {n_seeds} seed{'s' if n_seeds != 1 else ''}: "
        + ("no interval" if n_seeds < 2 else "the 95% interval is too wide to mean much")
        + f"; use {FEW_SEEDS} or more"
    )


def summarize(table: pd.DataFrame, metric: str = "accuracy", by: tuple[str, ...] = ("method", "p")) -> pd.DataFrame:
    """One row per group of `by` (default method and p): mean of `metric` over seeds, its
    95% interval, sd and n_seeds. A table whose rows repeat a cell (the same `by` values and
    seed: a run listed twice, say) is refused, since its interval would count a seed twice,
    and so is a table without `metric` (results an older version of the lab computed, from
    this machine's library of runs or another's pack)."""
    if metric not in table.columns:
        raise UserError(
            f"These results have no '{metric}' column: an older version of the lab computed them. Choose "
            "another metric, or run them again."
        )
    repeated = table.duplicated([*by, "seed"])
    if repeated.any():
        first = table[repeated].iloc[0]
        cell = ", ".join(f"{name} {first[name]}" for name in (*by, "seed"))
        raise UserError(
            f"{int(repeated.sum())} row(s) repeat a cell already in the table ({cell}); each seed would count "
            "twice and the 95% interval would be too narrow. Give every run its own label."
        )
    rows = []
    for keys, group in table.groupby(list(by), sort=False):
        mean, low, high = mean_ci(group[metric].to_numpy())
        rows.append(
            {
                **dict(zip(by, keys)),
                "metric": metric,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "sd": float(group[metric].std(ddof=1)) if len(group) > 1 else float("nan"),
                "n_seeds": int(group[metric].notna().sum()),
            }
        )
    return pd.DataFrame(rows)
