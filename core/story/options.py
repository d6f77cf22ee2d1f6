"""The checks of a deck step's own fields: each takes the value as written in the deck and
where it was written, and returns the value as the step keeps it, or raises a UserError
naming the field (the deck loader adds the deck and the step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.data.bundled import BUNDLED_DATASETS
from core.errors import UserError
from core.models import OFFLINE_MODELS, offline_model_id
from core.models.depth import depth_percent, is_depth
from core.names import is_hub_id
from core.normalizations import REMEDIES
from core.probes import METHOD_IDS


def methods(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(m not in METHOD_IDS for m in value):
        raise UserError(f"{where} must be a non-empty list of methods from {', '.join(METHOD_IDS)}, got {value!r}.")
    return tuple(value)


def fraction(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise UserError(f"{where} must be a number strictly between 0 and 1, got {value!r}.")
    return float(value)


def choice(allowed: tuple[str, ...]) -> Callable[[Any, str], str]:
    def check(value: Any, where: str) -> str:
        if value not in allowed:
            raise UserError(f"{where} must be one of {', '.join(allowed)}, got {value!r}.")
        return value

    return check


def flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise UserError(f"{where} must be true or false, got {value!r}.")
    return value


def whole(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserError(f"{where} must be a whole number, 0 or more, got {value!r}.")
    return value


def text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise UserError(f"{where} must be non-empty text, got {value!r}.")
    return value


def layers(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not 2 <= len(value) <= 64 or len(set(value)) != len(value):
        raise UserError(f"{where} must be a list of 2 to 64 distinct layers, got {value!r}.")
    return tuple(whole(layer, where) for layer in value)


def link_params(value: Any, where: str) -> dict[str, str]:
    """A table of link parameters (core.settings.links) as the strings a link would carry."""
    if not isinstance(value, dict) or not all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value.values()
    ):
        raise UserError(f"{where} must be a table of link parameters (text or numbers), got {value!r}.")
    return {str(k): str(v) for k, v in value.items()}


def runs(value: Any, where: str) -> tuple[dict[str, str], ...]:
    if not isinstance(value, list) or not 2 <= len(value) <= 8:
        raise UserError(f"{where} must be a list of 2 to 8 tables of link parameters, got {value!r}.")
    return tuple(link_params(entry, f"{where} {i}") for i, entry in enumerate(value, start=1))


def labels(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(label, str) and label for label in value):
        raise UserError(f"{where} must be a list of non-empty texts, got {value!r}.")
    return tuple(value)


def remedies(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(norm not in REMEDIES for norm in value):
        raise UserError(f"{where} must be a non-empty list of remedies from {', '.join(REMEDIES)}, got {value!r}.")
    return tuple(dict.fromkeys(value))


def models(value: Any, where: str) -> tuple[str, ...]:
    """Offline models (core.models) or hub ids, 2 to 4 of them; never paths (decks travel)."""
    if not isinstance(value, list) or not 2 <= len(value) <= 4:
        raise UserError(f"{where} must be a list of 2 to 4 models, got {value!r}.")
    named = [offline_model_id(model) or (model if is_hub_id(model) else None) for model in value]
    if None in named or len(set(named)) != len(named):
        raise UserError(
            f"{where} must name distinct offline models ({', '.join(OFFLINE_MODELS)}) or Hugging Face ids, "
            f"got {value!r}."
        )
    return tuple(named)


def bundled_sets(value: Any, where: str) -> tuple[str, ...]:
    names_ok = isinstance(value, list) and all(isinstance(name, str) and name in BUNDLED_DATASETS for name in value)
    if not names_ok or not 1 <= len(value) <= 5:
        raise UserError(f"{where} must be a list of 1 to 5 bundled data sets from {', '.join(BUNDLED_DATASETS)}.")
    return tuple(dict.fromkeys(value))


def depths(value: Any, where: str) -> tuple[str | int, ...]:
    """Layers as indices or relative depths (75%, middle, last), 1 to 3 of them."""
    if not isinstance(value, list) or not 1 <= len(value) <= 3:
        raise UserError(f"{where} must be a list of 1 to 3 layers or depths such as 75%, got {value!r}.")
    for layer in value:
        if not is_depth(layer):
            whole(layer, where)
            continue
        try:
            depth_percent(layer)
        except UserError as error:
            raise UserError(f"{where}: {error}") from None
    return tuple(dict.fromkeys(value))
