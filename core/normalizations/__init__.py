"""Normalizations of contrast pairs, each defined once here (NORMALIZATION_REGISTRY): what
it fits, whether it only shifts, whether it reads labels, and which companion set of
pairs it needs extracted alongside. The CLI, forms, links, decks, the sweep and the CCS
engine read this registry, so adding one is one module with its fit plus one entry here.

Every fit takes FitInputs and optional per-row weights and returns NormStats, which
apply, save and load themselves (core.normalizations.stats).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import UserError
from core.normalizations.content_free import fit_content_free
from core.normalizations.em_balanced import fit_em_balanced
from core.normalizations.negation_pooled import fit_negation_pooled
from core.normalizations.oracle_balanced import fit_oracle_balanced
from core.normalizations.per_side import fit_mean, fit_meanstd, fit_none
from core.normalizations.prior_given import fit_prior_given
from core.normalizations.prior_shift import fit_prior_shift
from core.normalizations.self_balanced import fit_self_balanced
from core.normalizations.stats import FitInputs, stack_stats

# Companion sets a normalization can ask for (core.extraction.companions extracts them).
NEGATED = "negated"
CONTENT_FREE = "content_free"


@dataclass(frozen=True)
class Normalization:
    """One per-side normalization. `fit(inputs, weights)` returns NormStats.
    `shift_only`: it subtracts per-side centers and divides by nothing (so a shift-
    equivariant method can reuse one raw fit). `uses_labels`: its fit reads the labels.
    `companion`: the extra pairs it needs (NEGATED, CONTENT_FREE) or None. `remedy`: a fix
    for the imbalance effect, shown on the Remedies page beside Burns centering (its line's
    colour follows the lab's rule, core.views.palette)."""

    id: str
    label: str
    description: str
    fit: Callable
    shift_only: bool = True
    uses_labels: bool = False
    companion: str | None = None
    remedy: bool = False


NORMALIZATION_REGISTRY = {
    norm.id: norm
    for norm in (
        Normalization(
            "mean",
            "Burns (per-side mean)",
            "Center each side on its own mean (the reference code).",
            fit_mean,
        ),
        Normalization(
            "meanstd",
            "Burns (mean and std)",
            "Center each side and divide by its own per-dimension std.",
            fit_meanstd,
            shift_only=False,
        ),
        Normalization("none", "None", "Raw hidden states.", fit_none),
        Normalization(
            "oracle_balanced",
            "Oracle-balanced means",
            "Per-side means with the two classes weighted equally. Uses labels: the upper bound of a "
            "normalization fix.",
            fit_oracle_balanced,
            uses_labels=True,
            remedy=True,
        ),
        Normalization(
            "self_balanced",
            "Self-balanced means",
            "No labels: pseudo-label along the top principal direction, weight the two pseudo-classes "
            "equally, repeat until the partition stops changing (2-means).",
            fit_self_balanced,
            remedy=True,
        ),
        Normalization(
            "em_balanced",
            "EM-balanced means",
            "No labels: soft labels from a two-Gaussian mixture along the consistency direction (EM), the "
            "two soft classes weighted equally in each side's mean, repeated until the soft labels settle.",
            fit_em_balanced,
            remedy=True,
        ),
        Normalization(
            "prior_shift",
            "Prior-shifted means",
            "No labels: Burns centering, then each side's center moved along the consistency direction by "
            "the shift the share of true pairs estimated from a two-Gaussian mixture predicts (one step).",
            fit_prior_shift,
            remedy=True,
        ),
        Normalization(
            "prior_given",
            "EM-balanced means, prior given",
            "Reads the share of true pairs, not which pair is which: EM-balanced means with that share held "
            "fixed, to show what a label-free remedy could reach if its estimate of the prior were right.",
            fit_prior_given,
            uses_labels=True,
            remedy=True,
        ),
        Normalization(
            "content_free",
            "Content-free offset",
            "The answer-token offset measured on the template with content-free texts, around the "
            "midpoint of the two sides.",
            fit_content_free,
            companion=CONTENT_FREE,
            remedy=True,
        ),
        Normalization(
            "negation_pooled",
            "Negation-pooled means",
            "Per-side means pooled over each question and its negation, so each side is half true.",
            fit_negation_pooled,
            companion=NEGATED,
            remedy=True,
        ),
    )
}
NORMALIZATIONS = tuple(NORMALIZATION_REGISTRY)
REMEDIES = tuple(norm.id for norm in NORMALIZATION_REGISTRY.values() if norm.remedy)
BASELINE = "mean"  # what the remedies are compared against: Burns centering


def fit_stats(x_pos, x_neg, kind: str = "mean", labels=None, companion=None, weights=None):
    """Statistics of normalization `kind` for [n, d] pairs (labels only reach a
    normalization that uses them; `companion` is the set its entry asks for). A template
    ensemble's [n, k, d] pairs are normalized per template, as elk does, so one template's
    answer-token offset is not subtracted from another's: statistics [k, d]."""
    if kind not in NORMALIZATION_REGISTRY:
        raise UserError(f"Unknown normalization '{kind}' (use {', '.join(NORMALIZATIONS)}).")
    norm = NORMALIZATION_REGISTRY[kind]
    if x_pos.ndim == 3:
        if norm.companion is not None:
            raise UserError(f"The normalization '{kind}' reads companion pairs, which a template ensemble has none of.")
        return stack_stats(
            [fit_stats(x_pos[:, t], x_neg[:, t], kind, labels, None, weights) for t in range(x_pos.shape[1])]
        )
    inputs = FitInputs(
        x_pos, x_neg, labels if norm.uses_labels else None, companion if norm.companion is not None else None
    )
    return norm.fit(inputs, weights)


def normalize(x_pos, x_neg, kind: str = "mean", labels=None, companion=None):
    """Pairs normalized with their own statistics (what CCS sees in the reference code)."""
    return fit_stats(x_pos, x_neg, kind, labels, companion).apply(x_pos, x_neg)
