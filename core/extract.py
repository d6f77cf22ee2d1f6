"""Hidden states at the last token of x+ and x-, batched, streamed into the activation store.

Batches are sorted by length so little padding is computed. Padding goes on the left
(the last token then sits at position -1 of every row) with explicit position ids
counted over real tokens only, so a padded row gets the same positions, and the same
hidden states, as the example run on its own (checked by the tests on models with
rotary and with absolute position embeddings).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from core import __version__
from core.config import ExtractConfig, to_jsonable
from core.data import LabeledTexts, csv_file_fingerprint, load_dataset
from core.errors import UserError
from core.models import LoadedModel, dtype_name, load_model, model_identity, pick_device
from core.prompts import render_pair, validate_template
from core.sampling import balanced_subset
from core.store import ActivationStore, content_key, environment_info

ProgressFn = Callable[[int, int, str], None]
DEFAULT_CPU_BATCH = 32
DEFAULT_GPU_BATCH = 128


def extraction_identity(config: ExtractConfig, device: torch.device) -> dict:
    """Everything the stored hidden states depend on (the cache key is its hash)."""
    dataset = to_jsonable(config.dataset)
    if config.dataset.source == "csv":
        # A CSV is identified by its bytes: the same file under another name (an upload,
        # a copy) is the same data, and an edited file is new data.
        dataset.update(name=None, fingerprint=csv_file_fingerprint(config.dataset.name))
    return {"kind": "activations", "library": __version__, "model": model_identity(config.model, device),
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
        rendered = [render_pair(config.template, data.texts[i]) for i in indices]
        lengths = [len(ids) for ids in tokenize(tokenizer, [t for pair in rendered for t in pair])]
        return np.array([max(lengths[2 * k], lengths[2 * k + 1]) <= config.max_tokens for k in range(len(indices))],
                        dtype=bool)

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
            loader: Callable[..., LoadedModel] = load_model) -> ExtractionOutcome:
    """Make sure the activation set of `config` is in the store; return its key.

    A cache hit returns at once without loading the dataset or the model. Otherwise the
    model is loaded, examples selected, and hidden states streamed into the store.
    """
    started = time.perf_counter()
    store = store or ActivationStore()
    device = device if isinstance(device, torch.device) else pick_device(device)
    identity = extraction_identity(config, device)
    key = content_key(identity)
    if store.has(key):
        return ExtractionOutcome(key, True, time.perf_counter() - started)
    validate_template(config.template)
    if config.token_position != "last":
        raise UserError(f"Token position '{config.token_position}' is not supported (use last).")
    say = status or (lambda _message: None)
    say("Loading the dataset")
    data = load_dataset(config.dataset)
    loaded = loader(config.model, device, status=say)
    layers = list(range(loaded.num_hidden_states)) if config.layers is None else list(config.layers)
    bad = [layer for layer in layers if not 0 <= layer < loaded.num_hidden_states]
    if bad:
        raise UserError(f"Layer(s) {bad} do not exist; {loaded.name} has hidden states "
                        f"0..{loaded.num_hidden_states - 1}.")
    say("Selecting and tokenizing examples")
    chosen = select_examples(data, config, loaded.tokenizer)
    rendered = [render_pair(config.template, data.texts[i]) for i in chosen]
    token_ids = tokenize(loaded.tokenizer, [text for pair in rendered for text in pair])
    pairs = [(token_ids[2 * k], token_ids[2 * k + 1]) for k in range(len(chosen))]
    if any(p == n for p, n in pairs):
        raise UserError("x+ and x- tokenize identically for some example; make the completions differ.")

    size = batch_size or (DEFAULT_GPU_BATCH if device.type == "cuda" else DEFAULT_CPU_BATCH)
    writer = store.begin(key, len(chosen), tuple(layers), loaded.hidden_size, config.storage_dtype)
    report = progress or (lambda done, total, message: None)
    # Progress counts tokens, not pairs: batches come longest first, so a count of
    # pairs would make the early rate, and any ETA drawn from it, too pessimistic.
    tokens = [len(p) + len(n) for p, n in pairs]
    try:
        done_pairs, done_tokens = 0, 0
        report(0, sum(tokens), f"0/{len(pairs)} pairs")
        for rows in pair_batches(pairs, size):
            states = last_token_states(loaded, [pairs[r][0] for r in rows] + [pairs[r][1] for r in rows], layers)
            writer.write(rows, states[:, : len(rows)], states[:, len(rows):])
            done_pairs += len(rows)
            done_tokens += sum(tokens[r] for r in rows)
            report(done_tokens, sum(tokens), f"{done_pairs}/{len(pairs)} pairs")
        meta = {"identity": identity, "config": to_jsonable(config), "key": key, "created": time.time(),
                "n": len(chosen), "layers": layers,
                "hidden_size": loaded.hidden_size, "num_hidden_states": loaded.num_hidden_states,
                "model_name": loaded.name, "dtype": dtype_name(loaded.dtype), "device": str(device),
                "dataset_description": data.description, "labels_count": [int((data.labels[chosen] == c).sum())
                                                                           for c in (0, 1)],
                "batch_size": size, "seconds": time.perf_counter() - started, "environment": environment_info()}
        writer.commit(data.labels[chosen], [data.texts[i] for i in chosen], [data.ids[i] for i in chosen], meta)
    except BaseException:
        writer.abort()
        raise
    return ExtractionOutcome(key, False, time.perf_counter() - started)
