"""What the dashboard is working on, kept in session state so every page and the sidebar
agree: where the activations come from (the extraction config, or an imported activation
set in its place), the sweep config, and the cell the inspector looks at."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.config import BUNDLED, ExtractConfig
from core.data.bundled import BUNDLED_DATASETS
from core.errors import UserError
from core.models import model_label, offline_model_id
from core.names import is_digest, is_local_path
from core.settings.links import ACTIVATIONS_PARAM, extract_to_params, run_from_params, sweep_to_params
from core.settings.presets import DEMO
from core.settings.sweep import SweepConfig
from core.settings.validate import check_run
from core.store.activation_imports import ImportedActivations, imported_set
from core.views.report import chart_caption
from ui.render import show_error
from ui.serving import limits

Source = ExtractConfig | ImportedActivations  # what a run's activations come from

EXTRACT_KEY = "extract_config"
IMPORT_KEY = "imported_activations"
SWEEP_KEY = "sweep_config"
SELECTION_KEY = "inspect_selection"
APPLIED_LINK_KEY = "applied_link"
VIEW_PARAMS = ("metric", "theory", "step", "deck")


def current_extract() -> ExtractConfig:
    """The extraction config in use (the offline demo until the user picks another)."""
    return st.session_state.setdefault(EXTRACT_KEY, DEMO[0])


def current_sweep() -> SweepConfig:
    """The sweep config in use (the demo's until the user changes it)."""
    return st.session_state.setdefault(SWEEP_KEY, DEMO[1])


def set_extract(config: ExtractConfig) -> None:
    """Work on the activations of `config` (extracted here), not on an imported set."""
    st.session_state[EXTRACT_KEY] = config
    st.session_state.pop(IMPORT_KEY, None)


def current_import() -> ImportedActivations | None:
    """The imported activation set the pages work on instead of an extraction, if one was
    chosen (on the Data page, or by a link) and is still there."""
    identifier = st.session_state.get(IMPORT_KEY)
    if identifier is None:
        return None
    try:
        return imported_set(identifier)
    except UserError:  # removed since it was chosen
        st.session_state.pop(IMPORT_KEY, None)
        return None


def set_import(identifier: str) -> None:
    """Work on the imported set `identifier` (checked: a UserError if there is none)."""
    imported_set(identifier)
    st.session_state[IMPORT_KEY] = identifier


def current_source() -> Source:
    """Where the current run's activations come from: the imported set chosen, else the extraction."""
    return current_import() or current_extract()


def set_sweep(config: SweepConfig) -> None:
    st.session_state[SWEEP_KEY] = config


def selection() -> dict:
    """The (method, p, seed) the inspector shows; chart clicks and selectors set it."""
    sweep = current_sweep()
    default = {"method": sweep.methods[0], "p": max(sweep.p_levels), "seed": sweep.seeds[0]}
    return st.session_state.setdefault(SELECTION_KEY, default)


def select(**fields) -> None:
    st.session_state[SELECTION_KEY] = {**selection(), **fields}


def apply_link() -> None:
    """Adopt the configs a shared link carries (once per distinct link), held to the same
    checks as a run. A bad link shows one error and leaves the session's state alone."""
    params = {key: st.query_params[key] for key in st.query_params}
    config_params = {k: v for k, v in params.items() if k not in VIEW_PARAMS}
    if not config_params or st.session_state.get(APPLIED_LINK_KEY) == config_params:
        return
    st.session_state[APPLIED_LINK_KEY] = config_params
    try:
        extract, sweep = run_from_params(config_params, limits())
        check_run(extract, sweep, limits())
        imported = config_params.get(ACTIVATIONS_PARAM)
        if imported is not None:
            imported_set(imported)
    except UserError as error:
        show_error(f"This link could not be applied, so nothing changed: {error}")
        return
    set_extract(extract)
    set_sweep(sweep)
    if imported is not None:
        set_import(imported)


def write_link(extra: dict[str, str] | None = None) -> None:
    """Put the current configs (and view options) in the URL, so it can be shared."""
    imported = current_import()
    source = {ACTIVATIONS_PARAM: imported.id} if imported else extract_to_params(current_extract())
    params = {**source, **sweep_to_params(current_sweep()), **(extra or {})}
    st.session_state[APPLIED_LINK_KEY] = {k: v for k, v in params.items() if k not in VIEW_PARAMS}
    st.query_params.from_dict(params)


def model_name(config: ExtractConfig) -> str:
    """Display name of the configured model (a local folder by its name only)."""
    model_id = config.model.model_id
    if offline_model_id(model_id):
        return f"{model_label(model_id)} (offline)"
    return f"{Path(model_id).name} (local folder)" if is_local_path(model_id) else model_id


def dataset_name(config: ExtractConfig) -> str:
    """Display name of the configured dataset (files and folders by their names only)."""
    spec = config.dataset
    if spec.source == BUNDLED:
        return f"{BUNDLED_DATASETS[spec.name].label if spec.name in BUNDLED_DATASETS else spec.name} (bundled)"
    if spec.source == "csv":
        return f"CSV upload {spec.name[:12]}" if is_digest(spec.name) else f"CSV {Path(spec.name).name}"
    return f"hf: {Path(spec.name).name} (local folder)" if is_local_path(spec.name) else f"hf: {spec.name}"


def source_name(source: Source) -> str:
    """The model and data of a run's activations in a few words, an imported set's with its origin."""
    if isinstance(source, ImportedActivations):
        return f"{source.model} · {source.n} pairs {source.origin()} ({source.id})"
    ensemble = (
        f", {len(source.templates)}-template ensemble ({', '.join(source.templates)})" if source.templates else ""
    )
    return f"{model_name(source)} · {dataset_name(source)}, {source.n_examples} examples{ensemble}"


def run_line(source: Source, sweep: SweepConfig | None = None) -> str:
    """The run a page shows, in one line above its chart: the model and data (an imported
    set's with its origin), and with `sweep` its layer, training size, seeds, test split
    and CCS optimizer (for charts that do not carry them); user text, so shown with plain()."""
    line = source_name(source)
    return line if sweep is None else f"{line} · {chart_caption(sweep)}"
