"""The models a run can read hidden states from without the network: each offline model
defined once (OFFLINE_MODELS), with its label, license, install command, depth and width,
and how its GGUF file is found; plus what any model's depth is and how a relative depth
("75%", "middle", "last") names one of its layers.

- registry (this module): OfflineModel and OFFLINE_MODELS, keyed by ModelSpec.model_id
  ("bundled" is SmolLM2-135M-Instruct, the default; "gemma3-270m" is opt-in).
- smollm2, gemma3: where each model's GGUF file comes from.
- convert: the one-time GGUF to safetensors conversion into the cache, checksum first.
- depth: parse a layer given as an index or a relative depth, and resolve it.
- known: how many hidden states a model has, read without loading its weights.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import UserError
from core.models.gemma3 import GEMMA3_270M
from core.models.offline import OfflineModel
from core.models.smollm2 import SMOLLM2_135M

OFFLINE_MODELS: dict[str, OfflineModel] = {
    "bundled": SMOLLM2_135M,
    "gemma3-270m": GEMMA3_270M,
}
# Other names an offline model answers to (the default keeps "bundled" as its id, so the
# cache keys and links made before there were two models stay the same).
ALIASES = {"smollm2-135m": "bundled"}


def offline_model_id(name: str) -> str | None:
    """The registry id `name` means (an id or an alias), or None for any other model."""
    if not isinstance(name, str):
        return None
    name = ALIASES.get(name, name)
    return name if name in OFFLINE_MODELS else None


def offline_model(name: str) -> OfflineModel:
    """The registry entry `name` names, or a UserError listing the offline models."""
    model_id = offline_model_id(name)
    if model_id is None:
        raise UserError(f"Unknown offline model {name!r} (use {', '.join(OFFLINE_MODELS)}).")
    return OFFLINE_MODELS[model_id]


def model_label(model_id: str) -> str:
    """What tables and charts call a model: an offline model's label, else the last part
    of its hub id or folder."""
    known = offline_model_id(model_id)
    return OFFLINE_MODELS[known].label if known else Path(model_id).name
