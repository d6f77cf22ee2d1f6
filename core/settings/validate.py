"""Every rule a run's settings must meet, checked before any model or dataset is loaded:
each setting's own bounds and choices (declared beside its field, read through
core.settings.schema) and the rules that span settings. The CLI, the dashboard's forms,
links and grid files all check here, so a value one of them accepts the others accept too.

Shared mode (a server open to a room) adds tighter caps and forbids anything that names
a file or folder on the server: models come from the bundled one or hub ids, datasets
from the bundled one, hub ids or this session's uploads (named by content hash).
"""

from __future__ import annotations

import math
import re

from core.config import BUNDLED, TEXT_SLOT, Bound, ExtractConfig
from core.data.bundled import bundled_set
from core.data.ensembles import ensemble_members
from core.data.prompts import validate_template
from core.data.sampling import balanced_counts, check_counts, test_counts
from core.errors import UserError
from core.names import is_digest, is_hub_id, is_local_path
from core.normalizations import NORMALIZATION_REGISTRY
from core.settings.limits import OWNER, Limits
from core.settings.schema import EXTRACT_SETTINGS, SWEEP_SETTINGS, Entry, bound_of
from core.settings.sweep import SweepConfig

MAX_PROMPT_CHARS = 4_000
NO_PATHS = (
    "This server is shared: it loads no files or folders of its own. Use the bundled model or data, "
    "a Hugging Face id, or upload a CSV."
)


def high_of(bound: Bound, limits: Limits) -> float:
    """The top of `bound` under `limits` (a shared server's cap where it has one)."""
    return bound.shared_high if limits.shared and bound.shared_high is not None else bound.high


def _number(value: float, bound: Bound) -> str:
    return str(int(value)) if bound.whole else f"{value:g}"


def _in_bound(label: str, value, bound: Bound, limits: Limits, each: bool = False) -> None:
    high = high_of(bound, limits)
    whole = isinstance(value, int) and not isinstance(value, bool)
    number = whole or (isinstance(value, float) and not bound.whole)
    inside = (
        number and math.isfinite(value) and (bound.low < value < high if bound.open else bound.low <= value <= high)
    )
    if not inside:
        kind = "a whole number" if bound.whole else "a number"
        span = "strictly between {} and {}" if bound.open else "from {} to {}"
        cap = " on this shared server" if limits.shared and bound.shared_high is not None else ""
        span = span.format(_number(bound.low, bound), _number(high, bound))
        raise UserError(f"{label} must {'each ' if each else ''}be {kind} {span}{cap}, got {value!r}.")


# The most levels of p and seeds a sweep may have: what a result table holds at most.
MAX_P_LEVELS = int(bound_of("p_levels").high)
MAX_SEEDS = int(bound_of("seeds").high)

# Sequences per forward pass: a property of the machine a run is on, not of the run.
BATCH_SIZE = Bound(1, 4_096)


def check_batch_size(batch_size: int | None) -> None:
    """None (the device's default) or a batch size within BATCH_SIZE."""
    if batch_size is not None:
        _in_bound("Batch size", batch_size, BATCH_SIZE, OWNER)


def check_entry(entry: Entry, value, limits: Limits = OWNER) -> None:
    """One setting against its declaration: a list's length and distinct items, each value's
    bound and choices (None passes where the setting is optional)."""
    if value is None and entry.optional:
        return
    about = entry.about
    if entry.many and not isinstance(value, tuple):
        raise UserError(f"{entry.label} must be a list, got {value!r}.")
    values = value if entry.many else (value,)
    if entry.variadic:
        count = about.count
        if count is None and not values:
            raise UserError(f"{entry.label} must name at least one, got none.")
        if count is not None and not count.low <= len(values) <= high_of(count, limits):
            cap = " on this shared server" if limits.shared and count.shared_high is not None else ""
            span = f"{_number(count.low, count)} to {_number(high_of(count, limits), count)}"
            raise UserError(f"{entry.label} take {span} values{cap}, got {len(values)}.")
        if len(set(values)) != len(values):
            raise UserError(f"{entry.label} {list(values)} name a value twice.")
    for item in values:
        if about.bound is not None:
            _in_bound(entry.label, item, about.bound, limits, each=entry.many)
        if entry.choices is not None and item not in entry.choices:
            options = ", ".join(map(str, entry.choices))
            if entry.many:
                raise UserError(f"{entry.label} must each be one of {options}; got {item!r}.")
            raise UserError(f"Unknown {_lower(entry.label)} {item!r} (use {options}).")


def _lower(label: str) -> str:
    return label if label[:2].isupper() else label[0].lower() + label[1:]


def _check_entries(config, entries: tuple[Entry, ...], limits: Limits) -> None:
    for entry in entries:
        check_entry(entry, entry.get(config), limits)


def check_model(config: ExtractConfig, limits: Limits = OWNER) -> None:
    """The model is the bundled one, a hub id, or (owner only) an absolute folder path."""
    spec = config.model
    if spec.model_id == BUNDLED or is_hub_id(spec.model_id):
        pass
    elif is_local_path(spec.model_id):
        if limits.shared:
            raise UserError(NO_PATHS)
    else:
        raise UserError(
            f"Model {spec.model_id!r} is neither 'bundled', a Hugging Face id (owner/name) nor a folder path."
        )
    if limits.shared and spec.trust_remote_code:
        raise UserError("This server is shared: models run without remote code.")
    if spec.revision is not None and not (
        isinstance(spec.revision, str)
        and ".." not in spec.revision
        and re.fullmatch(r"[\w.-][\w./-]{0,99}", spec.revision)
    ):
        raise UserError(f"Model revision {spec.revision!r} is not a branch, tag or commit name.")


def check_dataset(config: ExtractConfig, limits: Limits = OWNER) -> None:
    """The dataset is bundled, a hub id, an uploaded CSV named by its digest, or (owner
    only) an absolute path."""
    spec = config.dataset
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
    if not named and limits.shared:
        raise UserError(NO_PATHS)


def check_shared_texts(config: ExtractConfig, limits: Limits) -> None:
    """Every free text of an extraction within a shared server's caps: the prompt's
    MAX_PROMPT_CHARS, any other text's `limits.text_chars`."""
    for entry in EXTRACT_SETTINGS:
        text, cap = entry.get(config), MAX_PROMPT_CHARS if entry.name == "prompt" else limits.text_chars
        if isinstance(text, str) and cap is not None and len(text) > cap:
            raise UserError(
                f"The {_lower(entry.label)} has {len(text):,} characters; this shared server takes at most {cap:,}."
            )


def check_extract(config: ExtractConfig, limits: Limits = OWNER) -> None:
    """Every extraction setting, before anything is loaded."""
    _check_entries(config, EXTRACT_SETTINGS, limits)
    check_model(config, limits)
    check_dataset(config, limits)
    validate_template(config.template)
    if config.templates and config.template != ensemble_members(config)[0].template:
        raise UserError("A template ensemble's template is its first (core.data.ensembles.with_templates).")
    if limits.shared:
        check_shared_texts(config, limits)


def check_sweep(config: SweepConfig, limits: Limits = OWNER) -> None:
    """Every sweep setting, before anything is loaded."""
    _check_entries(config, SWEEP_SETTINGS, limits)
    negated = config.negated_prompt
    if negated is not None and not (
        isinstance(negated, str) and negated.count(TEXT_SLOT) == 1 and len(negated) <= MAX_PROMPT_CHARS
    ):
        raise UserError(
            f"The negated prompt needs exactly one {TEXT_SLOT} slot and at most {MAX_PROMPT_CHARS:,} characters."
        )


def class_sizes(config: ExtractConfig) -> tuple[int, int]:
    """(label-0, label-1) examples an extraction keeps: a balanced subset, label 1 taking
    the odd one (core.data.sampling.balanced_subset)."""
    return balanced_counts(config.n_examples)


def check_run(extract: ExtractConfig, sweep: SweepConfig, limits: Limits = OWNER) -> None:
    """Extraction and sweep together: each on its own, then whether the sweep's test split
    and training draws fit in the examples the extraction will keep."""
    check_extract(extract, limits)
    check_sweep(sweep, limits)
    if extract.templates and NORMALIZATION_REGISTRY[sweep.normalization].companion is not None:
        raise UserError(
            f"The normalization '{sweep.normalization}' reads companion pairs of one template; "
            "a template ensemble has none."
        )
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
