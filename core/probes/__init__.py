"""Contrast-pair methods, each defined once here (METHOD_REGISTRY): id, label, color, what
it reads, how it scores a pair and how it is fitted. The CLI's choices, the forms,
links, decks, charts, the sweep's dispatch and reports all read this registry, so adding a
method is one module with its fit plus one entry here; an unknown id is an error.

Which methods a sweep trains when it names none are the ones flagged `demo` (DEMO_METHODS,
the default of core.settings.sweep.SweepConfig.methods).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from core.probes.crc import top_principal_component
from core.probes.mass_mean import fit_lda, fit_mass_mean
from core.probes.mixture import balanced_soft_labels, soft_balancing_weights
from core.probes.random_direction import random_direction
from core.probes.supervised import fit_logistic
from core.probes.vinc import vinc_direction

# How a method scores a pair: from both sides' probabilities (CCS) or from a direction
# applied to the difference x+ - x-.
PAIR = "pair"
DIFFERENCE = "difference"

FitResult = tuple  # (weight [d] float32 tensor, bias, training loss or nan)


def _fit_tpc(pos_n, neg_n, labels, seed) -> FitResult:
    return top_principal_component(pos_n, neg_n), 0.0, math.nan


def _fit_logistic(pos_n, neg_n, labels, seed) -> FitResult:
    return fit_logistic(pos_n - neg_n, labels)


def _fit_mass_mean(pos_n, neg_n, labels, seed) -> FitResult:
    return fit_mass_mean(pos_n - neg_n, labels)


def _fit_lda(pos_n, neg_n, labels, seed) -> FitResult:
    return fit_lda(pos_n - neg_n, labels)


def _fit_vinc(pos_n, neg_n, labels, seed) -> FitResult:
    return vinc_direction(pos_n, neg_n), 0.0, math.nan


def _em_weights(pos_n, neg_n):
    """Weights that balance the two classes EM estimates without labels (core.probes.mixture)."""
    return soft_balancing_weights(balanced_soft_labels(pos_n, neg_n))


def _fit_tpc_em(pos_n, neg_n, labels, seed) -> FitResult:
    return top_principal_component(pos_n, neg_n, _em_weights(pos_n, neg_n)), 0.0, math.nan


def _fit_vinc_em(pos_n, neg_n, labels, seed) -> FitResult:
    return vinc_direction(pos_n, neg_n, _em_weights(pos_n, neg_n)), 0.0, math.nan


def _fit_random(pos_n, neg_n, labels, seed) -> FitResult:
    return random_direction(pos_n.shape[1], seed), 0.0, math.nan


@dataclass(frozen=True)
class Method:
    """One contrast-pair method.

    `normalized_inputs`: it reads the per-side normalized pairs (else raw ones).
    `form`: PAIR or DIFFERENCE (see above). `fit(pos, neg, labels, seed)` returns its
    (weight, bias, loss) on one cell's training pairs, already normalized; None for CCS,
    which the batched engine (core.probes.ccs) trains. `shift_equivariant`: fitting on
    inputs shifted by a constant gives the same weight with a moved intercept, so under
    a shift-only normalization the sweep reuses one raw fit (core.probes.supervised.
    shifted_intercept). `remedy_for`: the method this one remedies (its fit with the
    classes EM estimates balanced), so results compare the two paired by seed."""

    id: str
    label: str
    color: str
    supervised: bool
    normalized_inputs: bool
    form: str
    description: str
    fit: Callable[..., FitResult] | None = None
    shift_equivariant: bool = False
    remedy_for: str | None = None  # the method this one is a label-free remedy of (same fit, classes balanced)
    demo: bool = False  # one of the demo's methods, which a sweep trains when it names none


# Colors: Okabe & Ito's colorblind-safe palette (its yellow swapped for grey, which reads on white
# and suits the floor), one per method on every page and export.
METHOD_REGISTRY = {
    method.id: method
    for method in (
        Method(
            "ccs",
            "CCS",
            "#0072B2",
            False,
            True,
            PAIR,
            "Contrast-Consistent Search on per-side normalized pairs (reference optimizer).",
            demo=True,
        ),
        Method(
            "tpc",
            "TPC",
            "#E69F00",
            False,
            True,
            DIFFERENCE,
            "Top principal component of the normalized differences.",
            _fit_tpc,
            demo=True,
        ),
        Method(
            "lr_raw",
            "LR (raw differences)",
            "#D55E00",
            True,
            False,
            DIFFERENCE,
            "Logistic regression on x+ - x- without normalization: the supervised ceiling.",
            _fit_logistic,
            True,
            demo=True,
        ),
        Method(
            "lr_norm",
            "LR (normalized)",
            "#56B4E9",
            True,
            True,
            DIFFERENCE,
            "Logistic regression on the normalized inputs CCS sees: what normalization removes.",
            _fit_logistic,
            True,
            demo=True,
        ),
        Method(
            "random",
            "Random direction",
            "#999999",
            False,
            True,
            DIFFERENCE,
            "A random unit direction: the floor.",
            _fit_random,
            demo=True,
        ),
        Method(
            "vinc",
            "VINC",
            "#009E73",
            False,
            True,
            DIFFERENCE,
            "elk's eigen reporter: the direction along which x+ and x- are most anti-correlated (one template).",
            _fit_vinc,
        ),
        Method(
            "tpc_em",
            "TPC (EM-balanced)",
            "#A65C00",
            False,
            True,
            DIFFERENCE,
            "TPC with the two classes EM estimates without labels weighted equally in the covariance, so "
            "truth regains the variance imbalance took (a label-free remedy).",
            _fit_tpc_em,
            remedy_for="tpc",
        ),
        Method(
            "vinc_em",
            "VINC (EM-balanced)",
            "#00604A",
            False,
            True,
            DIFFERENCE,
            "VINC with the two classes EM estimates without labels weighted equally in its cross-covariance "
            "(a label-free remedy).",
            _fit_vinc_em,
            remedy_for="vinc",
        ),
        Method(
            "mass_mean",
            "Mass-mean (normalized)",
            "#CC79A7",
            True,
            True,
            DIFFERENCE,
            "Difference of the class means of the normalized differences, threshold midway (Marks & Tegmark 2023).",
            _fit_mass_mean,
            True,
        ),
        Method(
            "lda",
            "LDA (normalized)",
            "#000000",
            True,
            True,
            DIFFERENCE,
            "The mass-mean direction corrected by the within-class covariance (shrunk), equal priors.",
            _fit_lda,
            True,
        ),
    )
}
METHOD_IDS = tuple(METHOD_REGISTRY)
DEMO_METHODS = tuple(method.id for method in METHOD_REGISTRY.values() if method.demo)


def logistic_twins() -> tuple[str, str] | None:
    """(raw, normalized): the supervised method fitted on raw pairs and the one fitted the
    same way on normalized pairs, whose comparison isolates what normalization does to a
    threshold (core.analysis.mechanism.logistic_threshold_shift); None without such a pair."""
    supervised = [m for m in METHOD_REGISTRY.values() if m.supervised and m.fit is not None]
    for raw in (m for m in supervised if not m.normalized_inputs):
        for normalized in (m for m in supervised if m.normalized_inputs and m.fit is raw.fit):
            return raw.id, normalized.id
    return None
