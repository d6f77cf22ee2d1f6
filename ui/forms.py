"""Form widgets that turn into configs (the sweep form, and the CCS optimizer choice the
layer page uses too)."""

from __future__ import annotations

import dataclasses

import streamlit as st

from core.config import CCSConfig
from core.normalizations import NEGATED, NORMALIZATION_REGISTRY, NORMALIZATIONS
from core.probes import METHOD_IDS
from core.settings.presets import CCS_OPTIMIZERS, optimizer_name, with_optimizer
from core.settings.sweep import SweepConfig
from core.settings.validate import BOUNDS, MAX_PROMPT_CHARS
from core.views.style import method_label
from ui.serving import shared

P_CHOICES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975)
REFERENCE, FAST = CCS_OPTIMIZERS["reference"], CCS_OPTIMIZERS["fast"]
OPTIMIZER_LABELS = {
    "reference": f"Reference: {REFERENCE.epochs} epochs, lr {REFERENCE.lr:g} (for published numbers)",
    "fast": f"Fast: {FAST.epochs} epochs, lr {FAST.lr:g} (interactive)",
    "custom": "Custom",
}
TEST_NORMALIZATION_LABELS = {
    "own": "its own statistics (reference code)",
    "train": "the training statistics (deployment)",
}


def bounded_input(container, name: str, value, key: str, label: str | None = None, **options):
    """A number field held to core.settings.validate.BOUNDS[name] (shared mode's caps on a shared
    server), so the form accepts exactly what a run and a link accept."""
    bound = BOUNDS[name]
    cast = int if bound.whole else float
    low, high = cast(bound.low), cast(bound.high_for(shared()))
    return container.number_input(label or bound.label, low, high, min(max(cast(value), low), high), key=key, **options)


def sweep_fields(config: SweepConfig, key: str) -> SweepConfig:
    """Widgets for every sweep setting, initialized from `config`; returns the edited config.
    `key` prefixes widget keys so two pages' forms do not collide."""
    left, middle, right = st.columns(3)
    p_levels = left.multiselect(
        "Levels of p (share of true-+ training pairs)",
        sorted(set(P_CHOICES) | set(config.p_levels)),
        default=list(config.p_levels),
        key=f"{key}_p",
    )
    layer = bounded_input(left, "layer", config.layer, f"{key}_layer", "Layer (hidden-state index)")
    n_train = bounded_input(middle, "n_train", config.n_train, f"{key}_n_train", step=50)
    n_test = bounded_input(middle, "n_test", config.n_test, f"{key}_n_test", step=50)
    seeds = bounded_input(
        right,
        "seeds",
        len(config.seeds),
        f"{key}_seeds",
        "Seeds",
        help="Each seed redraws the training set and CCS's initial weights. Use 3 or more: "
        "with 2 the 95% interval is too wide to mean much.",
    )
    methods = right.multiselect(
        "Methods", METHOD_IDS, default=list(config.methods), format_func=method_label, key=f"{key}_methods"
    )
    with st.expander("Normalization and CCS optimizer"):
        a, b, c = st.columns(3)
        normalization = a.selectbox(
            "Per-side normalization",
            NORMALIZATIONS,
            index=NORMALIZATIONS.index(config.normalization),
            format_func=lambda norm: NORMALIZATION_REGISTRY[norm].label,
            key=f"{key}_norm",
            help=NORMALIZATION_REGISTRY[config.normalization].description,
        )
        negated = config.negated_prompt
        if NORMALIZATION_REGISTRY[normalization].companion == NEGATED:
            negated = (
                a.text_input(
                    'Negated prompt (empty: the prompt + " not")',
                    config.negated_prompt or "",
                    key=f"{key}_negated",
                    max_chars=MAX_PROMPT_CHARS,
                    help="The question whose true completion is the other one, with one {text} slot.",
                )
                or None
            )
        test_normalization = a.radio(
            "Normalize the test split with",
            list(TEST_NORMALIZATION_LABELS),
            index=list(TEST_NORMALIZATION_LABELS).index(config.test_normalization),
            format_func=TEST_NORMALIZATION_LABELS.get,
            key=f"{key}_test_norm",
        )
        optimizer = b.radio(
            "CCS optimizer",
            list(OPTIMIZER_LABELS),
            format_func=OPTIMIZER_LABELS.get,
            index=list(OPTIMIZER_LABELS).index(optimizer_name(config.ccs)),
            key=f"{key}_optimizer",
            help="Fast agrees with the reference on the demo to a mean |accuracy difference| of "
            "about 0.005 per cell (make bench). Custom uses the epochs and rate below.",
        )
        epochs = bounded_input(b, "epochs", config.ccs.epochs, f"{key}_epochs", "Custom: CCS epochs")
        lr = bounded_input(b, "lr", config.ccs.lr, f"{key}_lr", "Custom: CCS learning rate", format="%g")
        restarts = bounded_input(c, "restarts", config.ccs.restarts, f"{key}_restarts", "CCS restarts (reference: 10)")
        split_seed = bounded_input(c, "split_seed", config.split_seed, f"{key}_split_seed")
    ccs = dataclasses.replace(config.ccs, epochs=int(epochs), lr=float(lr), restarts=int(restarts))
    if optimizer != "custom":
        ccs = with_optimizer(ccs, optimizer)
    return dataclasses.replace(
        config,
        layer=int(layer),
        p_levels=tuple(sorted(float(p) for p in p_levels)),
        n_train=int(n_train),
        n_test=int(n_test),
        seeds=tuple(range(int(seeds))),
        methods=tuple(m for m in METHOD_IDS if m in methods),
        normalization=normalization,
        test_normalization=test_normalization,
        split_seed=int(split_seed),
        ccs=ccs,
        negated_prompt=negated,
    )


def ccs_optimizer_field(container, ccs: CCSConfig, key: str) -> CCSConfig:
    """A select box of the named CCS optimizers (plus the sweep page's custom schedule when
    `ccs` is one) in `container`; returns `ccs` with the chosen one."""
    current = optimizer_name(ccs)
    names = [name for name in OPTIMIZER_LABELS if name != "custom" or current == "custom"]
    labels = {"reference": "Reference", "fast": "Fast", "custom": "Custom (sweep page)"}
    chosen = container.selectbox(
        "CCS optimizer",
        names,
        index=names.index(current),
        format_func=labels.get,
        key=key,
        help=" · ".join(OPTIMIZER_LABELS[name] for name in ("reference", "fast")),
    )
    return ccs if chosen == "custom" else with_optimizer(ccs, chosen)
