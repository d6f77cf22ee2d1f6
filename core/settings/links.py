"""Configs to and from URL query parameters, so a link reproduces a dashboard view.

Only values that differ from the demo preset are written, which keeps links short and
readable (`?p=0.5,0.9&seeds=5`). Parsing is strict: a bad value is a UserError naming
the parameter, never a silently different experiment, and every value is held to the
bounds of core.settings.validate, the same the forms use.

A link never names a file or folder: models are "bundled" or hub ids, datasets bundled,
hub ids or CSV data named by the sha256 of its bytes (which finds its activations in the
cache). A config that uses a local path writes no link parameter for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from core.config import BUNDLED, BUNDLED_DEFAULT, DatasetSpec, ExtractConfig, ModelSpec
from core.data.uploads import csv_identity
from core.errors import UserError
from core.models import OFFLINE_MODELS, model_label, offline_model_id
from core.models.depth import is_depth, resolve_layer
from core.models.known import known_hidden_states
from core.names import is_digest, is_hub_id
from core.normalizations import NORMALIZATIONS
from core.probes import METHOD_IDS
from core.settings.presets import DEMO
from core.settings.sweep import TEST_NORMALIZATIONS, Run, SweepConfig
from core.settings.validate import check_extract, check_sweep


def _join(values) -> str:
    return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def _floats(text: str, name: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise UserError(f"Link parameter '{name}' must be comma-separated numbers, got '{text}'.") from None
    if not values:
        raise UserError(f"Link parameter '{name}' is empty.")
    return values


def _positive_float(text: str, name: str) -> float:
    values = _floats(text, name)
    value = values[0]
    if len(values) != 1 or not value > 0:
        raise UserError(f"Link parameter '{name}' must be a positive number, got '{text}'.")
    return value


def _int(text: str, name: str) -> int:
    if not text.strip().lstrip("-").isdigit():
        raise UserError(f"Link parameter '{name}' must be a whole number, got '{text}'.")
    return int(text)


def _ints(text: str, name: str) -> tuple[int, ...]:
    values = tuple(_int(v, name) for v in text.split(",") if v.strip())
    if not values:
        raise UserError(f"Link parameter '{name}' is empty.")
    return values


def _checked(check, config, shared: bool):
    """`config` if `check` passes, else its error as a link error."""
    try:
        check(config, shared)
    except UserError as error:
        raise UserError(f"This link's settings are out of bounds: {error}") from None
    return config


def _choice(text: str, name: str, allowed) -> str:
    if text not in allowed:
        raise UserError(f"Link parameter '{name}' must be one of {', '.join(allowed)}, got '{text}'.")
    return text


def run_from_params(params: Mapping[str, str], shared: bool = False) -> Run:
    """The run a link (or a deck step, or a grid's `run`) describes, on the demo's
    defaults: its extraction, then its sweep, whose layer may be a depth in its model."""
    extract = extract_from_params(params, shared=shared)
    return extract, sweep_from_params(params, shared=shared, model=extract.model)


def sweep_to_params(config: SweepConfig, base: SweepConfig = DEMO[1]) -> dict[str, str]:
    """Query parameters for the fields of `config` that differ from `base`."""
    params = {}
    if config.layer != base.layer:
        params["layer"] = str(config.layer)
    if config.p_levels != base.p_levels:
        params["p"] = _join(config.p_levels)
    for name in ("n_train", "n_test", "split_seed"):
        if getattr(config, name) != getattr(base, name):
            params[name] = str(getattr(config, name))
    if config.seeds != base.seeds:
        params["seeds"] = (
            str(len(config.seeds)) if config.seeds == tuple(range(len(config.seeds))) else _join(config.seeds)
        )
    if config.methods != base.methods:
        params["methods"] = _join(config.methods)
    if config.normalization != base.normalization:
        params["norm"] = config.normalization
    if config.test_normalization != base.test_normalization:
        params["test_norm"] = config.test_normalization
    if config.negated_prompt != base.negated_prompt and config.negated_prompt is not None:
        params["negated"] = config.negated_prompt
    if config.ccs.epochs != base.ccs.epochs:
        params["epochs"] = str(config.ccs.epochs)
    if config.ccs.lr != base.ccs.lr:
        params["lr"] = f"{config.ccs.lr:g}"
    if config.ccs.restarts != base.ccs.restarts:
        params["restarts"] = str(config.ccs.restarts)
    return params


def sweep_from_params(
    params: Mapping[str, str],
    base: SweepConfig = DEMO[1],
    shared: bool = False,
    model: ModelSpec = DEMO[0].model,
) -> SweepConfig:
    """The SweepConfig a link describes: `base` with the link's parameters applied, held
    to core.settings.validate's bounds (with shared mode's caps when `shared`). A layer
    given as a relative depth (75%, middle, last) is placed in `model`."""
    changes: dict[str, Any] = {}
    ccs: dict[str, Any] = {}
    if "layer" in params:
        text = params["layer"]
        if is_depth(text):
            try:
                changes["layer"] = resolve_layer(text, known_hidden_states(model), model_label(model.model_id))
            except UserError as error:
                raise UserError(f"Link parameter 'layer': {error}") from None
        else:
            changes["layer"] = _int(text, "layer")
    if "p" in params:
        changes["p_levels"] = _floats(params["p"], "p")
    for name in ("n_train", "n_test", "split_seed"):
        if name in params:
            changes[name] = _int(params[name], name)
    if "seeds" in params:
        text = params["seeds"]
        changes["seeds"] = tuple(range(_int(text, "seeds"))) if "," not in text else _ints(text, "seeds")
    if "methods" in params:
        methods = tuple(m for m in params["methods"].split(",") if m)
        for method in methods:
            _choice(method, "methods", METHOD_IDS)
        changes["methods"] = methods
    if "norm" in params:
        changes["normalization"] = _choice(params["norm"], "norm", NORMALIZATIONS)
    if "test_norm" in params:
        changes["test_normalization"] = _choice(params["test_norm"], "test_norm", TEST_NORMALIZATIONS)
    if "negated" in params:
        changes["negated_prompt"] = params["negated"]
    if "epochs" in params:
        ccs["epochs"] = _int(params["epochs"], "epochs")
    if "lr" in params:
        ccs["lr"] = _positive_float(params["lr"], "lr")
    if "restarts" in params:
        ccs["restarts"] = _int(params["restarts"], "restarts")
    if ccs:
        changes["ccs"] = dataclasses.replace(base.ccs, **ccs)
    return _checked(check_sweep, dataclasses.replace(base, **changes), shared)


def extract_to_params(config: ExtractConfig, base: ExtractConfig = DEMO[0]) -> dict[str, str]:
    """Query parameters for the extraction fields that differ from `base`. CSV data goes
    by the digest of its bytes; a local model or dataset folder is left out (links carry
    no paths)."""
    params = {}
    if config.model.model_id != base.model.model_id and is_hub_id(config.model.model_id):
        params["model"] = config.model.model_id
    spec = config.dataset
    name = csv_identity(spec.name) if spec.source == "csv" else spec.name
    if config.dataset != base.dataset and (spec.source != "hf" or is_hub_id(name)):
        params["data"] = ":".join(
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
    for name, value, default in (
        ("prompt", config.template.prompt, base.template.prompt),
        ("pos", config.template.positive, base.template.positive),
        ("neg", config.template.negative, base.template.negative),
    ):
        if value != default:
            params[name] = value
    if config.template.distractor is not None:
        params["distractor"] = ",".join(config.template.distractor)
    if config.n_examples != base.n_examples:
        params["n"] = str(config.n_examples)
    return params


def extract_from_params(
    params: Mapping[str, str], base: ExtractConfig = DEMO[0], shared: bool = False
) -> ExtractConfig:
    """The ExtractConfig a link describes, held to core.settings.validate's rules. A link that
    names a path is refused whatever the path, so it reveals nothing about the server."""
    changes: dict[str, Any] = {}
    if "model" in params:
        model_id = offline_model_id(params["model"]) or params["model"]
        if not is_hub_id(model_id):
            raise UserError(
                f"Link parameter 'model' must be an offline model ({', '.join(OFFLINE_MODELS)}) or a Hugging Face id; "
                "links carry no paths."
            )
        changes["model"] = dataclasses.replace(base.model, model_id=model_id)
    if "data" in params:
        parts = params["data"].split(":")
        if len(parts) != 7 or parts[0] not in ("bundled", "hf", "csv"):
            raise UserError("Link parameter 'data' must be source:name:config:split:text:label:positive.")
        source, name, config, split, text, label, positive = parts
        if (source == "hf" and not is_hub_id(name)) or (source == "csv" and not is_digest(name)):
            raise UserError(
                "Link parameter 'data' must name a Hugging Face dataset id or CSV data by its sha256; "
                "links carry no paths."
            )
        changes["dataset"] = (
            DatasetSpec(BUNDLED, name or BUNDLED_DEFAULT)
            if source == BUNDLED
            else DatasetSpec(source, name, config or None, split, text, label, positive or None)
        )
    template = {
        field: params[key]
        for key, field in (("prompt", "prompt"), ("pos", "positive"), ("neg", "negative"))
        if key in params
    }
    if "distractor" in params:
        template["distractor"] = tuple(params["distractor"].split(","))
    if template:
        changes["template"] = dataclasses.replace(base.template, **template)
    if "n" in params:
        changes["n_examples"] = _int(params["n"], "n")
    return _checked(check_extract, dataclasses.replace(base, **changes), shared)
