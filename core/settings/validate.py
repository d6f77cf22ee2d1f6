"""Every bound and rule a run's settings must meet, in one place, checked before any model
or dataset is loaded. The CLI, the dashboard's forms (their min and max) and shared links
all read these, so a value one of them accepts the others accept too.

Shared mode (a server open to a room) adds tighter caps and forbids anything that names
a file or folder on the server: models come from the bundled one or hub ids, datasets
from the bundled one, hub ids or this session's uploads (named by content hash).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from core.config import BUNDLED, TEXT_SLOT, ExtractConfig
from core.data.bundled import bundled_set
from core.data.prompts import validate_template
from core.data.sampling import check_counts, test_counts
from core.errors import UserError
from core.names import is_digest, is_hub_id, is_local_path
from core.normalizations import NORMALIZATIONS
from core.probes import METHOD_IDS
from core.settings.sweep import TEST_NORMALIZATIONS, SweepConfig


@dataclass(frozen=True)
class Bound:
    """Inclusive range of a setting; `shared_high` caps it further in shared mode."""

    label: str
    low: float
    high: float
    shared_high: float | None = None
    whole: bool = True

    def high_for(self, shared: bool) -> float:
        return self.shared_high if shared and self.shared_high is not None else self.high


BOUNDS = {
    "n_examples": Bound("Examples to extract", 20, 100_000, 2_000),
    "max_tokens": Bound("Max tokens per prompt", 8, 8_192, 512),
    "selection_seed": Bound("Selection seed", 0, 1_000_000),
    "batch_size": Bound("Batch size", 1, 4_096),
    "layer": Bound("Layer", 0, 1_000),
    "n_train": Bound("Training pairs per cell (n_train)", 2, 100_000),
    "n_test": Bound("Balanced test pairs (n_test)", 2, 100_000),
    "seeds": Bound("Number of seeds", 1, 100, 20),
    "seed": Bound("Seed", 0, 2**31 - 1),
    "p_levels": Bound("Number of levels of p", 1, 32),
    "split_seed": Bound("Test split seed", 0, 1_000_000),
    "epochs": Bound("CCS epochs", 1, 20_000, 2_000),
    "restarts": Bound("CCS restarts", 1, 100, 20),
    "lr": Bound("CCS learning rate", 1e-5, 1.0, whole=False),
    "weight_decay": Bound("CCS weight decay", 0.0, 1.0, whole=False),
}
MAX_PROMPT_CHARS = 4_000
# Free text a shared server takes from a visitor's link or form, at most this long: a
# template's prompt (MAX_PROMPT_CHARS) and completions, a data set's config, split, columns
# and positive label. The owner's own runs take any length.
SHARED_TEXT_CHARS = 200
DTYPE_CHOICES = ("auto", "float32", "bfloat16", "float16")
STORAGE_DTYPES = ("float32", "float16")
DATASET_SOURCES = ("bundled", "hf", "csv")
NO_PATHS = (
    "This server is shared: it loads no files or folders of its own. Use the bundled model or data, "
    "a Hugging Face id, or upload a CSV."
)


def check_number(name: str, value, shared: bool = False) -> None:
    """Raise a UserError unless `value` is a number (a whole one where the bound says so)
    inside BOUNDS[name] (and its shared-mode cap)."""
    bound = BOUNDS[name]
    high = bound.high_for(shared)
    whole = isinstance(value, int) and not isinstance(value, bool)
    number = whole or (isinstance(value, float) and not bound.whole)
    if not number or not math.isfinite(value) or not bound.low <= value <= high:
        kind = "a whole number" if bound.whole else "a number"
        cap = " on this shared server" if shared and bound.shared_high is not None else ""
        raise UserError(f"{bound.label} must be {kind} from {bound.low:g} to {high:g}{cap}, got {value!r}.")


def check_model(config: ExtractConfig, shared: bool = False) -> None:
    """The model is the bundled one, a hub id, or (owner only) an absolute folder path."""
    spec = config.model
    if spec.dtype not in DTYPE_CHOICES:
        raise UserError(f"Unknown dtype {spec.dtype!r} (use {', '.join(DTYPE_CHOICES)}).")
    if spec.model_id == BUNDLED or is_hub_id(spec.model_id):
        pass
    elif is_local_path(spec.model_id):
        if shared:
            raise UserError(NO_PATHS)
    else:
        raise UserError(
            f"Model {spec.model_id!r} is neither 'bundled', a Hugging Face id (owner/name) nor a folder path."
        )
    if shared and spec.trust_remote_code:
        raise UserError("This server is shared: models run without remote code.")
    if spec.revision is not None and not (
        isinstance(spec.revision, str)
        and ".." not in spec.revision
        and re.fullmatch(r"[\w.-][\w./-]{0,99}", spec.revision)
    ):
        raise UserError(f"Model revision {spec.revision!r} is not a branch, tag or commit name.")


def check_dataset(config: ExtractConfig, shared: bool = False) -> None:
    """The dataset is bundled, a hub id, an uploaded CSV named by its digest, or (owner
    only) an absolute path."""
    spec = config.dataset
    if spec.source not in DATASET_SOURCES:
        raise UserError(f"Unknown dataset source {spec.source!r} (use {', '.join(DATASET_SOURCES)}).")
    for name, value in (("text column", spec.text_column), ("label column", spec.label_column), ("split", spec.split)):
        if not isinstance(value, str) or not value.strip():
            raise UserError(f"The dataset's {name} is empty.")
    if spec.source == "bundled":
        bundled_set(spec.name)
        return
    named = is_hub_id(spec.name) if spec.source == "hf" else is_digest(spec.name)
    if not named and not is_local_path(spec.name):
        what = "a Hugging Face dataset id" if spec.source == "hf" else "an uploaded file"
        raise UserError(f"Dataset {spec.name!r} is not {what} or a file path.")
    if not named and shared:
        raise UserError(NO_PATHS)


def check_shared_texts(config: ExtractConfig) -> None:
    """Every free text of an extraction within a shared server's caps (SHARED_TEXT_CHARS)."""
    spec, template = config.dataset, config.template
    texts = [
        ("prompt", template.prompt, MAX_PROMPT_CHARS),
        ("+ completion", template.positive, SHARED_TEXT_CHARS),
        ("- completion", template.negative, SHARED_TEXT_CHARS),
        ("dataset's config", spec.config, SHARED_TEXT_CHARS),
        ("dataset's split", spec.split, SHARED_TEXT_CHARS),
        ("dataset's text column", spec.text_column, SHARED_TEXT_CHARS),
        ("dataset's label column", spec.label_column, SHARED_TEXT_CHARS),
        ("dataset's positive label", spec.positive_label, SHARED_TEXT_CHARS),
    ]
    for label, text, cap in texts:
        if isinstance(text, str) and len(text) > cap:
            raise UserError(f"The {label} has {len(text):,} characters; this shared server takes at most {cap:,}.")


def check_extract(config: ExtractConfig, shared: bool = False) -> None:
    """Every extraction setting, before anything is loaded."""
    for name in ("n_examples", "max_tokens", "selection_seed"):
        check_number(name, getattr(config, name), shared)
    check_model(config, shared)
    check_dataset(config, shared)
    validate_template(config.template)
    if shared:
        check_shared_texts(config)
    if config.storage_dtype not in STORAGE_DTYPES:
        raise UserError(f"Unknown storage dtype {config.storage_dtype!r} (use float32 or float16).")
    if config.token_position != "last":
        raise UserError(f"Token position {config.token_position!r} is not supported (use last).")
    if config.layers is not None:
        if not config.layers:
            raise UserError("The list of layers to keep is empty; name at least one, or keep all.")
        for layer in config.layers:
            check_number("layer", layer)
        if len(set(config.layers)) != len(config.layers):
            raise UserError(f"Layers {list(config.layers)} name a layer twice.")


def check_sweep(config: SweepConfig, shared: bool = False) -> None:
    """Every sweep setting, before anything is loaded."""
    for name in ("layer", "n_train", "n_test", "split_seed"):
        check_number(name, getattr(config, name), shared)
    check_number("seeds", len(config.seeds), shared)
    for seed in config.seeds:
        check_number("seed", seed)
    if len(set(config.seeds)) != len(config.seeds):
        raise UserError("A seed is listed twice.")
    check_number("p_levels", len(config.p_levels))
    for p in config.p_levels:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p < 1:
            raise UserError(f"Levels of p must be fractions strictly between 0 and 1, got {p!r}.")
    if len(set(config.p_levels)) != len(config.p_levels):
        raise UserError("A level of p is listed twice.")
    unknown = [m for m in config.methods if m not in METHOD_IDS]
    if unknown or not config.methods or len(set(config.methods)) != len(config.methods):
        raise UserError(
            f"Methods must be distinct, at least one, from {', '.join(METHOD_IDS)}; got {list(config.methods)}."
        )
    if config.normalization not in NORMALIZATIONS:
        raise UserError(f"Unknown normalization {config.normalization!r} (use {', '.join(NORMALIZATIONS)}).")
    if config.test_normalization not in TEST_NORMALIZATIONS:
        raise UserError(f"Unknown test normalization {config.test_normalization!r} (use own or train).")
    negated = config.negated_prompt
    if negated is not None and not (
        isinstance(negated, str) and negated.count(TEXT_SLOT) == 1 and len(negated) <= MAX_PROMPT_CHARS
    ):
        raise UserError(
            f"The negated prompt needs exactly one {TEXT_SLOT} slot and at most {MAX_PROMPT_CHARS:,} characters."
        )
    for name in ("epochs", "restarts", "lr", "weight_decay"):
        value = getattr(config.ccs, name)
        check_number(
            name,
            float(value)
            if name in ("lr", "weight_decay") and isinstance(value, int) and not isinstance(value, bool)
            else value,
            shared,
        )


def class_sizes(config: ExtractConfig) -> tuple[int, int]:
    """(label-0, label-1) examples an extraction keeps: a balanced subset, label 1 taking
    the odd one (core.data.sampling.balanced_subset)."""
    return config.n_examples // 2, config.n_examples - config.n_examples // 2


def check_run(extract: ExtractConfig, sweep: SweepConfig, shared: bool = False) -> None:
    """Extraction and sweep together: each on its own, then whether the sweep's test split
    and training draws fit in the examples the extraction will keep."""
    check_extract(extract, shared)
    check_sweep(sweep, shared)
    if extract.layers is not None and sweep.layer not in extract.layers:
        raise UserError(f"Layer {sweep.layer} is not among the layers to extract {list(extract.layers)}.")
    sizes = class_sizes(extract)
    needed = test_counts(sweep.n_test)
    if any(n > have for n, have in zip(needed, sizes)):
        raise UserError(
            f"A balanced test split of {sweep.n_test} needs {needed[1]} examples of each class; "
            f"{extract.n_examples} extracted examples give {sizes[0]} and {sizes[1]}."
        )
    check_counts({label: sizes[label] - needed[label] for label in (0, 1)}, sweep.p_levels, sweep.n_train)


def check_layers_exist(extract: ExtractConfig, layer: int | None, hidden_states: int | None) -> None:
    """The layers to extract and the layer to probe exist in a model with `hidden_states`
    hidden states (nothing to check when that is not known before loading)."""
    if hidden_states is None:
        return
    wanted = [*(extract.layers or ()), *(() if layer is None else (layer,))]
    bad = sorted({index for index in wanted if index >= hidden_states})
    if bad:
        raise UserError(
            f"Layer(s) {bad} do not exist: the model has hidden states 0..{hidden_states - 1} "
            "(0 = embeddings, i = output of block i)."
        )
