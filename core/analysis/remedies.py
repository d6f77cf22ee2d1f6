"""Remedies side by side with Burns centering, and what a drop is made of.

- remedy_runs: the runs that compare remedies (each a normalization, core.normalizations)
  with the baseline, Burns centering: the same run with only its normalization changed,
  so every seed draws the same training pairs and the same test split under each.
- with_threshold_remedies: Burns centering's own probes at a label-free threshold
  (core.metrics), compared as one more remedy.
- recovered_share: how much of the baseline's accuracy drop since p = 0.5 a remedy wins
  back at a level of p, paired by seed.
- decomposition: how much of a method's drop is a moved threshold (what the median
  threshold wins back) and how much a lost direction (what calibrated accuracy itself
  lost); the two add up to the drop exactly.
- compare_remedies: all of the above for one method, as the Remedies page, the `remedies`
  command and the remedies step of a deck show it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.config import ExtractConfig
from core.metrics import THRESHOLD_REMEDIES, mean_ci, summarize
from core.normalizations import BASELINE
from core.probes import METHOD_REGISTRY
from core.settings.sweep import DEPLOYMENT, SweepConfig

Run = tuple[ExtractConfig, SweepConfig]
# Below this mean drop (accuracy points) there is nothing to recover: a share of it would be noise.
MIN_DROP = 0.01


def remedy_runs(run: Run, remedies: tuple[str, ...]) -> list[Run]:
    """The baseline run, then the run under each remedy."""
    extract, sweep = run
    return [(extract, dataclasses.replace(sweep, normalization=norm)) for norm in dict.fromkeys((BASELINE, *remedies))]


def with_threshold_remedies(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """`tables` (normalization -> sweep table) with each label-free threshold
    (core.metrics.THRESHOLD_REMEDIES) added as a remedy: Burns centering's rows, their
    accuracy read at that threshold. It needs no run of its own: the same probes, the
    same seeds, only the threshold differs, so it pairs with Burns by seed as a remedy
    normalization does. Only under the deployment protocol (the test split read with
    the training statistics), which is how such a threshold reads the test split: under
    the reference protocol the two accuracies would be of two protocols. Its rows carry
    no AUROC: a threshold does not change a ranking, so that would be Burns's drawn twice."""
    baseline = tables.get(BASELINE)
    if (
        baseline is None
        or "test_normalization" not in baseline
        or not (baseline.test_normalization == DEPLOYMENT).all()
    ):
        return tables
    added = {
        metric: baseline.assign(accuracy=baseline[metric], normalization=metric).drop(columns="auroc")
        for metric in THRESHOLD_REMEDIES
        if metric in baseline
    }
    return {**tables, **added}


def reference_p(table: pd.DataFrame) -> float:
    """The level of p drops are measured from: 0.5 when swept, else the most balanced one."""
    levels = np.unique(table.p)
    return float(levels[np.argmin(np.abs(levels - 0.5))])


def remedy_summary(
    tables: dict[str, pd.DataFrame], method: str, metrics: tuple[str, ...] = ("accuracy", "auroc")
) -> pd.DataFrame:
    """Mean and 95% interval over seeds of each metric of `method`, per normalization and p
    (`tables`: normalization -> its sweep table; a metric a table lacks is left out for it,
    as the AUROC of a threshold remedy is)."""
    parts = [
        summarize(table[table.method == method], metric, by=("p",)).assign(normalization=norm, method=method)
        for norm, table in tables.items()
        for metric in metrics
        if metric in table
    ]
    return pd.concat(parts, ignore_index=True)


REPORTED_LEVELS = (0.9, 0.95)


def recovered_share(tables: dict[str, pd.DataFrame], method: str) -> pd.DataFrame:
    """Per remedy and level of p (REPORTED_LEVELS where swept, else the highest): the
    baseline's accuracy drop since the reference p, the remedy's gain over the baseline at
    that p (mean over seeds, with its paired 95% interval) and the share of the drop it
    recovers (gain / drop; empty where the drop is under MIN_DROP). 1 recovers it all;
    above 1, more than balance had."""
    baseline = tables[BASELINE]
    baseline = baseline[baseline.method == method].set_index(["p", "seed"]).accuracy
    start = reference_p(baseline.reset_index())
    swept = np.unique(baseline.index.get_level_values("p"))
    levels = [p for p in swept if np.isclose(p, REPORTED_LEVELS).any()] or [swept.max()]
    balanced = baseline.xs(start, level="p").mean()
    rows = []
    for norm, table in tables.items():
        if norm == BASELINE:
            continue
        remedy = table[table.method == method].set_index(["p", "seed"]).accuracy
        for p in levels:
            at_p, fixed = baseline.xs(p, level="p"), remedy.xs(p, level="p")
            drop = float(balanced - at_p.mean())
            gain, low, high = mean_ci((fixed - at_p).to_numpy(), clip=False)
            rows.append(
                {
                    "normalization": norm,
                    "method": method,
                    "p": p,
                    "baseline_accuracy": float(at_p.mean()),
                    "remedy_accuracy": float(fixed.mean()),
                    "drop": drop,
                    "gain": gain,
                    "gain_low": low,
                    "gain_high": high,
                    "recovered": gain / drop if drop >= MIN_DROP else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def decomposition(table: pd.DataFrame) -> pd.DataFrame:
    """Per method and level of p above the reference: the mean accuracy drop since the
    reference p, split into `threshold` (the change in accuracy_calibrated - accuracy:
    what a threshold at the median test score wins back, beyond what it won at the
    reference) and `direction` (the drop in accuracy_calibrated itself: ranking lost),
    which sum to the drop; and the AUROC drop, for comparison."""
    means = table.groupby(["method", "p"])[["accuracy", "accuracy_calibrated", "auroc"]].mean()
    start = reference_p(table)
    rows = []
    for method in dict.fromkeys(table.method):
        first = means.loc[(method, start)]
        for p in (level for level in means.loc[method].index if level > start):
            at = means.loc[(method, p)]
            rows.append(
                {
                    "method": method,
                    "p": float(p),
                    "drop": first.accuracy - at.accuracy,
                    "threshold": (at.accuracy_calibrated - at.accuracy) - (first.accuracy_calibrated - first.accuracy),
                    "direction": first.accuracy_calibrated - at.accuracy_calibrated,
                    "auroc_drop": first.auroc - at.auroc,
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class RemedyComparison:
    """One method under Burns centering beside each remedy (compare_remedies): the runs'
    own tables (normalization -> sweep table), the metrics per normalization and p
    (remedy_summary, label-free thresholds included) under the chart's `title`, the share
    of the drop each remedy wins back (recovered_share) since `reference_p`, and what
    Burns centering's drop is made of (decomposition, every method)."""

    method: str
    tables: dict[str, pd.DataFrame]
    title: str
    summary: pd.DataFrame
    reference_p: float
    shares: pd.DataFrame
    decomposition: pd.DataFrame


def compare_remedies(tables: dict[str, pd.DataFrame], method: str) -> RemedyComparison:
    """The comparison of `method` under each normalization of `tables` (normalization ->
    its sweep table, Burns centering's among them), each label-free threshold added as one
    more remedy (with_threshold_remedies)."""
    compared = with_threshold_remedies(tables)
    return RemedyComparison(
        method=method,
        tables=tables,
        title=f"{METHOD_REGISTRY[method].label} under each normalization: mean over seeds, 95% band",
        summary=remedy_summary(compared, method),
        reference_p=reference_p(tables[BASELINE]),
        shares=recovered_share(compared, method),
        decomposition=decomposition(tables[BASELINE]),
    )
