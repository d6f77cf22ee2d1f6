"""Extraction: hidden states of every contrast pair of a config, streamed into the activation
store under the key of what they depend on (extraction_identity), so a second request for
the same config loads instead of loading the model. A template ensemble is one extraction
per template (core.data.ensembles), each cached as a one-template run, and an entry that
stacks them (ensemble_identity), so adding a template extracts only that one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from core import __version__
from core.config import ExtractConfig, to_jsonable
from core.data.ensembles import ensemble_members
from core.data.loaders import load_dataset
from core.data.prompts import distractor_signs, render_pair
from core.data.sampling import balanced_subset
from core.data.texts import LabeledTexts
from core.data.uploads import csv_identity
from core.errors import UserError
from core.extraction.forward import can_share_prefix, pair_batches, pair_states, tokenize
from core.extraction.models import LoadedModel, dtype_name, model_identity, pick_device
from core.extraction.runtime import Runtime
from core.settings.validate import check_extract, class_sizes
from core.store.activations import ENSEMBLE_KIND
from core.store.entries import content_key, key_lock

DEFAULT_CPU_BATCH = 64
DEFAULT_GPU_BATCH = 128


# Raised whenever a change alters which examples an extraction keeps for the same config,
# so activation sets made before it are recomputed. 2: duplicate texts dropped on load.
DATA_REVISION = 2


def extraction_identity(config: ExtractConfig, device: torch.device) -> dict:
    """Everything the stored hidden states depend on (the cache key is its hash)."""
    dataset = to_jsonable(config.dataset)
    if config.dataset.source == "csv":
        # A CSV is identified by its bytes: the same file under another name (an upload,
        # a copy) is the same data, and an edited file is new data.
        dataset.update(name=None, fingerprint=csv_identity(config.dataset.name))
    return {
        "kind": "activations",
        "library": __version__,
        "data_revision": DATA_REVISION,
        "model": model_identity(config.model, device),
        "dataset": dataset,
        "template": to_jsonable(config.template),
        "n_examples": config.n_examples,
        "selection_seed": config.selection_seed,
        "layers": "all" if config.layers is None else list(config.layers),
        "max_tokens": config.max_tokens,
        "storage_dtype": config.storage_dtype,
        "token_position": config.token_position,
    }


def ensemble_identity(config: ExtractConfig, device: torch.device) -> dict:
    """What a template ensemble's entry stands for: each template's name and the key of its
    one-template extraction, in the ensemble's order."""
    members = ensemble_members(config)
    return {
        "kind": ENSEMBLE_KIND,
        "members": [[name, activation_key(member, device)] for name, member in zip(config.templates, members)],
    }


def activation_key(config: ExtractConfig, device: str | torch.device = "auto") -> str:
    """The cache key `extract` will use for `config` on `device`, without loading anything."""
    device = device if isinstance(device, torch.device) else pick_device(device)
    if config.templates:
        return content_key(ensemble_identity(config, device))
    return content_key(extraction_identity(config, device))


def select_examples(data: LabeledTexts, config: ExtractConfig, tokenizer) -> np.ndarray:
    """A balanced subset of n_examples whose x+ and x- both fit in max_tokens tokens."""

    def fits(indices: np.ndarray) -> np.ndarray:
        # Both sides, under either distractor assignment (the same texts without one).
        rendered = [render_pair(config.template, data.texts[i], sign) for i in indices for sign in (1, -1)]
        lengths = np.array([len(ids) for ids in tokenize(tokenizer, [t for pair in rendered for t in pair])])
        return lengths.reshape(len(indices), 4).max(axis=1) <= config.max_tokens

    return balanced_subset(data.labels, config.n_examples, config.selection_seed, accept=fits)


@dataclass
class ExtractionOutcome:
    """Where an extraction's activations are, and whether they came from the cache."""

    key: str
    cached: bool
    seconds: float


@dataclass(frozen=True)
class TokenizedPairs:
    """The (x+, x-) token ids of the examples an extraction keeps, with what the store
    records beside their hidden states: labels, texts and ids."""

    tokens: list[tuple[list[int], list[int]]]
    labels: np.ndarray
    texts: list[str]
    ids: list[str]


def extract(config: ExtractConfig, runtime: Runtime | None = None) -> ExtractionOutcome:
    """Make sure the activation set of `config` is in the store; return its key.

    A cache hit returns at once without loading the dataset or the model. Otherwise, under
    the key's lock (a second process asking for the same key waits, then finds it), the
    dataset is loaded and checked, then the model, and hidden states are streamed into
    `runtime.activations`. Uploaded CSVs are read from `runtime.uploads` (see
    core.data.loaders.load_dataset).
    """
    started = time.perf_counter()
    runtime = runtime or Runtime()
    store = runtime.activations
    check_extract(config, runtime.limits)
    if config.templates:
        return _extract_ensemble(config, runtime, started)
    identity = extraction_identity(config, runtime.torch_device)
    key = content_key(identity)
    if store.has(key):
        return ExtractionOutcome(key, True, time.perf_counter() - started)
    waiting = "Another run is extracting these activations; waiting for it"
    with key_lock(store.root, key, on_wait=lambda: runtime.say(waiting)):
        if store.has(key):
            return ExtractionOutcome(key, True, time.perf_counter() - started)
        return _extract_locked(config, runtime, identity, key, started)


def _extract_ensemble(config: ExtractConfig, runtime: Runtime, started: float) -> ExtractionOutcome:
    """Each template's extraction (a cache hit where it exists), then the entry stacking them."""
    cached = True
    for name, member in zip(config.templates, ensemble_members(config)):
        runtime.say(f"Template {name}")
        cached &= extract(member, runtime).cached
    identity = ensemble_identity(config, runtime.torch_device)
    key = content_key(identity)
    store = runtime.activations
    if not store.has(key):
        first = store.meta(identity["members"][0][1])
        kept = (
            "model_name",
            "dataset_description",
            "layers",
            "hidden_size",
            "num_hidden_states",
            "n",
            "dtype",
            "device",
        )
        meta = {name: first[name] for name in kept if name in first}
        store.save_ensemble(key, identity, {**meta, "config": to_jsonable(config), "created": time.time()})
    return ExtractionOutcome(key, cached, time.perf_counter() - started)


def _extract_locked(
    config: ExtractConfig, runtime: Runtime, identity: dict, key: str, started: float
) -> ExtractionOutcome:
    say = runtime.say
    say("Loading the dataset")
    data = load_dataset(config.dataset, runtime.uploads)
    say(f"{data.description}: {len(data):,} examples")
    have, need = data.class_counts(), class_sizes(config)
    if have[0] < need[0] or have[1] < need[1]:
        raise UserError(
            f"{config.n_examples} balanced examples need {need[0]} with label 0 and {need[1]} with "
            f"label 1; {data.description} has {have[0]} and {have[1]}."
        )
    loaded = runtime.loader(config.model, runtime.torch_device, status=say)
    layers = list(range(loaded.num_hidden_states)) if config.layers is None else list(config.layers)
    bad = [layer for layer in layers if not 0 <= layer < loaded.num_hidden_states]
    if bad:
        raise UserError(
            f"Layer(s) {bad} do not exist; {loaded.name} has hidden states 0..{loaded.num_hidden_states - 1}."
        )
    say("Selecting and tokenizing examples")
    chosen = select_examples(data, config, loaded.tokenizer)
    signs = distractor_signs(data.labels[chosen], config.selection_seed)
    rendered = [render_pair(config.template, data.texts[i], sign) for i, sign in zip(chosen, signs)]
    token_ids = tokenize(loaded.tokenizer, [text for pair in rendered for text in pair])
    pairs = TokenizedPairs(
        [(token_ids[2 * k], token_ids[2 * k + 1]) for k in range(len(chosen))],
        data.labels[chosen],
        [data.texts[i] for i in chosen],
        [data.ids[i] for i in chosen],
    )
    meta = {
        "identity": identity,
        "config": to_jsonable(config),
        "key": key,
        "n": len(chosen),
        "dataset_description": data.description,
        "dropped_duplicates": data.dropped_duplicates,
        "labels_count": [int((data.labels[chosen] == c).sum()) for c in (0, 1)],
    }
    if config.template.distractor is not None:
        meta["distractor_signs"] = signs.tolist()
    stream_pairs(loaded, runtime, key, pairs, layers, config.storage_dtype, meta, started)
    return ExtractionOutcome(key, False, time.perf_counter() - started)


def stream_pairs(
    loaded: LoadedModel,
    runtime: Runtime,
    key: str,
    pairs: TokenizedPairs,
    layers: list[int],
    storage_dtype: str,
    meta: dict,
    started: float,
) -> None:
    """Hidden states of `pairs` at `layers`, batched (runtime.batch_size, else the device's
    default) and streamed into runtime.activations under `key`, committed with the pairs'
    labels, texts and ids and `meta` (plus what every set records: model, sizes, timing,
    environment); an error leaves nothing behind."""
    tokens, device = pairs.tokens, runtime.torch_device
    if any(p == n for p, n in tokens):
        raise UserError("x+ and x- tokenize identically for some example; make the completions differ.")
    size = runtime.batch_size or (DEFAULT_GPU_BATCH if device.type == "cuda" else DEFAULT_CPU_BATCH)
    writer = runtime.activations.begin(key, len(tokens), tuple(layers), loaded.hidden_size, storage_dtype)
    # Progress counts tokens, not pairs: batches come longest first, so a count of
    # pairs would make the early rate, and any ETA drawn from it, too pessimistic.
    lengths = [len(p) + len(n) for p, n in tokens]
    try:
        done_pairs, done_tokens = 0, 0
        runtime.report(0, sum(lengths), f"0/{len(tokens)} pairs")
        queue = list(pair_batches(tokens, size))
        while queue:
            rows = queue.pop(0)
            try:
                pos, neg = pair_states(loaded, [tokens[r] for r in rows], layers)
            except torch.OutOfMemoryError:
                if len(rows) == 1:
                    raise UserError(
                        "Out of GPU memory even for a single pair; use a smaller model, a lower max_tokens, or the CPU."
                    ) from None
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                half = (len(rows) + 1) // 2
                runtime.say(f"Out of GPU memory with {len(rows)} pairs per batch; retrying with {half}.")
                queue = [chunk for batch in [rows, *queue] for chunk in np.array_split(batch, -(-len(batch) // half))]
                continue
            writer.write(rows, pos, neg)
            done_pairs += len(rows)
            done_tokens += sum(lengths[r] for r in rows)
            runtime.report(done_tokens, sum(lengths), f"{done_pairs}/{len(tokens)} pairs")
        meta = {
            **meta,
            "created": time.time(),
            "layers": layers,
            "hidden_size": loaded.hidden_size,
            "num_hidden_states": loaded.num_hidden_states,
            "model_name": loaded.name,
            "dtype": dtype_name(loaded.dtype),
            "device": str(device),
            "batch_size": size,
            "prefix_shared": can_share_prefix(loaded),
            "seconds": time.perf_counter() - started,
            "environment": environment_info(),
        }
        writer.commit(pairs.labels, pairs.texts, pairs.ids, meta)
    except BaseException:
        writer.abort()
        raise


def environment_info() -> dict[str, str]:
    """Library versions recorded in every entry's metadata."""
    import transformers  # about 1 s to import; the record only needs its version, and only after a load

    return {"ccs_lab": __version__, "torch": torch.__version__, "transformers": transformers.__version__}
