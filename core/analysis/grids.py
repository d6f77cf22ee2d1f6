"""What a grid found, one row per model x data set x layer x method: the effect (accuracy
and AUROC at the most balanced and the highest p, under Burns centering), whether the
method found anything at balance, and the share of the drop each remedy the grid ran wins
back. The across-models table of the docs is this, written by `python -m core grid`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from core.analysis.remedies import BASELINE, recovered_share, reference_p, with_threshold_remedies
from core.experiments.grid import ENSEMBLE, ONE
from core.metrics import mean_ci
from core.probes import FLOOR_METHOD, METHOD_REGISTRY

CELL = ("model", "dataset", "templates", "depth", "layer")  # "templates" where a grid has that axis


def _at(rows: pd.DataFrame, p: float, metric: str) -> tuple[float, float, float]:
    return mean_ci(rows.loc[np.isclose(rows.p, p), metric].to_numpy(dtype=float))


NO_INFORMATION_Z = 1.96  # a direction with no information tops 0.5 + z * 0.5 / sqrt(n) in 5% of test splits


def at_chance(method_rows: pd.DataFrame, floor_rows: pd.DataFrame, p: float) -> bool:
    """Whether a method's accuracy at level `p` cannot be told from chance, either way:

    - within the test split's own noise: a direction that knows nothing scores 0.5 +- 0.5 /
      sqrt(n) on a balanced split of n pairs (sign-resolved, 0.5 plus the size of that), and
      tops 0.5 + NO_INFORMATION_Z * 0.5 / sqrt(n) in only one split of twenty, so a mean at
      or under that cannot be told from one (for a supervised method, not sign-resolved, the
      test is stricter). The seeds share the split: seeds that all find the same wrong
      direction (an interval of no width) do not pass it. Skipped where the table has no
      n_test column;
    - or not above the floor: the method's 95% interval over seeds reaches down to the mean
      accuracy of FLOOR_METHOD (the random direction, sign-resolved as the unsupervised
      methods are) there, or to 0.5 where the table has no floor.
    """
    at_p = method_rows[np.isclose(method_rows.p, p)].dropna(subset=["accuracy"])
    accuracy = at_p.accuracy.to_numpy(dtype=float)
    if not len(accuracy):
        return False  # nothing measured there: nothing to mark
    if "n_test" in at_p and accuracy.mean() <= 0.5 + NO_INFORMATION_Z * 0.5 / np.sqrt(at_p.n_test.min()):
        return True
    floor = _at(floor_rows, p, "accuracy")[0] if len(floor_rows) else 0.5
    return bool(mean_ci(accuracy)[1] <= floor)


def _paired_gap(remedy: pd.DataFrame, baseline: pd.DataFrame, method: str, p: float) -> float:
    """Mean over seeds of the remedy's accuracy minus Burns's at level `p` (paired by seed):
    what a remedy costs where there is no imbalance to fix (negative: it loses accuracy)."""
    at = [t[(t.method == method) & np.isclose(t.p, p)].set_index("seed").accuracy for t in (remedy, baseline)]
    return float((at[0] - at[1]).dropna().mean())


BALANCED_COVARIANCE = "balanced_covariance"  # how a remedy method's comparison is named in a summary


def remedy_methods_as_normalizations(table: pd.DataFrame) -> pd.DataFrame:
    """Burns-centered rows of a method and of its label-free remedy method (registry
    `remedy_for`: tpc_em for tpc), relabelled so that grid_summary compares them as it
    compares a remedy normalization with Burns: the remedy method's rows become the
    base method's under normalization BALANCED_COVARIANCE."""
    burns = table[table.normalization == BASELINE]
    parts = []
    for variant, spec in METHOD_REGISTRY.items():
        if spec.remedy_for is None or not {variant, spec.remedy_for} <= set(burns.method):
            continue
        parts.append(burns[burns.method == spec.remedy_for])
        parts.append(burns[burns.method == variant].assign(method=spec.remedy_for, normalization=BALANCED_COVARIANCE))
    if not parts:
        return table.iloc[0:0]
    return pd.concat([*parts, burns[burns.method == FLOOR_METHOD]], ignore_index=True)


def grid_summary(table: pd.DataFrame, thresholds: bool = True) -> pd.DataFrame:
    """The summary of a grid's tidy table (core.experiments.grid): per cell and method under
    Burns centering, mean accuracy and AUROC over seeds with 95% t-intervals at the reference
    p (0.5 when swept) and at the highest p; `at_chance` when the accuracy at the reference p
    cannot be told from chance (at_chance: within the test split's noise, or not above the
    random direction; then the drop means nothing);
    `recovered_<remedy>`, the share of the accuracy drop each other
    normalization (and, with `thresholds`, each label-free threshold: with_threshold_remedies)
    wins back at the highest p, paired by seed (core.analysis.remedies), `earlier_<remedy>`,
    (p, share, low end of the gain's interval) at the other reported level (0.9, when
    swept), and `cost_<remedy>`, its paired accuracy gain at the reference p (negative: a
    cost)."""
    rows = []
    cell_columns = [c for c in CELL if c in table]
    for cell, part in table.groupby(cell_columns, sort=False):
        baseline = part[part.normalization == BASELINE]
        if baseline.empty:
            continue
        low, high = reference_p(baseline), float(baseline.p.max())
        floor_rows = baseline[baseline.method == FLOOR_METHOD]
        remedies = dict(list(part.groupby("normalization", sort=False)))
        if thresholds:
            remedies = with_threshold_remedies(remedies)
        for method, rows_of_method in baseline.groupby("method", sort=False):
            acc_low, acc_high = _at(rows_of_method, low, "accuracy"), _at(rows_of_method, high, "accuracy")
            row = dict(zip(cell_columns, cell if isinstance(cell, tuple) else (cell,)))
            row.update(
                method=method,
                p_low=low,
                p_high=high,
                accuracy_low=acc_low[0],
                accuracy_low_ci=acc_low[1:],
                accuracy_high=acc_high[0],
                accuracy_high_ci=acc_high[1:],
                auroc_low=_at(rows_of_method, low, "auroc")[0],
                auroc_high=_at(rows_of_method, high, "auroc")[0],
                at_chance=method != FLOOR_METHOD and at_chance(rows_of_method, floor_rows, low),
            )
            present = {norm: rows for norm, rows in remedies.items() if (rows.method == method).any()}
            if len(present) > 1:
                shares = recovered_share(present, method)
                for norm, share in shares[np.isclose(shares.p, high)].groupby("normalization"):
                    share = share.iloc[0]
                    row[f"recovered_{norm}"] = share.recovered
                    row[f"gain_{norm}_ci"] = (share.gain_low, share.gain_high)
                    row[f"cost_{norm}"] = _paired_gap(present[norm], rows_of_method, method, low)
                for norm, share in shares[~np.isclose(shares.p, high)].groupby("normalization"):
                    share = share.iloc[0]
                    row[f"earlier_{norm}"] = (share.p, share.recovered, share.gain_low)
            rows.append(row)
    return pd.DataFrame(rows)


def welch_interval(before: np.ndarray, after: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The Welch t-interval at `level` for mean(before) - mean(after) (unequal variances,
    Welch-Satterthwaite degrees of freedom); no width where every value on both sides is alike."""
    lost = float(before.mean() - after.mean())
    parts = before.var(ddof=1) / len(before), after.var(ddof=1) / len(after)
    variance = parts[0] + parts[1]
    if variance == 0:
        return lost, lost
    freedom = variance**2 / (parts[0] ** 2 / (len(before) - 1) + parts[1] ** 2 / (len(after) - 1))
    half = float(stats.t.ppf(0.5 + level / 2, freedom) * np.sqrt(variance))
    return lost - half, lost + half


def drops(table: pd.DataFrame, metric: str = "accuracy", level: float = 0.95) -> pd.DataFrame:
    """Each method's drop in `metric` from the reference p (0.5 when swept) to the highest p,
    per cell of a grid (or of any tidy table with a CELL's columns) and normalization: `lost`,
    the drop in the mean over seeds, with its Welch t-interval at `level` (seeds at two levels of p
    are separate training draws, so unpaired), and `at_chance` when the method's accuracy at
    the reference p cannot be told from chance (at_chance, as grid_summary: its drop then
    means nothing)."""
    rows = []
    group = [c for c in (*CELL, "normalization") if c in table]
    for cell, part in table.groupby(group, sort=False):
        low, high = reference_p(part), float(part.p.max())
        floor_rows = part[part.method == FLOOR_METHOD]
        for method, rows_of_method in part.groupby("method", sort=False):
            before = rows_of_method.loc[np.isclose(rows_of_method.p, low), metric].dropna().to_numpy(dtype=float)
            after = rows_of_method.loc[np.isclose(rows_of_method.p, high), metric].dropna().to_numpy(dtype=float)
            lost = float(before.mean() - after.mean()) if len(before) and len(after) else np.nan
            interval = welch_interval(before, after, level) if len(before) > 1 and len(after) > 1 else (np.nan,) * 2
            rows.append(
                {
                    **dict(zip(group, cell if isinstance(cell, tuple) else (cell,))),
                    "method": method,
                    "metric": metric,
                    "p_low": low,
                    "p_high": high,
                    "lost": lost,
                    "ci_low": float(interval[0]),
                    "ci_high": float(interval[1]),
                    "at_chance": method != FLOOR_METHOD and at_chance(rows_of_method, floor_rows, low),
                }
            )
    return pd.DataFrame(rows)


# What "works" means for a label-free remedy (issue 21's bar): at the highest p it wins back
# at least WORKS_SHARE of the method's drop, with a paired interval above zero, on at least
# WORKS_CELLS cells where the method finds something at balance, and costs less than
# WORKS_COST at balance on every cell.
WORKS_SHARE, WORKS_CELLS, WORKS_COST = 0.5, 3, 0.02


def remedy_verdicts(summary: pd.DataFrame, method: str) -> pd.DataFrame:
    """Per remedy in a grid_summary, for `method`: on how many cells (of those where the
    method is not at chance and dropped) it won back WORKS_SHARE or more with a paired
    interval above zero, its median share there, its worst cost at balance over every
    cell, and whether that meets the bar."""
    rows = summary[(summary.method == method) & ~summary.at_chance]
    remedies = [c.removeprefix("recovered_") for c in summary.columns if c.startswith("recovered_")]
    verdicts = []
    for norm in remedies:
        dropped = rows[rows[f"recovered_{norm}"].notna()]
        won = [
            share >= WORKS_SHARE and ci[0] > 0
            for share, ci in zip(dropped[f"recovered_{norm}"], dropped[f"gain_{norm}_ci"])
        ]
        worst = float(summary.loc[summary.method == method, f"cost_{norm}"].min())
        verdicts.append(
            {
                "normalization": norm,
                "method": method,
                "cells_dropped": len(dropped),
                "cells_won": int(sum(won)),
                "median_share": float(dropped[f"recovered_{norm}"].median()) if len(dropped) else float("nan"),
                "worst_cost": worst,
                "works": sum(won) >= WORKS_CELLS and worst > -WORKS_COST,
            }
        )
    return pd.DataFrame(verdicts)


def template_comparison(summary: pd.DataFrame) -> pd.DataFrame:
    """A grid with a `templates` axis (one template and the ensemble), from its grid_summary:
    one row per cell and method (the random direction left out), the accuracy with its
    interval at balance and at the highest p under each, and whether the method is at chance
    at balance under each. Empty when the grid has no ensemble."""
    if "templates" not in summary or not {ONE} < set(summary.templates):
        return summary.iloc[0:0]
    cell = [c for c in CELL if c in summary and c != "templates"]
    rows = summary[summary.method != FLOOR_METHOD]
    one = rows[rows.templates == ONE].set_index([*cell, "method"])
    ensemble = rows[rows.templates.str.startswith(ENSEMBLE)].set_index([*cell, "method"])
    joined = one.merge(ensemble, left_index=True, right_index=True, suffixes=("_one", "_ensemble"))
    return joined.reset_index()


def above_chance_counts(summary: pd.DataFrame) -> pd.DataFrame:
    """Per method (the random direction left out) and way of reading the data sets (the
    grid's `templates`: one, an ensemble, each named template), in how many cells it is
    above chance at balance, and, as "any", in how many cells at least one reading is: what
    choosing the wording cell by cell would reach at best (with labels to choose by). Empty
    unless the grid read its data sets more than one way."""
    if "templates" not in summary or summary.templates.nunique() < 2:
        return summary.iloc[0:0]
    cell = [c for c in CELL if c in summary and c != "templates"]
    rows = summary[summary.method != FLOOR_METHOD].assign(above=lambda t: ~t.at_chance.astype(bool))
    counts = rows.pivot_table(index="method", columns="templates", values="above", aggfunc="sum", sort=False)
    counts["any"] = rows.groupby(["method", *cell]).above.any().groupby("method").sum()
    counts["cells"] = rows.groupby("method")[cell].apply(lambda part: len(part.drop_duplicates()))
    order = list(dict.fromkeys(rows.method))
    return counts.loc[order].astype(int).reset_index()
