"""Activation sets for a notebook: extracted here, imported from an activation file, or
loaded from this machine (core.__all__'s extract, import_activations, load_activations)."""

from __future__ import annotations

from pathlib import Path

from core.config import ExtractConfig
from core.errors import UserError
from core.extraction.extract import extract as extract_to_store
from core.extraction.runtime import Runtime
from core.names import is_digest
from core.store.activation_imports import IMPORT_ID, imported_set
from core.store.activation_imports import import_activation_file as store_activation_file
from core.store.activations import ActivationSet, ActivationStore


def extract(config: ExtractConfig | None = None, runtime: Runtime | None = None) -> ActivationSet:
    """The activation set of `config` (default: the offline demo's), extracted on the
    runtime's device or found in the cache, with its texts, labels, layers and provenance (meta)."""
    runtime = runtime or Runtime()
    outcome = extract_to_store(config or ExtractConfig(), runtime)
    return runtime.activations.load(outcome.key)


def import_activations(path: str | Path) -> ActivationSet:
    """Import an activation file (format version 1, core.store.activation_files; checked whole,
    nothing kept if it fails) into a folder of its own, or find it imported already, and load it."""
    imported, _ = store_activation_file(path)
    return imported.load()


def load_activations(source: str, layers: list[int] | None = None) -> ActivationSet:
    """An activation set on this machine: an import id (`python -m core import-activations
    lists them) or the key of a local extraction; all layers or only `layers`."""
    if isinstance(source, str) and IMPORT_ID.fullmatch(source):
        return imported_set(source).load(layers)
    if isinstance(source, str) and is_digest(source):
        return ActivationStore().load(source, layers)
    raise UserError(f"{str(source)[:80]!r} is neither an import id nor an activation key.")
