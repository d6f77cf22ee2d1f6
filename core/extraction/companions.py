"""Companion sets: the extra pairs a normalization asks for (its registry entry's
`companion`), extracted alongside an activation set with the same model and layers.

- NEGATED: the same examples asked through the negated prompt (core.config.negated_prompt),
  row for row, so the true completion is the other one (labels flipped).
- CONTENT_FREE: the template filled with content-free texts (core.normalizations.
  content_free.CONTENT_FREE_TEXTS).

A companion is keyed by its activation set's key and what makes it (the negated prompt,
the content-free texts), so a sweep's key, which holds both, already names it; it lives
in the activation store, checksummed like any set, and is marked `companion` in its
metadata.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from core.config import ExtractConfig, Template, from_dict, negated_prompt
from core.data.prompts import render_pair
from core.errors import UserError
from core.extraction.extract import TokenizedPairs, stream_pairs
from core.extraction.forward import tokenize
from core.extraction.runtime import Runtime
from core.normalizations import NEGATED, NORMALIZATION_REGISTRY
from core.normalizations.content_free import CONTENT_FREE_TEXTS
from core.settings.sweep import SweepConfig
from core.store.activations import ActivationSet, ActivationStore
from core.store.entries import content_key, key_lock


def companion_kind(config: SweepConfig) -> str | None:
    """The companion the sweep's normalization needs, or None."""
    return NORMALIZATION_REGISTRY[config.normalization].companion


def _recipe(template: Template, kind: str, config: SweepConfig) -> tuple[Template, dict]:
    """The template the companion is rendered with, and what identifies it."""
    if kind == NEGATED:
        prompt = negated_prompt(template.prompt, config.negated_prompt)
        return dataclasses.replace(template, prompt=prompt), {"prompt": prompt}
    return template, {"texts": list(CONTENT_FREE_TEXTS)}


def companion_key(activation_key: str, template: Template, config: SweepConfig) -> str | None:
    """The key of the companion `config` needs for the set under `activation_key` (whose
    template is `template`), or None if it needs none."""
    kind = companion_kind(config)
    if kind is None:
        return None
    _, identity = _recipe(template, kind, config)
    return content_key({"kind": "companion", "of": activation_key, "companion": kind, **identity})


def _template_of(store: ActivationStore, activation_key: str) -> Template:
    try:
        meta = store.meta(activation_key)
        if "origin" in meta:  # imported from an activation file (core.store.activation_imports): no model here
            raise UserError(
                "This activation set was imported from an activation file, and its companion pairs can only be "
                "extracted with its model; pick a normalization that needs none."
            )
        return from_dict(ExtractConfig, meta["config"]).template
    except (OSError, KeyError, TypeError, ValueError):
        raise UserError(
            f"The activation set {activation_key[:12]}… does not record its template, so its "
            "companion pairs cannot be made; extract it again."
        ) from None


def ensure_companion(activation_key: str, config: SweepConfig, runtime: Runtime | None = None) -> None:
    """Extract the companion `config` needs for the set under `activation_key` in
    runtime.activations, unless it is cached (or none is needed). Loads the model only when
    it extracts."""
    runtime = runtime or Runtime()
    store = runtime.activations
    template = _template_of(store, activation_key) if companion_kind(config) else None
    key = companion_key(activation_key, template, config) if template else None
    if key is None or store.has(key):
        return
    with key_lock(
        store.root, key, on_wait=lambda: runtime.say("Another run is extracting these pairs; waiting for it")
    ):
        if not store.has(key):
            _extract_companion(runtime, activation_key, key, template, config)


def _extract_companion(
    runtime: Runtime, activation_key: str, key: str, template: Template, config: SweepConfig
) -> None:
    started = time.perf_counter()
    kind = companion_kind(config)
    store, say = runtime.activations, runtime.say
    meta = store.meta(activation_key)
    extract_config = from_dict(ExtractConfig, meta["config"])
    say("Making the negated questions" if kind == NEGATED else "Making the content-free prompts")
    if kind == NEGATED:
        base = store.load(activation_key, layers=[meta["layers"][0]])
        texts, ids, labels = list(base.texts), list(base.ids), (1 - base.labels).astype(np.int8)
        # The same distractor word on the same side as in the set it belongs to.
        signs = meta.get("distractor_signs") or [1] * len(texts)
    else:
        texts = list(CONTENT_FREE_TEXTS)
        ids, labels = [f"content-free {i}" for i in range(len(texts))], np.zeros(len(texts), dtype=np.int8)
        signs = [1 if i % 2 == 0 else -1 for i in range(len(texts))]
    companion_template, identity = _recipe(template, kind, config)
    loaded = runtime.loader(extract_config.model, runtime.torch_device, status=say)
    token_ids = tokenize(
        loaded.tokenizer, [text for t, sign in zip(texts, signs) for text in render_pair(companion_template, t, sign)]
    )
    pairs = TokenizedPairs([(token_ids[2 * k], token_ids[2 * k + 1]) for k in range(len(texts))], labels, texts, ids)
    record = {
        "key": key,
        "n": len(texts),
        "config": meta["config"],
        "companion": {"of": activation_key, "kind": kind, **identity},
        "dataset_description": f"{kind.replace('_', '-')} companion of {activation_key[:12]}",
    }
    stream_pairs(loaded, runtime, key, pairs, list(meta["layers"]), extract_config.storage_dtype, record, started)


def with_companion(store: ActivationStore, acts: ActivationSet, config: SweepConfig) -> ActivationSet:
    """`acts` with the companion `config` needs attached at the same layers (`acts` itself if
    none is needed); a UserError if it has not been extracted, and a damaged one is set
    aside (CorruptEntry) so the next run extracts it again."""
    key = companion_key(acts.key, _template_of(store, acts.key), config) if companion_kind(config) else None
    if key is None:
        return acts
    if not store.has(key):
        raise UserError(
            f"The normalization '{config.normalization}' needs pairs that have not been extracted "
            "yet; run the sweep through the CLI or the Sweep page, which extracts them."
        )
    companion = store.load(key, layers=list(acts.layers))
    if companion_kind(config) == NEGATED and companion.texts != acts.texts:
        raise UserError("The negated pairs do not match the activation set row for row; extract them again.")
    return dataclasses.replace(acts, companion=companion)


def sweep_activations(store: ActivationStore, activation_key: str, config: SweepConfig) -> ActivationSet:
    """The sweep's layer of the set under `activation_key`, as the sweep reads it: with the
    companion its normalization asks for attached (with_companion)."""
    return with_companion(store, store.load(activation_key, layers=[config.layer]), config)
