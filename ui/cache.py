"""Cached loaders: one model at a time in memory, activation layers by key, sweep results
by key. Arguments are small strings and configs (hashable), never large arrays."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core.analysis.label_budget import budget_shares, label_budget
from core.analysis.mechanism import centering_table
from core.analysis.separation import run_verdicts
from core.config import DatasetSpec, ModelSpec
from core.data.loaders import load_dataset
from core.experiments.cells import SweepResult
from core.experiments.pipeline import cached_run
from core.experiments.sweep import load_sweep, sweep_key
from core.extraction.companions import sweep_activations
from core.extraction.extract import activation_key
from core.extraction.models import LoadedModel, load_model, load_tokenizer
from core.settings.sweep import SweepConfig
from core.store.activation_imports import ImportedActivations
from core.store.activations import ActivationSet, ActivationStore
from core.store.entries import CorruptEntry, quarantine
from core.store.sweeps import SweepStore
from core.store.views import ViewStore
from core.story.registry import STEP_TYPES
from core.story.results import Results
from ui.render import show_error
from ui.state import Source


@st.cache_resource(max_entries=1, show_spinner="Loading the model")
def cached_model(spec: ModelSpec, device: str = "auto") -> LoadedModel:
    """The one model kept in memory (a new spec replaces it). The objects alive once it is
    loaded (the model and its tokenizer are hundreds of thousands) are frozen out of the
    garbage collector's full passes, which would otherwise walk them all in the middle of
    whichever page rerun triggers one; unfreezing first lets a replaced model's objects
    be collected."""
    gc.unfreeze()
    loaded = load_model(spec, device)
    gc.collect()
    gc.freeze()
    return loaded


def model_loader(spec: ModelSpec, device, status=None) -> LoadedModel:
    """A `loader` for core.extraction.extract.extract that reuses the cached model."""
    return cached_model(spec, str(device))


@st.cache_resource(max_entries=4, show_spinner=False)
def cached_layer(key: str, sweep: SweepConfig, folder: str | None = None) -> ActivationSet:
    """The sweep's layer of an activation set with the companion pairs its normalization
    reads attached (kept as tensors, not copied per rerun); from the store in `folder`
    (an imported set's) or this machine's."""
    return sweep_activations(_activation_store(folder), key, sweep)


def _activation_store(folder: str | None) -> ActivationStore:
    return ActivationStore(Path(folder)) if folder is not None else ActivationStore()


def source_key(source: Source) -> tuple[str, ActivationStore]:
    """The key of a run's activation set and the store it lies in: an imported set's own, or
    this machine's under the extraction's key."""
    if isinstance(source, ImportedActivations):
        return source.key, source.activations
    return activation_key(source), ActivationStore()


def stored_layers(key: str, store: ActivationStore | None = None) -> list[int] | None:
    """The layers an activation set holds, or None when there is none under `key`. Raises
    CorruptEntry (the entry set aside) if its metadata cannot be read."""
    store = store or ActivationStore()
    if not store.has(key):
        return None
    try:
        return list(store.meta(key)["layers"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise quarantine(store.root, key, f"unreadable metadata: {type(error).__name__}") from None


def layer_for(source: Source, sweep: SweepConfig) -> ActivationSet | None:
    """The activations of `source` (an extraction config or an imported set) at the sweep's
    layer, as the sweep reads them, or None when not extracted yet. Raises CorruptEntry
    (the entry set aside) if the stored set fails its check."""
    key, store = source_key(source)
    layers = stored_layers(key, store)
    folder = str(source.folder) if isinstance(source, ImportedActivations) else None
    return cached_layer(key, sweep, folder) if layers is not None and sweep.layer in layers else None


@st.cache_resource(max_entries=8, show_spinner=False)
def cached_sweep(source: Source, sweep: SweepConfig) -> SweepResult | None:
    """A finished sweep from the disk cache (None if it was never run): an imported set's
    from its own store. Only successful loads are memoized: None is not cached, so a sweep
    run later is found."""
    if isinstance(source, ImportedActivations):
        key = sweep_key(source.key, sweep)
        result = load_sweep(source.sweeps, key, sweep, source.key) if source.sweeps.has(key) else None
    else:
        result = cached_run(source, sweep)
    if result is None:
        raise LookupError
    return result


def finished_sweep(source: Source, sweep: SweepConfig) -> SweepResult | None:
    """The cached sweep for these configs, or None (also when the stored one failed its
    check: it has been set aside, this says so, and the next run recomputes it)."""
    try:
        return cached_sweep(source, sweep)
    except LookupError:
        return None
    except CorruptEntry as error:
        show_error(error)
        return None


@st.cache_resource(max_entries=2, show_spinner="Loading the tokenizer")
def cached_tokenizer(spec: ModelSpec):
    """The tokenizer of a model spec, for previews."""
    return load_tokenizer(spec)


@st.cache_data(max_entries=8, show_spinner="Reading the dataset")
def cached_dataset_summary(spec: DatasetSpec, uploads: str) -> dict:
    """Size, class counts and three example texts of a dataset spec (its description says
    how many duplicate rows were dropped; uploads read from `uploads`; raises UserError)."""
    data = load_dataset(spec, Path(uploads))
    negatives, positives = data.class_counts()
    picks = np.random.default_rng(0).choice(len(data), size=min(3, len(data)), replace=False)
    return {
        "description": data.description,
        "n": len(data),
        "negatives": negatives,
        "positives": positives,
        "examples": [data.texts[i] for i in picks],
    }


@st.cache_data(max_entries=8, show_spinner="Measuring the mechanism")
def cached_centering(source: Source, sweep: SweepConfig):
    """core.analysis.mechanism.centering_table for the current activations (keyed by the configs)."""
    return centering_table(layer_for(source, sweep), sweep)


@st.cache_resource(max_entries=16, show_spinner=False)
def _stored_sweep(folder: str, key: str, activation_key: str, config: SweepConfig) -> SweepResult:
    """A sweep from the sweep store in `folder` by its key (LookupError when absent: not memoized)."""
    store = SweepStore(Path(folder).parent)
    if not store.has(key):
        raise LookupError
    return load_sweep(store, key, config, activation_key)


@st.cache_data(max_entries=32, show_spinner=False)
def _stored_view(folder: str, key: str, step_type: str) -> dict:
    """A measured step view from the view store in `folder` by its key, checked against the
    tables its step type measures (LookupError when absent: not memoized)."""
    tables = ViewStore(Path(folder).parent).load(key, STEP_TYPES[step_type].view_tables)
    if tables is None:
        raise LookupError
    return tables


class PageResults(Results):
    """core.story.results.Results through this server's memory caches, so a step drawn once draws
    again without reading the disk; a damaged entry shows one line and counts as missing."""

    def sweep(self, run):
        try:
            return super().sweep(run)
        except LookupError:  # removed since it was found
            return None
        except CorruptEntry as error:
            show_error(error)
            return None

    def load_sweep(self, found, config):
        return _stored_sweep(str(found.store.root), found.key, found.activations, config)

    def view(self, step):
        try:
            return super().view(step)
        except LookupError:
            return None
        except CorruptEntry as error:
            show_error(error)
            return None

    def load_view(self, found, step):
        return _stored_view(str(found.store.root), found.key, step.type)


@st.cache_data(max_entries=8, show_spinner="Drawing labelled pairs for every budget")
def cached_budget(source: Source, sweep: SweepConfig) -> pd.DataFrame:
    """The label budget of a finished sweep (core.analysis.label_budget.budget_shares), kept
    for the session's server: it fits a mixture for every share its labels suggest."""
    return budget_shares(label_budget(layer_for(source, sweep), cached_sweep(source, sweep)))


@st.cache_data(max_entries=8, show_spinner=False)
def cached_verdicts(source: Source, sweep: SweepConfig) -> pd.DataFrame:
    """The label-free verdict of every method of a finished sweep (core.analysis.separation)."""
    return run_verdicts(layer_for(source, sweep), cached_sweep(source, sweep))
