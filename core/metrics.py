"""Accuracy with the paper's sign convention, AUROC, and 95% confidence intervals over seeds.

Sign convention: an unsupervised probe (CCS, TPC, random) does not know which end of
its direction means "true", so, as in Burns et al., its accuracy on the test split is
max(acc, 1 - acc); AUROC uses the same orientation as the accuracy. Supervised probes
are never flipped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import accuracy_score, roc_auc_score

CI_LEVEL = 0.95


def evaluate(labels: np.ndarray, confidence: np.ndarray, resolve_sign: bool) -> dict[str, float | bool]:
    """accuracy (sign-resolved when `resolve_sign`), accuracy_raw, auroc and sign_flipped
    for confidences that x+ is true (prediction: confidence > 0.5)."""
    raw = float(accuracy_score(labels, confidence > 0.5))
    auc = float(roc_auc_score(labels, confidence))
    flipped = bool(resolve_sign and raw < 0.5)
    return {"accuracy": 1 - raw if flipped else raw, "accuracy_raw": raw,
            "auroc": 1 - auc if flipped else auc, "sign_flipped": flipped}


def mean_ci(values: np.ndarray, level: float = CI_LEVEL) -> tuple[float, float, float]:
    """(mean, low, high): Student-t interval for the mean over seeds; NaN bounds for a single value."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    mean = float(values.mean()) if len(values) else float("nan")
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean, float(mean - half), float(mean + half)


def summarize(table: pd.DataFrame, metric: str = "accuracy", by: tuple[str, ...] = ("method", "p")) -> pd.DataFrame:
    """One row per group of `by` (default method and p): mean of `metric` over seeds, its
    95% interval, sd and n_seeds."""
    rows = []
    for keys, group in table.groupby(list(by), sort=False):
        mean, low, high = mean_ci(group[metric].to_numpy())
        rows.append({**dict(zip(by, keys)), "metric": metric, "mean": mean, "ci_low": low, "ci_high": high,
                     "sd": float(group[metric].std(ddof=1)) if len(group) > 1 else float("nan"),
                     "n_seeds": int(group[metric].notna().sum())})
    return pd.DataFrame(rows)
