"""The forward pass: hidden states at the last token of x+ and x-, batched.

Batches are sorted by length so little padding is computed. Padding goes on the left
(the last token then sits at position -1 of every row) with explicit position ids
counted over real tokens only, so a padded row gets the same positions, and the same
hidden states, as the example run on its own (checked by the tests on models with
rotary and with absolute position embeddings). On a causal model the tokens x+ and x-
share run once, and a template's opening tokens once per batch shape. The decoder runs
only as deep as the deepest layer asked for (stopping_at).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from core.extraction.models import LoadedModel


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
        ids[row, width - len(sequence) :] = torch.tensor(sequence, dtype=torch.long)
        mask[row, width - len(sequence) :] = 1
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
    return states[:, : len(pairs)], states[:, len(pairs) :]


def _common_length(sequences: list[list[int]]) -> int:
    """How many tokens all `sequences` share at the start."""
    first = sequences[0]
    length = min(len(s) for s in sequences)
    for other in sequences[1:]:
        length = next((i for i in range(length) if other[i] != first[i]), length)
    return length


# (blocks, final norm) attribute names of the base models whose forward runs a list of
# blocks in order and then a final norm: Llama, Gemma, Mistral, Qwen and the like; GPT-2.
TRUNKS = (("layers", "norm"), ("h", "ln_f"))


def _trunk(model) -> tuple[str, str] | None:
    """The (blocks, final norm) attribute names of `model`, if it has a trunk of TRUNKS."""
    for blocks, norm in TRUNKS:
        if isinstance(getattr(model, blocks, None), nn.ModuleList) and isinstance(
            getattr(model, norm, None), nn.Module
        ):
            return blocks, norm
    return None


@contextmanager
def stopping_at(loaded: LoadedModel, deepest: int):
    """Run the model only through block `deepest` while inside: its block list cut after
    that block and its final norm bypassed, so hidden state `deepest` is the block's raw
    output, as in the full forward (where only the last hidden state is normed). The
    deepest layer of all, a model spread over GPUs or one of unknown shape runs whole.

    The model is shared (the dashboard keeps one for every visitor), so every forward
    pass holds the model's lock, and the cut is undone before it is released."""
    with loaded.lock:
        model, trunk = loaded.model, _trunk(loaded.model)
        whole = (
            trunk is None
            or getattr(model, "hf_device_map", None)
            or not 0 < deepest < loaded.num_hidden_states - 1
            or len(getattr(model, trunk[0])) != loaded.num_hidden_states - 1
        )
        if whole:
            yield
            return
        blocks_name, norm_name = trunk
        blocks, norm = getattr(model, blocks_name), getattr(model, norm_name)
        setattr(model, blocks_name, nn.ModuleList(list(blocks)[:deepest]))
        setattr(model, norm_name, nn.Identity())
        try:
            yield
        finally:
            setattr(model, blocks_name, blocks)
            setattr(model, norm_name, norm)


def _head_cache(loaded: LoadedModel, head: list[int], rows: int, deepest: int):
    """The KV cache of the tokens every prompt starts with, repeated for `rows` rows. It is
    computed once per model, head and depth, then copied: every batch of an extraction
    starts with the same template words."""
    key = (tuple(head), deepest)
    if key not in loaded.head_caches:
        loaded.head_caches.clear()
        loaded.head_caches[key] = loaded.model(
            input_ids=torch.tensor([head], device=loaded.device), use_cache=True
        ).cache
    cache = copy.deepcopy(loaded.head_caches[key])
    cache.batch_repeat_interleave(rows)
    return cache


def _read_last(output, layers: list[int], last: list[int]) -> torch.Tensor:
    rows = torch.arange(len(last), device=output.hidden_states[0].device)
    index = torch.tensor(last, device=rows.device)
    return torch.stack([output.hidden_states[layer][rows, index] for layer in layers]).float()


def pair_states_shared_prefix(
    loaded: LoadedModel, pairs: list[Pair], layers: list[int]
) -> tuple[torch.Tensor, torch.Tensor]:
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
        cache = _head_cache(loaded, pairs[0][0][:head], len(pairs), max(layers)) if head else None
        output = loaded.model(
            input_ids=middle["input_ids"].to(device),
            attention_mask=seen_mask.to(device),
            position_ids=(middle["position_ids"] + head).to(device),
            cache=cache,
            use_cache=True,
            output_hidden_states=single,
        )
        if single:
            # x-: its completion token at the x+ token's position, the x+ token masked out.
            skip_pos = torch.cat(
                [
                    seen_mask[:, :-1],
                    torch.zeros((len(pairs), 1), dtype=torch.long),
                    torch.ones((len(pairs), 1), dtype=torch.long),
                ],
                1,
            )
            negative = loaded.model(
                input_ids=torch.tensor([[n[-1]] for _, n in pairs], device=device),
                attention_mask=skip_pos.to(device),
                position_ids=torch.tensor([[k] for k in cut], device=device),
                cache=output.cache,
                use_cache=True,
                output_hidden_states=True,
            )
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
            cache=cache,
            use_cache=True,
            output_hidden_states=True,
        )
    states = _read_last(output, layers, [len(s) - 1 for s in suffixes])
    return states[:, 0::2], states[:, 1::2]


def can_share_prefix(loaded: LoadedModel) -> bool:
    """Whether the model can run a shared prefix once: causal attention, explicit positions."""
    return loaded.causal and loaded.accepts_position_ids


def sliding_window(loaded: LoadedModel) -> int | None:
    """The attention window of a model with sliding-window layers (Gemma 3, Mistral), else None."""
    config = loaded.model.config
    window = getattr(config, "sliding_window", None)
    kinds = getattr(config, "layer_types", None)
    return window if window and (kinds is None or "sliding_attention" in kinds) else None


def fits_window(loaded: LoadedModel, pairs: list[Pair]) -> bool:
    """Whether the shared-prefix passes keep every token of the batch inside the model's
    attention window. A sliding window counts cache slots, and those passes add slots
    (padding after the head, the masked x+ token) that a full run does not have, so a
    batch longer than the window runs in full."""
    window = sliding_window(loaded)
    return window is None or max(len(p) + len(n) for p, n in pairs) <= window


def pair_states(loaded: LoadedModel, pairs: list[Pair], layers: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Hidden states of x+ and x- at their last tokens, sharing the common prefix where
    the model allows it (causal attention, explicit positions, the batch inside its
    attention window), else in full; the decoder runs only as deep as the deepest of
    `layers`."""
    with stopping_at(loaded, max(layers)):
        if (
            can_share_prefix(loaded)
            and fits_window(loaded, pairs)
            and all(shared_prefix_length(p, n) for p, n in pairs)
        ):
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
        yield order[start : start + step]
