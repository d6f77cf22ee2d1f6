"""Configs to and from URL query parameters, so a link reproduces a dashboard view.

Only values that differ from the demo preset are written, which keeps links short and
readable (`?p=0.5,0.9&seeds=5`). Parsing is strict: a bad value is a UserError naming
the parameter, never a silently different experiment, and every value is held to the
bounds of core.settings.validate, the same the forms use. Each setting's parameter is
declared beside its field (core.config.setting), so a new setting is carried at once.

A link never names a file or folder: models are "bundled" or hub ids, datasets bundled,
hub ids or CSV data named by the sha256 of its bytes (which finds its activations in the
cache). A config that uses a local path writes no link parameter for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from core.config import BUNDLED, BUNDLED_DEFAULT, DatasetSpec, ExtractConfig, ModelSpec
from core.data.ensembles import with_templates
from core.data.uploads import csv_identity
from core.errors import UserError
from core.models import OFFLINE_MODELS, model_label, offline_model_id
from core.models.depth import is_depth, resolve_layer
from core.models.known import known_hidden_states
from core.names import is_digest, is_hub_id
from core.settings.limits import OWNER, Limits
from core.settings.presets import DEMO
from core.settings.schema import EXTRACT_SETTINGS, SETTINGS, SWEEP_SETTINGS, Entry
from core.settings.sweep import Run, SweepConfig
from core.settings.validate import check_entry, check_extract, check_sweep

# The model goes in a link only by an offline or hub id, and the data set as one parameter,
# DATA: source:name:config:split:text:label:positive.
MODEL_ID = SETTINGS["model_id"]
DATA = "data"
# An imported activation set (core.store.activation_imports) by its import id, in place of the
# extraction a link describes: an id names a set on the server that imported it, never a path.
ACTIVATIONS_PARAM = "acts"
# The extraction settings a link carries each under its own parameter, the model's id aside.
EXTRACT_PARAMS = tuple(entry for entry in EXTRACT_SETTINGS if entry is not MODEL_ID)
TEMPLATE_PARAMS = {entry.param for entry in EXTRACT_SETTINGS if entry.path[0] == "template"}


def _join(values) -> str:
    """Values as a link writes them; a number in the fewest digits that read back as it (repr)."""
    return ",".join(repr(v) if isinstance(v, float) else str(v) for v in values)


def _encode(entry: Entry, value) -> str:
    """A setting's value as a link writes it (a list as a count where `range_count` allows)."""
    if entry.many:
        return str(len(value)) if entry.about.range_count and value == tuple(range(len(value))) else _join(value)
    return _join((value,))


def _whole(text: str, name: str) -> int:
    if not text.strip().lstrip("-").isdigit():
        raise UserError(f"Link parameter '{name}' must be a whole number, got '{text}'.")
    return int(text)


def _item(entry: Entry, text: str, model: ModelSpec):
    """One value of a setting from its text: a whole number, a number, a relative depth
    (placed in `model`) where the setting takes one, or text."""
    if entry.about.depth and is_depth(text):
        try:
            return resolve_layer(text, known_hidden_states(model), model_label(model.model_id))
        except UserError as error:
            raise UserError(f"Link parameter '{entry.param}': {error}") from None
    if entry.kind is int:
        return _whole(text, entry.param)
    if entry.kind is float:
        try:
            return float(text)
        except ValueError:
            raise UserError(f"Link parameter '{entry.param}' must be a number, got '{text}'.") from None
    return text


def _decode(entry: Entry, text: str, model: ModelSpec):
    """A setting's value from its link parameter."""
    if not entry.many:
        return _item(entry, text, model)
    if entry.about.range_count and "," not in text:
        return tuple(range(_whole(text, entry.param)))
    values = tuple(_item(entry, part, model) for part in text.split(",") if part.strip())
    if not values:
        raise UserError(f"Link parameter '{entry.param}' is empty.")
    return values


def _to_params(config, base, entries: tuple[Entry, ...]) -> dict[str, str]:
    """The link parameters of the `entries` whose values in `config` differ from `base`."""
    params = {}
    for entry in entries:
        value = entry.get(config)
        if entry.param and value is not None and value != entry.get(base):
            params[entry.param] = _encode(entry, value)
    return params


def _from_params(params: Mapping[str, str], base, entries: tuple[Entry, ...], model: ModelSpec, limits: Limits):
    """`base` with the values the link's parameters give the `entries`, each held to its
    setting's declaration (an error names the parameter)."""
    for entry in entries:
        if entry.param and entry.param in params:
            value = _decode(entry, params[entry.param], model)
            try:
                check_entry(entry, value, limits)
            except UserError as error:
                raise UserError(f"This link's parameter '{entry.param}' is out of bounds: {error}") from None
            base = entry.set(base, value)
    return base


def _checked(check, config, limits: Limits):
    """`config` if `check` passes, else its error as a link error."""
    try:
        check(config, limits)
    except UserError as error:
        raise UserError(f"This link's settings are out of bounds: {error}") from None
    return config


def run_from_params(params: Mapping[str, str], limits: Limits = OWNER) -> Run:
    """The run a link (or a deck step, or a grid's `run`) describes, on the demo's
    defaults: its extraction, then its sweep, whose layer may be a depth in its model."""
    extract = extract_from_params(params, limits=limits)
    return extract, sweep_from_params(params, limits=limits, model=extract.model)


def sweep_to_params(config: SweepConfig, base: SweepConfig = DEMO[1]) -> dict[str, str]:
    """Query parameters for the settings of `config` that differ from `base`."""
    return _to_params(config, base, SWEEP_SETTINGS)


def sweep_from_params(
    params: Mapping[str, str],
    base: SweepConfig = DEMO[1],
    limits: Limits = OWNER,
    model: ModelSpec = DEMO[0].model,
) -> SweepConfig:
    """The SweepConfig a link describes: `base` with the link's parameters applied, held
    to each setting's bounds (with a shared server's caps under `limits`). A layer given
    as a relative depth (75%, middle, last) is placed in `model`."""
    return _checked(check_sweep, _from_params(params, base, SWEEP_SETTINGS, model, limits), limits)


def extract_to_params(config: ExtractConfig, base: ExtractConfig = DEMO[0]) -> dict[str, str]:
    """Query parameters for the extraction settings that differ from `base`. CSV data goes
    by the digest of its bytes; a local model or dataset folder is left out (links carry
    no paths)."""
    params = _to_params(config, base, EXTRACT_PARAMS)
    if config.templates:  # an ensemble's template is its first: the names say it all
        params = {name: value for name, value in params.items() if name not in TEMPLATE_PARAMS}
    if config.model.model_id != base.model.model_id and is_hub_id(config.model.model_id):
        params[MODEL_ID.param] = config.model.model_id
    spec = config.dataset
    name = csv_identity(spec.name) if spec.source == "csv" else spec.name
    if config.dataset != base.dataset and (spec.source != "hf" or is_hub_id(name)):
        params[DATA] = ":".join(
            [
                spec.source,
                name,
                spec.config or "",
                spec.split,
                spec.text_column,
                spec.label_column,
                spec.positive_label or "",
            ]
        )
    return params


def extract_from_params(
    params: Mapping[str, str], base: ExtractConfig = DEMO[0], limits: Limits = OWNER
) -> ExtractConfig:
    """The ExtractConfig a link describes, held to core.settings.validate's rules. A link that
    names a path is refused whatever the path, so it reveals nothing about the server."""
    if MODEL_ID.param in params:
        model_id = offline_model_id(params[MODEL_ID.param]) or params[MODEL_ID.param]
        if not is_hub_id(model_id):
            raise UserError(
                f"Link parameter '{MODEL_ID.param}' must be an offline model ({', '.join(OFFLINE_MODELS)}) "
                "or a Hugging Face id; links carry no paths."
            )
        base = MODEL_ID.set(base, model_id)
    if DATA in params:
        parts = params[DATA].split(":")
        if len(parts) != 7 or parts[0] not in ("bundled", "hf", "csv"):
            raise UserError(f"Link parameter '{DATA}' must be source:name:config:split:text:label:positive.")
        source, name, config, split, text, label, positive = parts
        if (source == "hf" and not is_hub_id(name)) or (source == "csv" and not is_digest(name)):
            raise UserError(
                f"Link parameter '{DATA}' must name a Hugging Face dataset id or CSV data by its sha256; "
                "links carry no paths."
            )
        dataset = (
            DatasetSpec(BUNDLED, name or BUNDLED_DEFAULT)
            if source == BUNDLED
            else DatasetSpec(source, name, config or None, split, text, label, positive or None)
        )
        base = dataclasses.replace(base, dataset=dataset)
    config = _from_params(params, base, EXTRACT_PARAMS, base.model, limits)
    return _checked(check_extract, with_templates(config, config.templates), limits)
