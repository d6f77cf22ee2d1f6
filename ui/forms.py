"""Form widgets that turn into configs (the sweep form, and the CCS optimizer choice the
layer page uses too)."""

from __future__ import annotations

import dataclasses

import streamlit as st

from core.config import CCSConfig
from core.normalizations import NEGATED, NORMALIZATION_REGISTRY
from core.probes import METHOD_IDS
from core.settings.presets import CCS_OPTIMIZERS, optimizer_name, with_optimizer
from core.settings.schema import SETTINGS, SWEEP_SETTINGS, bound_of, grouped
from core.settings.sweep import SPLIT, SweepConfig
from core.settings.validate import MAX_PROMPT_CHARS, high_of
from core.views.style import method_label
from ui.serving import limits

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


def setting_input(container, name: str, value, key: str, label: str | None = None, **options):
    """The widget of setting `name`, made from its declaration (core.settings.schema): a number
    field held to its bound (a shared server's cap on one), a select box or multiselect of its
    choices, a checkbox or a text field; labelled and explained as the CLI's option is."""
    entry = SETTINGS[name]
    options = {"key": key, "help": entry.about.help or None} | options
    if entry.about.step is not None:
        options.setdefault("step", (int if bound_of(name).whole else float)(entry.about.step))
    label = label or entry.label
    if entry.choices is not None:
        if entry.many:
            return container.multiselect(label, entry.choices, default=list(value), **options)
        return container.selectbox(label, entry.choices, index=entry.choices.index(value), **options)
    if entry.kind is bool:
        return container.checkbox(label, value, **options)
    if entry.kind is str:
        return container.text_input(label, value or "", **options)
    bound = bound_of(name)
    cast = int if bound.whole else float
    low, high = cast(bound.low), cast(high_of(bound, limits()))
    number = len(value) if entry.many else value
    return container.number_input(label, low, high, min(max(cast(number), low), high), **options)


def sweep_fields(config: SweepConfig, key: str) -> SweepConfig:
    """Widgets for every sweep setting, initialized from `config`; returns the edited config.
    `key` prefixes widget keys so two pages' forms do not collide."""
    # The two lists on rows of their own, wide enough to show every chip; the numbers below.
    p_levels = st.multiselect(
        "Levels of p (share of true-+ training pairs)",
        sorted(set(P_CHOICES) | set(config.p_levels)),
        default=list(config.p_levels),
        key=f"{key}_p",
    )
    methods = setting_input(st, "methods", config.methods, f"{key}_methods", format_func=method_label)
    left, middle, right = st.columns(3)
    layer = setting_input(left, "layer", config.layer, f"{key}_layer", "Layer (hidden-state index)")
    # The settings that draw the training and test pairs, as the schema groups them.
    split = {
        entry: int(setting_input(middle, entry.name, entry.get(config), f"{key}_{entry.name}"))
        for entry in grouped(SWEEP_SETTINGS, SPLIT)
    }
    seeds = setting_input(
        right,
        "seeds",
        config.seeds,
        f"{key}_seeds",
        help="Each seed redraws the training set and CCS's initial weights. Use 3 or more: "
        "with 2 the 95% interval is too wide to mean much.",
    )
    with st.expander("Normalization and CCS optimizer"):
        a, b, c = st.columns(3)
        normalization = setting_input(
            a,
            "normalization",
            config.normalization,
            f"{key}_norm",
            "Per-side normalization",
            format_func=lambda norm: NORMALIZATION_REGISTRY[norm].label,
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
        epochs = setting_input(b, "epochs", config.ccs.epochs, f"{key}_epochs", "Custom: CCS epochs")
        lr = setting_input(b, "lr", config.ccs.lr, f"{key}_lr", "Custom: CCS learning rate", format="%g")
        restarts = setting_input(c, "restarts", config.ccs.restarts, f"{key}_restarts", "CCS restarts (reference: 10)")
    ccs = dataclasses.replace(config.ccs, epochs=int(epochs), lr=float(lr), restarts=int(restarts))
    if optimizer != "custom":
        ccs = with_optimizer(ccs, optimizer)
    for entry, value in split.items():
        config = entry.set(config, value)
    return dataclasses.replace(
        config,
        layer=int(layer),
        p_levels=tuple(sorted(float(p) for p in p_levels)),
        seeds=tuple(range(int(seeds))),
        methods=tuple(m for m in METHOD_IDS if m in methods),
        normalization=normalization,
        test_normalization=test_normalization,
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
