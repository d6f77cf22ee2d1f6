"""Contrast-pair methods, each defined once here (METHOD_REGISTRY): id, label, what it reads
(labels or not, which gives its colour family in core.views.palette), how it scores a pair
and how it is fitted. The CLI's choices, the forms, links, decks, charts, the sweep's
dispatch and reports all read this registry, so adding a method is one module with its fit
plus one entry here; an unknown id is an error.

Which methods a sweep trains when it names none are the ones flagged `demo` (DEMO_METHODS,
the default of core.settings.sweep.SweepConfig.methods). The method every page, step and
command shows when none is named is the one flagged `headline` (HEADLINE_METHOD); the floor
the others are read against is the one flagged `floor` (FLOOR_METHOD). Code outside this
package reads these flags, never a method's id.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.probes.base import DIFFERENCE, PAIR
from core.probes.ccs import CCSFit, train_ccs
from core.probes.ccs_subspace import TOP_DIRECTIONS, train_ccs_in_subspace
from core.probes.crc import top_principal_component
from core.probes.linear import Fit, LinearProbe
from core.probes.mass_mean import fit_lda, fit_mass_mean
from core.probes.mixture import balanced_soft_labels, soft_balancing_weights
from core.probes.random_direction import random_direction
from core.probes.supervised import fit_logistic
from core.probes.vinc import vinc_direction

__all__ = [
    "DEMO_METHODS",
    "DIFFERENCE",
    "FLOOR_METHOD",
    "HEADLINE_METHOD",
    "METHOD_IDS",
    "METHOD_REGISTRY",
    "PAIR",
    "Fit",
    "LinearProbe",
    "Method",
    "logistic_twins",
    "trains_with_ccs_optimizer",
]


def _fit_tpc(pos_n, neg_n, labels, seed) -> Fit:
    return Fit(top_principal_component(pos_n, neg_n), 0.0, math.nan)


def _fit_logistic(pos_n, neg_n, labels, seed) -> Fit:
    return fit_logistic(pos_n - neg_n, labels)


def _fit_mass_mean(pos_n, neg_n, labels, seed) -> Fit:
    return fit_mass_mean(pos_n - neg_n, labels)


def _fit_lda(pos_n, neg_n, labels, seed) -> Fit:
    return fit_lda(pos_n - neg_n, labels)


def _fit_vinc(pos_n, neg_n, labels, seed) -> Fit:
    return Fit(vinc_direction(pos_n, neg_n), 0.0, math.nan)


def _em_weights(pos_n, neg_n):
    """Weights that balance the two classes EM estimates without labels (core.probes.mixture)."""
    return soft_balancing_weights(balanced_soft_labels(pos_n, neg_n))


def _fit_tpc_em(pos_n, neg_n, labels, seed) -> Fit:
    return Fit(top_principal_component(pos_n, neg_n, _em_weights(pos_n, neg_n)), 0.0, math.nan)


def _fit_vinc_em(pos_n, neg_n, labels, seed) -> Fit:
    return Fit(vinc_direction(pos_n, neg_n, _em_weights(pos_n, neg_n)), 0.0, math.nan)


def _fit_random(pos_n, neg_n, labels, seed) -> Fit:
    return Fit(random_direction(pos_n.shape[1], seed), 0.0, math.nan)


@dataclass(frozen=True)
class Method:
    """One contrast-pair method, trained one of two ways: `fit(pos, neg, labels, seed)`
    returns its Fit on one cell's training pairs, already normalized; or, with no `fit`,
    `train_batched(problems, ccs_config, device, progress)` trains every cell at once with
    the CCS optimizer (core.probes.ccs.train_ccs: CCS). The sweep engine and the method's
    estimator (the class `estimator` names in core.api.estimators) both train through these.

    `normalized_inputs`: it reads the per-side normalized pairs (else raw ones).
    `form`: PAIR or DIFFERENCE (core.probes.base). `shift_equivariant`: fitting on
    inputs shifted by a constant gives the same weight with a moved intercept, so under
    a shift-only normalization the sweep reuses one raw fit (core.probes.supervised.
    shifted_intercept). `remedy_for`: the method this one remedies (its fit with the
    classes EM estimates balanced), so results compare the two paired by seed. `demo`,
    `headline`, `floor`: see the module docstring."""

    id: str
    estimator: str  # the name of its scikit-learn-style estimator class (core.api.estimators)
    label: str
    supervised: bool
    normalized_inputs: bool
    form: str
    description: str
    fit: Callable[..., Fit] | None = None
    train_batched: Callable[..., list[CCSFit]] | None = None
    shift_equivariant: bool = False
    remedy_for: str | None = None  # the method this one is a label-free remedy of (same fit, classes balanced)
    demo: bool = False  # one of the demo's methods, which a sweep trains when it names none
    headline: bool = False  # the method shown when none is named (one method has it)
    floor: bool = False  # the floor the others are read against (one method has it)

    @property
    def uses_ccs_optimizer(self) -> bool:
        """Whether its cells read the CCS optimizer settings (SweepConfig.ccs): the batched
        engine is what reads them."""
        return self.train_batched is not None


METHOD_REGISTRY = {
    method.id: method
    for method in (
        Method(
            id="ccs",
            estimator="CCS",
            label="CCS",
            supervised=False,
            normalized_inputs=True,
            form=PAIR,
            description="Contrast-Consistent Search on per-side normalized pairs (reference optimizer).",
            train_batched=train_ccs,
            demo=True,
            headline=True,
        ),
        Method(
            id="tpc",
            estimator="TPC",
            label="TPC",
            supervised=False,
            normalized_inputs=True,
            form=DIFFERENCE,
            description="Top principal component of the normalized differences.",
            fit=_fit_tpc,
            demo=True,
        ),
        Method(
            id="lr_raw",
            estimator="RawLogistic",
            label="LR (raw differences)",
            supervised=True,
            normalized_inputs=False,
            form=DIFFERENCE,
            description="Logistic regression on x+ - x- without normalization: the supervised ceiling.",
            fit=_fit_logistic,
            shift_equivariant=True,
            demo=True,
        ),
        Method(
            id="lr_norm",
            estimator="NormalizedLogistic",
            label="LR (normalized)",
            supervised=True,
            normalized_inputs=True,
            form=DIFFERENCE,
            description="Logistic regression on the normalized inputs CCS sees: what normalization removes.",
            fit=_fit_logistic,
            shift_equivariant=True,
            demo=True,
        ),
        Method(
            id="random",
            estimator="RandomDirection",
            label="Random direction",
            supervised=False,
            normalized_inputs=True,
            form=DIFFERENCE,
            description="A random unit direction: the floor.",
            fit=_fit_random,
            demo=True,
            floor=True,
        ),
        Method(
            id="vinc",
            estimator="VINC",
            label="VINC",
            supervised=False,
            normalized_inputs=True,
            form=DIFFERENCE,
            description="elk's eigen reporter: the direction along which x+ and x- are most anti-correlated "
            "(one template).",
            fit=_fit_vinc,
        ),
        Method(
            id="tpc_em",
            estimator="EMBalancedTPC",
            label="TPC (EM-balanced)",
            supervised=False,
            normalized_inputs=True,
            form=DIFFERENCE,
            description="TPC with the two classes EM estimates without labels weighted equally in the covariance, "
            "so truth regains the variance imbalance took (a label-free remedy).",
            fit=_fit_tpc_em,
            remedy_for="tpc",
        ),
        Method(
            id="vinc_em",
            estimator="EMBalancedVINC",
            label="VINC (EM-balanced)",
            supervised=False,
            normalized_inputs=True,
            form=DIFFERENCE,
            description="VINC with the two classes EM estimates without labels weighted equally in its "
            "cross-covariance (a label-free remedy).",
            fit=_fit_vinc_em,
            remedy_for="vinc",
        ),
        Method(
            id="mass_mean",
            estimator="MassMean",
            label="Mass-mean (normalized)",
            supervised=True,
            normalized_inputs=True,
            form=DIFFERENCE,
            description="Difference of the class means of the normalized differences, threshold midway "
            "(Marks & Tegmark 2023).",
            fit=_fit_mass_mean,
            shift_equivariant=True,
        ),
        Method(
            id="lda",
            estimator="LDA",
            label="LDA (normalized)",
            supervised=True,
            normalized_inputs=True,
            form=DIFFERENCE,
            description="The mass-mean direction corrected by the within-class covariance (shrunk), equal priors.",
            fit=_fit_lda,
            shift_equivariant=True,
        ),
        Method(
            id="ccs_top",
            estimator="SubspaceCCS",
            label=f"CCS (top {TOP_DIRECTIONS} directions)",
            supervised=False,
            normalized_inputs=True,
            form=PAIR,
            description=f"CCS searched in the top {TOP_DIRECTIONS} principal directions of the normalized training "
            "differences (TPC's space) instead of all: fewer consistent non-truth directions to find.",
            train_batched=train_ccs_in_subspace,
        ),
    )
}
METHOD_IDS = tuple(METHOD_REGISTRY)
DEMO_METHODS = tuple(method.id for method in METHOD_REGISTRY.values() if method.demo)
(HEADLINE_METHOD,) = (method.id for method in METHOD_REGISTRY.values() if method.headline)
(FLOOR_METHOD,) = (method.id for method in METHOD_REGISTRY.values() if method.floor)


def trains_with_ccs_optimizer(methods: Iterable[str]) -> bool:
    """Whether any of `methods` reads the CCS optimizer settings (Method.uses_ccs_optimizer),
    so that a run's key keeps them. An id the registry does not know reads none: a stored
    run's config is read before any check of its methods."""
    return any(METHOD_REGISTRY[m].uses_ccs_optimizer for m in methods if m in METHOD_REGISTRY)


def logistic_twins() -> tuple[str, str] | None:
    """(raw, normalized): the supervised method fitted on raw pairs and the one fitted the
    same way on normalized pairs, whose comparison isolates what normalization does to a
    threshold (core.analysis.mechanism.logistic_threshold_shift); None without such a pair."""
    supervised = [m for m in METHOD_REGISTRY.values() if m.supervised and m.fit is not None]
    for raw in (m for m in supervised if not m.normalized_inputs):
        for normalized in (m for m in supervised if m.normalized_inputs and m.fit is raw.fit):
            return raw.id, normalized.id
    return None
