"""Hidden states at the last token of x+ and x-, batched, streamed into the activation store.

Batches are sorted by length so little padding is computed. Padding goes on the left
(the last token then sits at position -1 of every row) with explicit position ids
counted over real tokens only, so a padded row gets the same positions, and the same
hidden states, as the example run on its own (checked by the tests on models with
rotary and with absolute position embeddings).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from core import __version__
from core.config import ExtractConfig, to_jsonable
from core.data import LabeledTexts, csv_identity, load_dataset
from core.errors import UserError
from core.models import LoadedModel, dtype_name, load_model, model_identity, pick_device
from core.prompts import distractor_signs, render_pair
from core.sampling import balanced_subset
from core.store import ActivationStore, content_key, environment_info, key_lock
from core.validate import check_extract, class_sizes

ProgressFn = Callable[[int, int, str], None]
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
    return {"kind": "activations", "library": __version__, "data_revision": DATA_REVISION,
            "model": model_identity(config.model, device),
            "dataset": dataset, "template": to_jsonable(config.template),
            "n_examples": config.n_examples, "selection_seed": config.selection_seed,
            "layers": "all" if config.layers is None else list(config.layers), "max_tokens": config.max_tokens,
            "storage_dtype": config.storage_dtype, "token_position": config.token_position}


def activation_key(config: ExtractConfig, device: str | torch.device = "auto") -> str:
    """The cache key `extract` will use for `config` on `device`, without loading anything."""
    device = device if isinstance(device, torch.device) else pick_device(device)
    return content_key(extraction_identity(config, device))


def tokenize(tokenizer, texts: list[str]) -> list[list[int]]:
    """Token ids of each text, with the model's usual special tokens, no truncation."""
    return tokenizer(list(texts), add_special_tokens=True)["input_ids"]


def pad_id(tokenizer) -> int:
    """The id used for (masked) padding: the pad token, else end-of-sequence, else 0."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0


def left_pad(sequences: list[list[int]], pad: int) -> dict[str, torch.Tensor]:
    """input_ids, attention_mask and position_ids [B, T] with padding on the left;
    positions count real tokens only, so padding does not shift them."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, width - len(sequence):] = torch.tensor(sequence, dtype=torch.long)
        mask[row, width - len(sequence):] = 1
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    return {"input_ids": ids, "attention_mask": mask, "position_ids": positions}


def last_token_states(loaded: LoadedModel, sequences: list[list[int]], layers: list[int]) -> torch.Tensor:
    """Hidden states [len(layers), B, d] at the last token of each sequence, one forward pass."""
    batch = left_pad(sequences, pad_id(loaded.tokenizer))
    if not loaded.accepts_position_ids:
        batch.pop("position_ids")
    batch = {name: tensor.to(loaded.device) for name, tensor in batch.items()}
    with torch.inference_mode():
        output = loaded.model(**batch, output_hidden_states=True, use_cache=False)
    hidden = output.hidden_states
    return torch.stack([hidden[layer][:, -1, :] for layer in layers]).float()


Pair = tuple[list[int], list[int]]


def shared_prefix_length(pos: list[int], neg: list[int]) -> int:
    """Tokens x+ and x- share at the start, leaving at least one token of each to run."""
    return min(_common_length([pos, neg]), min(len(pos), len(neg)) - 1)


def pair_states_plain(loaded: LoadedModel, pairs: list[Pair], layers: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(pos, neg) hidden states [len(layers), B, d]: x+ and x- run as 2B full sequences."""
    states = last_token_states(loaded, [p for p, _ in pairs] + [n for _, n in pairs], layers)
    return states[:, : len(pairs)], states[:, len(pairs):]


def _common_length(sequences: list[list[int]]) -> int:
    """How many tokens all `sequences` share at the start."""
    first = sequences[0]
    length = min(len(s) for s in sequences)
    for other in sequences[1:]:
        length = next((i for i in range(length) if other[i] != first[i]), length)
    return length


def _head_cache(loaded: LoadedModel, head: list[int], rows: int):
    """The KV cache of the tokens every prompt starts with, repeated for `rows` rows. It is
    computed once per model and head, then copied: every batch of an extraction starts
    with the same template words."""
    key = tuple(head)
    if key not in loaded.head_caches:
        loaded.head_caches.clear()
        loaded.head_caches[key] = loaded.model(input_ids=torch.tensor([head], device=loaded.device),
                                               use_cache=True).cache
    cache = copy.deepcopy(loaded.head_caches[key])
    cache.batch_repeat_interleave(rows)
    return cache


def _read_last(output, layers: list[int], last: list[int]) -> torch.Tensor:
    rows = torch.arange(len(last), device=output.hidden_states[0].device)
    index = torch.tensor(last, device=rows.device)
    return torch.stack([output.hidden_states[layer][rows, index] for layer in layers]).float()


def pair_states_shared_prefix(loaded: LoadedModel, pairs: list[Pair],
                              layers: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(pos, neg) as pair_states_plain, at about half the cost, through the KV cache.

    The head every prompt of the batch starts with (the template's opening words) runs
    once per extraction. Each example's text up to its completions then runs once for x+
    and x- together, left-padded after the head. With one-token completions (the usual
    case) the x+ completion rides along at the end of that pass, and x- runs from the
    same cache with the x+ token masked out; longer completions run as a third pass,
    both sides from a copy of the cache, right-padded and each read at its own last
    token. Token ids, not strings, decide what is shared, so a completion that merges
    with the text before it is handled."""
    pad, device = pad_id(loaded.tokenizer), loaded.device
    cut = [shared_prefix_length(p, n) for p, n in pairs]
    head = min(_common_length([p for p, _ in pairs]), min(cut) - 1)  # every example keeps a token of its own
    single = all(len(p) - k == 1 and len(n) - k == 1 for (p, n), k in zip(pairs, cut))
    middle = left_pad([p[head:] if single else p[head:k] for (p, _), k in zip(pairs, cut)], pad)
    seen_mask = torch.cat([torch.ones((len(pairs), head), dtype=torch.long), middle["attention_mask"]], 1)
    with torch.inference_mode():
        cache = _head_cache(loaded, pairs[0][0][:head], len(pairs)) if head else None
        output = loaded.model(input_ids=middle["input_ids"].to(device), attention_mask=seen_mask.to(device),
                              position_ids=(middle["position_ids"] + head).to(device), cache=cache, use_cache=True,
                              output_hidden_states=single)
        if single:
            # x-: its completion token at the x+ token's position, the x+ token masked out.
            skip_pos = torch.cat([seen_mask[:, :-1], torch.zeros((len(pairs), 1), dtype=torch.long),
                                  torch.ones((len(pairs), 1), dtype=torch.long)], 1)
            negative = loaded.model(input_ids=torch.tensor([[n[-1]] for _, n in pairs], device=device),
                                    attention_mask=skip_pos.to(device),
                                    position_ids=torch.tensor([[k] for k in cut], device=device),
                                    cache=output.cache, use_cache=True, output_hidden_states=True)
            return (_read_last(output, layers, [-1] * len(pairs)), _read_last(negative, layers, [0] * len(pairs)))
        cache = output.cache
        cache.batch_repeat_interleave(2)
        suffixes = [side[k:] for (p, n), k in zip(pairs, cut) for side in (p, n)]  # rows: ex0+, ex0-, ex1+, ...
        width = max(len(s) for s in suffixes)
        suffix_ids = torch.full((len(suffixes), width), pad, dtype=torch.long)
        suffix_mask = torch.zeros((len(suffixes), width), dtype=torch.long)
        for row, tokens in enumerate(suffixes):
            suffix_ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
            suffix_mask[row, : len(tokens)] = 1
        prefix_lengths = torch.tensor(cut, dtype=torch.long).repeat_interleave(2)
        output = loaded.model(
            input_ids=suffix_ids.to(device),
            attention_mask=torch.cat([seen_mask.repeat_interleave(2, dim=0), suffix_mask], 1).to(device),
            position_ids=(prefix_lengths[:, None] + torch.arange(width)[None]).to(device),
            cache=cache, use_cache=True, output_hidden_states=True)
    states = _read_last(output, layers, [len(s) - 1 for s in suffixes])
    return states[:, 0::2], states[:, 1::2]


def can_share_prefix(loaded: LoadedModel) -> bool:
    """Whether the model can run a shared prefix once: causal attention, explicit positions."""
    return loaded.causal and loaded.accepts_position_ids


def pair_states(loaded: LoadedModel, pairs: list[Pair], layers: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Hidden states of x+ and x- at their last tokens, sharing the common prefix where
    the model allows it (causal attention and explicit positions), else in full."""
    if can_share_prefix(loaded) and all(shared_prefix_length(p, n) for p, n in pairs):
        return pair_states_shared_prefix(loaded, pairs, layers)
    return pair_states_plain(loaded, pairs, layers)


def pair_batches(pairs: list[tuple[list[int], list[int]]], batch_size: int) -> Iterator[np.ndarray]:
    """Indices of pairs in batches of batch_size // 2 pairs (x+ and x- ride together),
    longest first, so similar lengths share a batch and an out-of-memory error, if it
    comes, comes at once."""
    lengths = np.array([max(len(p), len(n)) for p, n in pairs])
    order = np.argsort(-lengths, kind="stable")
    step = max(1, batch_size // 2)
    for start in range(0, len(order), step):
        yield order[start:start + step]


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


def extract(config: ExtractConfig, store: ActivationStore | None = None, device: str | torch.device = "auto",
            batch_size: int | None = None, progress: ProgressFn | None = None,
            status: Callable[[str], None] | None = None,
            loader: Callable[..., LoadedModel] = load_model, uploads: Path | None = None) -> ExtractionOutcome:
    """Make sure the activation set of `config` is in the store; return its key.

    A cache hit returns at once without loading the dataset or the model. Otherwise, under
    the key's lock (a second process asking for the same key waits, then finds it), the
    dataset is loaded and checked, then the model, and hidden states are streamed into
    the store. Uploaded CSVs are read from `uploads` (see core.data.load_dataset).
    """
    started = time.perf_counter()
    store = store or ActivationStore()
    check_extract(config)
    device = device if isinstance(device, torch.device) else pick_device(device)
    identity = extraction_identity(config, device)
    key = content_key(identity)
    if store.has(key):
        return ExtractionOutcome(key, True, time.perf_counter() - started)
    say = status or (lambda _message: None)
    with key_lock(store.root, key, on_wait=lambda: say("Another run is extracting these activations; waiting for it")):
        if store.has(key):
            return ExtractionOutcome(key, True, time.perf_counter() - started)
        return _extract_locked(config, store, device, identity, key, batch_size, progress, say, loader, uploads,
                               started)


def _extract_locked(config: ExtractConfig, store: ActivationStore, device: torch.device, identity: dict, key: str,
                    batch_size: int | None, progress: ProgressFn | None, say: Callable[[str], None],
                    loader: Callable[..., LoadedModel], uploads: Path | None, started: float) -> ExtractionOutcome:
    say("Loading the dataset")
    data = load_dataset(config.dataset, uploads)
    say(f"{data.description}: {len(data):,} examples")
    have, need = data.class_counts(), class_sizes(config)
    if have[0] < need[0] or have[1] < need[1]:
        raise UserError(f"{config.n_examples} balanced examples need {need[0]} with label 0 and {need[1]} with "
                        f"label 1; {data.description} has {have[0]} and {have[1]}.")
    loaded = loader(config.model, device, status=say)
    layers = list(range(loaded.num_hidden_states)) if config.layers is None else list(config.layers)
    bad = [layer for layer in layers if not 0 <= layer < loaded.num_hidden_states]
    if bad:
        raise UserError(f"Layer(s) {bad} do not exist; {loaded.name} has hidden states "
                        f"0..{loaded.num_hidden_states - 1}.")
    say("Selecting and tokenizing examples")
    chosen = select_examples(data, config, loaded.tokenizer)
    signs = distractor_signs(data.labels[chosen], config.selection_seed)
    rendered = [render_pair(config.template, data.texts[i], sign) for i, sign in zip(chosen, signs)]
    token_ids = tokenize(loaded.tokenizer, [text for pair in rendered for text in pair])
    pairs = [(token_ids[2 * k], token_ids[2 * k + 1]) for k in range(len(chosen))]
    meta = {"identity": identity, "config": to_jsonable(config), "key": key, "n": len(chosen),
            "dataset_description": data.description, "dropped_duplicates": data.dropped_duplicates,
            "labels_count": [int((data.labels[chosen] == c).sum()) for c in (0, 1)]}
    if config.template.distractor is not None:
        meta["distractor_signs"] = signs.tolist()
    stream_pairs(loaded, store, key, pairs, layers, config.storage_dtype, data.labels[chosen],
                 [data.texts[i] for i in chosen], [data.ids[i] for i in chosen], meta, device, batch_size,
                 progress, say, started)
    return ExtractionOutcome(key, False, time.perf_counter() - started)


def stream_pairs(loaded: LoadedModel, store: ActivationStore, key: str, pairs: list[tuple[list[int], list[int]]],
                 layers: list[int], storage_dtype: str, labels: np.ndarray, texts: list[str], ids: list[str],
                 meta: dict, device: torch.device, batch_size: int | None, progress: ProgressFn | None,
                 say: Callable[[str], None], started: float) -> None:
    """Hidden states of tokenized (x+, x-) `pairs` at `layers`, batched and streamed into the
    store under `key`, committed with `labels`, `texts`, `ids` and `meta` (plus what every
    set records: model, sizes, timing, environment); an error leaves nothing behind."""
    if any(p == n for p, n in pairs):
        raise UserError("x+ and x- tokenize identically for some example; make the completions differ.")
    size = batch_size or (DEFAULT_GPU_BATCH if device.type == "cuda" else DEFAULT_CPU_BATCH)
    writer = store.begin(key, len(pairs), tuple(layers), loaded.hidden_size, storage_dtype)
    report = progress or (lambda done, total, message: None)
    # Progress counts tokens, not pairs: batches come longest first, so a count of
    # pairs would make the early rate, and any ETA drawn from it, too pessimistic.
    tokens = [len(p) + len(n) for p, n in pairs]
    try:
        done_pairs, done_tokens = 0, 0
        report(0, sum(tokens), f"0/{len(pairs)} pairs")
        queue = list(pair_batches(pairs, size))
        while queue:
            rows = queue.pop(0)
            try:
                pos, neg = pair_states(loaded, [pairs[r] for r in rows], layers)
            except torch.OutOfMemoryError:
                if len(rows) == 1:
                    raise UserError("Out of GPU memory even for a single pair; use a smaller model, a lower "
                                    "max_tokens, or the CPU.") from None
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                half = (len(rows) + 1) // 2
                say(f"Out of GPU memory with {len(rows)} pairs per batch; retrying with {half}.")
                queue = [chunk for batch in [rows, *queue] for chunk in np.array_split(batch, -(-len(batch) // half))]
                continue
            writer.write(rows, pos, neg)
            done_pairs += len(rows)
            done_tokens += sum(tokens[r] for r in rows)
            report(done_tokens, sum(tokens), f"{done_pairs}/{len(pairs)} pairs")
        meta = {**meta, "created": time.time(), "layers": layers,
                "hidden_size": loaded.hidden_size, "num_hidden_states": loaded.num_hidden_states,
                "model_name": loaded.name, "dtype": dtype_name(loaded.dtype), "device": str(device),
                "batch_size": size, "prefix_shared": can_share_prefix(loaded),
                "seconds": time.perf_counter() - started, "environment": environment_info()}
        writer.commit(labels, texts, ids, meta)
    except BaseException:
        writer.abort()
        raise
