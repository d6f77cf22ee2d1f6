"""The label budget: how many labelled pairs an auditor needs to undo the imbalance.

For each method of a run, at its highest p, the auditor labels k pairs drawn at random from
the cell's own training draw (so from the same imbalanced distribution) and uses them as a
practitioner would, on the trained probe, without retraining it:

- "prior": estimate the share of true pairs from the k labels (the rule of succession,
  (true + 1) / (k + 2)) and apply the prior-given centering to the trained probe: a
  two-Gaussian mixture of its training scores with that share held fixed (the fit of the
  prior_given normalization), the threshold at its midpoint, where balanced classes meet.
  For a fixed direction, moving the centers is moving the threshold, so this is that
  centering without retraining;
- "threshold": put the threshold midway between the two classes' mean scores among the k,
  and take the sign from which class scores higher. With one class only among the k there
  is nothing to place it by, and the probe stays as it was.

Scores are the probe's linear difference score w.(x+ - x-) of pairs read with its training
statistics (a template ensemble's averaged over its templates); a threshold placed so is
the same one, translated by the label-free shift of the test split's own centering, under
either test protocol. The uncorrected probe (k = 0) is the run's own reported accuracy, its
sign resolved on the test split as the sweep does; the share of the drop won back at k is
(accuracy at k - at k = 0) / (accuracy at the reference p - at k = 0), paired by seed, with
a 95% t-interval over seeds of the gain (each seed's gain the mean over REPEATS draws of k).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from core.analysis.remedies import MIN_DROP, reference_p
from core.data.sampling import split_test, training_draw
from core.experiments.cells import SweepResult
from core.experiments.training import split_inputs
from core.metrics import mean_ci
from core.probes.mixture import two_gaussians_many
from core.store.activations import ActivationSet

BUDGETS = (0, 10, 20, 50, 100, 200)
USES = {
    "prior": "share of true pairs estimated from the labels, then the prior-given centering of the probe (the "
    "midpoint of a mixture of its training scores with that share held)",
    "threshold": "threshold midway between the labelled classes' mean scores, sign from them",
}
REPEATS = 20
HALF = 0.5  # the share of the drop a budget must win back to count


def difference_scores(probe, pos: torch.Tensor, neg: torch.Tensor) -> np.ndarray:
    """The probe's difference scores of raw pairs read with its training statistics."""
    return probe.difference_scores(*probe.train_stats.apply(pos, neg))


def corrected_accuracy(
    use: str, midpoint: Callable[[float], float], labelled: np.ndarray, labels: np.ndarray, test: np.ndarray, truth
) -> float | None:
    """Test accuracy of oriented scores `test` under `use` of the labelled scores and labels
    (`midpoint(share)`: the share-given mixture's midpoint on the training scores), or None
    where the labels give nothing to place a threshold by (one class only)."""
    if use == "prior":
        threshold = midpoint(estimated_share(labels))
        return float(((test > threshold) == truth).mean())
    if labels.all() or not labels.any():
        return None
    true_mean, false_mean = labelled[labels].mean(), labelled[~labels].mean()
    sign = 1.0 if true_mean >= false_mean else -1.0
    threshold = sign * (true_mean + false_mean) / 2
    return float(((sign * test > threshold) == truth).mean())


def estimated_share(labels: np.ndarray) -> float:
    """The share of true pairs k labels suggest, by the rule of succession, to 0.01 (finer
    than any k here resolves, and it bounds the mixtures to fit)."""
    return round((int(labels.sum()) + 1) / (len(labels) + 2), 2)


def share_given_midpoints(train: np.ndarray, labels: np.ndarray, picks: list, budgets) -> Callable[[float], float]:
    """The midpoint of the share-given mixture of `train` scores at every share the "prior"
    use will estimate from these draws of labels, fitted in one batched EM."""
    shares = sorted({estimated_share(labels[order[:k]]) for order in picks for k in budgets if k})
    if not shares:
        return lambda share: float("nan")
    fitted = two_gaussians_many(np.repeat(train[None], len(shares), axis=0), np.array(shares))
    midpoints = {share: mixture.midpoint for share, mixture in zip(shares, fitted)}
    return midpoints.__getitem__


def label_budget(
    acts: ActivationSet, result: SweepResult, budgets=BUDGETS, repeats: int = REPEATS, seed: int = 0
) -> pd.DataFrame:
    """Per method, use, budget k and seed at the run's highest p: the corrected accuracy (mean
    over `repeats` draws of k labelled pairs), the uncorrected one and the one at the
    reference p (the run's reported accuracies), and how often the labels held both classes."""
    config, table = result.config, result.table
    high, low = float(table.p.max()), reference_p(table)
    test = split_inputs(acts, config, result.test_indices)
    truth = test.labels.astype(bool)
    pos, neg = acts.layer(config.layer)
    _, pool = split_test(acts.labels, config.n_test, config.split_seed, acts.texts)
    reported = table.set_index(["method", "p", "seed"])
    rows = []
    for (method, p, cell_seed), probe in result.probes.items():
        if not np.isclose(p, high):
            continue
        row = reported.loc[(method, p, cell_seed)]
        orient = -1.0 if bool(row.sign_flipped) else 1.0
        draw = training_draw(acts.labels, pool, p, config.n_train, cell_seed)
        train = orient * difference_scores(probe, pos[draw], neg[draw])
        test_scores = orient * difference_scores(probe, test.pos, test.neg)
        balanced = float(reported.loc[(method, low, cell_seed)].accuracy) if low != high else float("nan")
        rng = np.random.default_rng(np.random.SeedSequence([seed, cell_seed, 17]))
        picks = [rng.permutation(len(draw)) for _ in range(repeats)]
        draw_labels = acts.labels[draw].astype(bool)
        midpoint = share_given_midpoints(train, draw_labels, picks, budgets)
        for use in USES:
            for k in budgets:
                if k > len(draw):
                    continue
                accuracies, both = [], 0
                for order in picks:
                    chosen = order[:k]
                    corrected = (
                        None
                        if k == 0
                        else corrected_accuracy(use, midpoint, train[chosen], draw_labels[chosen], test_scores, truth)
                    )
                    both += corrected is not None
                    accuracies.append(float(row.accuracy) if corrected is None else corrected)
                rows.append(
                    {
                        "method": method,
                        "use": use,
                        "k": k,
                        "seed": cell_seed,
                        "p": p,
                        "accuracy": float(np.mean(accuracies)),
                        "uncorrected": float(row.accuracy),
                        "balanced": balanced,
                        "placed": both / repeats,
                    }
                )
    return pd.DataFrame(rows)


def budget_shares(budget: pd.DataFrame) -> pd.DataFrame:
    """Per method, use and k: the share of the drop won back with its 95% interval (NaN
    where less than MIN_DROP was lost), the drop, and how often the labels placed a threshold."""
    rows = []
    for (method, use, k), part in budget.groupby(["method", "use", "k"], sort=False):
        drop = float((part.balanced - part.uncorrected).mean())
        gain, low, high = mean_ci((part.accuracy - part.uncorrected).to_numpy(), clip=False)
        lost = drop >= MIN_DROP
        rows.append(
            {
                "method": method,
                "use": use,
                "k": int(k),
                "p": float(part.p.iloc[0]),
                "drop": drop,
                "share": gain / drop if lost else float("nan"),
                "share_low": low / drop if lost else float("nan"),
                "share_high": high / drop if lost else float("nan"),
                "placed": float(part.placed.mean()),
                "seeds": len(part),
            }
        )
    return pd.DataFrame(rows)


def smallest_budget(shares: pd.DataFrame) -> pd.DataFrame:
    """Per method and use, the smallest k whose mean share won back is HALF or more (None
    where none is, or where nothing was lost)."""
    rows = []
    for (method, use), part in shares.groupby(["method", "use"], sort=False):
        enough = part[part.share >= HALF]
        rows.append({"method": method, "use": use, "k": int(enough.k.min()) if len(enough) else None})
    return pd.DataFrame(rows, columns=["method", "use", "k"]).astype({"k": "Int64"})
