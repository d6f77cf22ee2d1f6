"""Per-example views of a trained sweep: what one cell's probe says about every test pair,
how one example's prediction moves with p, and where examples sit in the probe's view.

Everything is computed from the stored probes (weights, bias, normalization statistics);
nothing is retrained. The orientation of an unsupervised probe follows the sweep's sign
convention: when its accuracy was flipped (max(acc, 1 - acc)), everything is shown as the
flipped probe (-w, -b) says it: p(x+) and p(x-) become 1 - p(x+) and 1 - p(x-), and the
confidence and prediction follow, so every column has one orientation and agrees with the
reported accuracy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from core.errors import UserError
from core.experiments.cells import SweepResult
from core.experiments.training import normalize_test_pairs, split_inputs
from core.probes import PAIR, LinearProbe
from core.probes.crc import top_principal_component
from core.store.activations import ActivationSet


def _cell(result: SweepResult, method: str, p: float, seed: int) -> tuple[LinearProbe, bool]:
    key = (method, float(p), int(seed))
    if key not in result.probes:
        raise UserError(f"No probe for method {method}, p = {p}, seed {seed} in this sweep.")
    row = result.table[(result.table.method == method) & np.isclose(result.table.p, p) & (result.table.seed == seed)]
    return result.probes[key], bool(row["sign_flipped"].iloc[0])


def _test_inputs(acts: ActivationSet, result: SweepResult, probe: LinearProbe) -> tuple[torch.Tensor, torch.Tensor]:
    test = split_inputs(acts, result.config, result.test_indices)
    return normalize_test_pairs(probe, test, result.config.test_normalization)


def example_table(acts: ActivationSet, result: SweepResult, method: str, p: float, seed: int) -> pd.DataFrame:
    """One row per test pair: index (into the activation set), id, text, label (1 = + true),
    p_pos and p_neg (CCS only), consistency |p(x+) - (1 - p(x-))| (CCS only), confidence
    that + is true, prediction, correct; each oriented as the accuracy was (see above)."""
    probe, flipped = _cell(result, method, p, seed)
    scores = probe.scores(*_test_inputs(acts, result, probe))
    confidence = 1 - scores.confidence if flipped else scores.confidence
    p_pos, p_neg = (
        (1 - scores.p_pos, 1 - scores.p_neg) if flipped and probe.form == PAIR else (scores.p_pos, scores.p_neg)
    )
    labels = acts.labels[result.test_indices].astype(int)
    frame = pd.DataFrame(
        {
            "index": result.test_indices,
            "id": [acts.ids[i] for i in result.test_indices],
            "text": [acts.texts[i] for i in result.test_indices],
            "label": labels,
            "p_pos": p_pos if probe.form == PAIR else np.nan,
            "p_neg": p_neg if probe.form == PAIR else np.nan,
            "confidence": confidence,
            "prediction": (confidence > 0.5).astype(int),
        }
    )
    frame["consistency"] = (frame.p_pos - (1 - frame.p_neg)).abs()
    frame["correct"] = frame.prediction == frame.label
    return frame


def prediction_trajectory(
    acts: ActivationSet, result: SweepResult, method: str, seed: int, example: int
) -> pd.DataFrame:
    """How the probe of (method, seed) judges one example (an activation-set index in the
    test split) at every level of p: p, confidence, prediction, correct."""
    position = np.flatnonzero(result.test_indices == example)
    if len(position) == 0:
        raise UserError(f"Example {example} is not in the test split.")
    rows = []
    for p in result.config.p_levels:
        table = example_table(acts, result, method, p, seed)
        row = table.iloc[position[0]]
        rows.append(
            {
                "p": float(p),
                "confidence": float(row.confidence),
                "prediction": int(row.prediction),
                "correct": bool(row.correct),
            }
        )
    return pd.DataFrame(rows)


def projection_scatter(acts: ActivationSet, result: SweepResult, method: str, p: float, seed: int) -> pd.DataFrame:
    """Test pairs in two coordinates: along the probe direction (w . (x+ - x-), oriented as
    the accuracy) and along the top principal component of the normalized test
    differences (a template ensemble's averaged over its templates). Columns: index,
    label, probe_projection, top_pc_projection."""
    probe, flipped = _cell(result, method, p, seed)
    pos_n, neg_n = _test_inputs(acts, result, probe)
    if pos_n.ndim == 3:  # a template ensemble's pairs averaged over its templates: w.(x+ - x-) averages exactly
        pos_n, neg_n = pos_n.mean(dim=1), neg_n.mean(dim=1)
    differences = (pos_n - neg_n).double()
    direction = probe.weight.double() / probe.weight.double().norm()
    along_probe = (differences @ direction).numpy() * (-1 if flipped else 1)
    top_pc = (differences @ top_principal_component(pos_n, neg_n).double()).numpy()
    return pd.DataFrame(
        {
            "index": result.test_indices,
            "label": acts.labels[result.test_indices].astype(int),
            "probe_projection": along_probe,
            "top_pc_projection": top_pc,
        }
    )


def flipping_example(acts: ActivationSet, result: SweepResult, method: str, seed: int) -> int:
    """The test pair (activation-set index) whose verdict the imbalance changes most: of
    the pairs judged right at the lowest p and wrong at the highest, the one whose
    confidence in the truth falls furthest (any pair, if none flips); ties go to the
    lower index, so a deck's pick is reproducible."""
    levels = sorted(result.config.p_levels)
    low = example_table(acts, result, method, levels[0], seed)
    high = example_table(acts, result, method, levels[-1], seed)
    truth = low.label.to_numpy() == 1
    fall = np.where(truth, low.confidence - high.confidence, high.confidence - low.confidence)
    flips = (low.correct & ~high.correct).to_numpy()
    candidates = np.flatnonzero(flips) if flips.any() else np.arange(len(low))
    best = candidates[np.argmax(fall[candidates])]
    return int(low["index"].iloc[best])
