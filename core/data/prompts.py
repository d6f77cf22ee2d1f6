"""Templates to contrast pairs: x+ = prompt(text) + positive completion, x- = prompt(text)
+ negative completion. The text is substituted literally (no str.format), so braces in
a review or a user template cannot break it.
The named templates a data set is asked in are core.data.templates's.
"""

from __future__ import annotations

import numpy as np

from core.config import TEXT_SLOT, Template
from core.errors import UserError

MAX_DISTRACTOR_CHARS = 40


def validate_template(template: Template) -> None:
    """Raise a UserError if the template cannot make contrast pairs: the prompt needs
    exactly one {text} slot, the two completions must be non-empty and different, and a
    distractor is two different non-empty words."""
    slots = template.prompt.count(TEXT_SLOT)
    if slots != 1:
        raise UserError(f"The prompt needs exactly one {TEXT_SLOT} slot; it has {slots}.")
    if not template.positive.strip() or not template.negative.strip():
        raise UserError("Both completions must be non-empty.")
    if template.positive == template.negative:
        raise UserError("The two completions are identical, so x+ and x- would be the same text.")
    words = template.distractor
    if words is not None and not (
        isinstance(words, tuple)
        and len(words) == 2
        and all(
            isinstance(w, str) and w.strip() and len(w) <= MAX_DISTRACTOR_CHARS and TEXT_SLOT not in w for w in words
        )
        and words[0] != words[1]
    ):
        raise UserError(
            f"A distractor is two different non-empty words of at most {MAX_DISTRACTOR_CHARS} characters each."
        )


def render_prompt(template: Template, text: str) -> str:
    """The shared part of the pair: the prompt with the example filled in."""
    return template.prompt.replace(TEXT_SLOT, text)


def render_pair(template: Template, text: str, sign: int = 1) -> tuple[str, str]:
    """(x+, x-) for one example; with a distractor, x+ ends with its first word and x- with
    its second when `sign` is 1, the other way round when it is -1."""
    prompt = render_prompt(template, text)
    pos, neg = prompt + template.positive, prompt + template.negative
    if template.distractor is None:
        return pos, neg
    first, second = template.distractor if sign > 0 else template.distractor[::-1]
    return f"{pos}. {first}", f"{neg}. {second}"


def distractor_signs(labels: np.ndarray, seed: int) -> np.ndarray:
    """+1 or -1 for each example (int8): which side gets the distractor's first word. Drawn
    with `seed`, exactly half of each class +1 (the odd one out -1), so the distractor is
    balanced and carries no truth."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 11]))
    signs = np.empty(len(labels), dtype=np.int8)
    for label in (0, 1):
        rows = np.flatnonzero(labels == label)
        signs[rows] = np.where(rng.permutation(len(rows)) < len(rows) // 2, 1, -1)
    return signs
