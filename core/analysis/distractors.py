"""Truth or distractor? On an activation set extracted with a distractor (core.config.
Template.distractor), how well each trained probe predicts the truth and how well it
predicts which side got the distractor's first word: a consistency-based probe can find
either (Farquhar et al. 2023), and imbalance shrinks truth's variance but not the
distractor's (core.analysis.theory), so the answer can change with p.

Both accuracies are read from the stored probes on the sweep's test split, oriented
as the sweep reports them: an unsupervised probe's sign is resolved for each target on
its own (max(acc, 1 - acc)), since a probe that found the distractor knows no more
about which word is which than about which answer is true.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import UserError
from core.experiments.cells import SweepResult
from core.experiments.training import fit_split, normalize_test_pairs, split_inputs
from core.probes import METHOD_REGISTRY
from core.store.activations import ActivationSet

# A cell "finds" a target when its (oriented) accuracy on it reaches this and beats the other.
FINDS = 0.6


def distractor_targets(acts: ActivationSet) -> np.ndarray | None:
    """1 where x+ got the distractor's first word, 0 where x- did; None without a distractor."""
    signs = acts.meta.get("distractor_signs")
    return None if signs is None else (np.asarray(signs) > 0).astype(np.int8)


def _oriented(correct: float, unsupervised: bool) -> float:
    return max(correct, 1 - correct) if unsupervised else correct


def distractor_cells(acts: ActivationSet, result: SweepResult) -> pd.DataFrame:
    """One row per cell: method, p, seed, truth_accuracy, distractor_accuracy, finds
    ("truth", "distractor" or "neither")."""
    targets = distractor_targets(acts)
    if targets is None:
        raise UserError("This activation set was extracted without a distractor.")
    test = split_inputs(acts, result.config, result.test_indices)
    own = {kind: fit_split(test, kind) for kind in {probe.train_stats.kind for probe in result.probes.values()}}
    distractor = targets[result.test_indices]
    rows = []
    for (method, p, seed), probe in result.probes.items():
        predicted = (
            probe.scores(*normalize_test_pairs(probe, test, result.config.test_normalization, own)).confidence > 0.5
        )
        unsupervised = not METHOD_REGISTRY[method].supervised
        truth = _oriented(float((predicted == test.labels.astype(bool)).mean()), unsupervised)
        word = _oriented(float((predicted == distractor.astype(bool)).mean()), unsupervised)
        finds = (
            "truth"
            if truth >= FINDS and truth > word
            else "distractor"
            if word >= FINDS and word > truth
            else "neither"
        )
        rows.append(
            {
                "method": method,
                "p": p,
                "seed": seed,
                "truth_accuracy": truth,
                "distractor_accuracy": word,
                "finds": finds,
            }
        )
    return pd.DataFrame(rows)


def distractor_report(cells: pd.DataFrame) -> pd.DataFrame:
    """Per method and p: mean truth and distractor accuracy over seeds, and how many seeds
    found each."""
    grouped = cells.groupby(["method", "p"], sort=False)
    report = grouped[["truth_accuracy", "distractor_accuracy"]].mean()
    counts = grouped["finds"].value_counts().unstack(fill_value=0)
    for target in ("truth", "distractor", "neither"):
        report[f"seeds_finding_{target}"] = counts.get(target, 0)
    return report.reset_index()
