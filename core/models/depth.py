"""A layer named by index or by relative depth, so that runs across models of different
depths compare like with like.

A layer is a hidden-state index (0 = embeddings, i = output of block i) or a relative
depth: "75%" (of the blocks), "middle" (50%) or "last". A depth resolves to the nearest
block, halves rounded up: 75% of SmolLM2's 30 blocks is 23 (the demo's layer), of Gemma 3
270M's 18 blocks 14; "last" is the final hidden state (after the final norm).
"""

from __future__ import annotations

import math
import re

from core.errors import UserError

NAMED_DEPTHS = {"middle": 50.0, "last": 100.0}
_PERCENT = re.compile(r"^(\d{1,3}(?:\.\d{1,2})?)%$")


def depth_percent(text: str) -> float | None:
    """The percentage a relative depth names ("75%" -> 75.0, "middle" -> 50.0), None for
    anything else; a UserError for a percentage outside 0..100."""
    if not isinstance(text, str):
        return None
    text = text.strip().lower()
    if text in NAMED_DEPTHS:
        return NAMED_DEPTHS[text]
    match = _PERCENT.match(text)
    if match is None:
        return None
    percent = float(match.group(1))
    if percent > 100:
        raise UserError(f"Depth {text} is beyond the last layer (use 0% to 100%).")
    return percent


def is_depth(value) -> bool:
    """Whether `value` is a relative depth rather than an index."""
    try:
        return depth_percent(value) is not None
    except UserError:
        return True


def depth_layer(percent: float, hidden_states: int) -> int:
    """The hidden-state index at `percent` of a model with `hidden_states` hidden states."""
    return min(hidden_states - 1, math.floor(percent / 100 * (hidden_states - 1) + 0.5))


def resolve_layer(value, hidden_states: int | None, model: str = "this model") -> int:
    """The hidden-state index `value` names: an int (or its digits) as it is, a relative
    depth through `hidden_states`; a UserError for anything else, or for a depth when the
    model's depth is not known without loading it."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    percent = depth_percent(value)
    if percent is None:
        raise UserError(f"Layer {value!r} is neither a hidden-state index nor a depth such as 75%, middle or last.")
    if hidden_states is None:
        raise UserError(
            f"The depth of {model} is not known before it is loaded, so layer {value} cannot be placed; "
            "give a hidden-state index, or extract once first."
        )
    return depth_layer(percent, hidden_states)


def depth_label(layer: int, hidden_states: int) -> str:
    """How deep `layer` is, as people read it: "layer 23 of 30 (77%)"."""
    blocks = hidden_states - 1
    return f"layer {layer} of {blocks} ({layer / blocks:.0%})" if blocks else f"layer {layer}"
