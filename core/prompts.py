"""Templates to contrast pairs: x+ = prompt(text) + positive completion, x- = prompt(text)
+ negative completion. The text is substituted literally (no str.format), so braces in
a review or a user template cannot break it."""

from __future__ import annotations

from core.config import TEXT_SLOT, Template
from core.errors import UserError


def validate_template(template: Template) -> None:
    """Raise a UserError if the template cannot make contrast pairs: the prompt needs
    exactly one {text} slot and the two completions must be non-empty and different."""
    slots = template.prompt.count(TEXT_SLOT)
    if slots != 1:
        raise UserError(f"The prompt needs exactly one {TEXT_SLOT} slot; it has {slots}.")
    if not template.positive.strip() or not template.negative.strip():
        raise UserError("Both completions must be non-empty.")
    if template.positive == template.negative:
        raise UserError("The two completions are identical, so x+ and x- would be the same text.")


def render_prompt(template: Template, text: str) -> str:
    """The shared part of the pair: the prompt with the example filled in."""
    return template.prompt.replace(TEXT_SLOT, text)


def render_pair(template: Template, text: str) -> tuple[str, str]:
    """(x+, x-) for one example."""
    prompt = render_prompt(template, text)
    return prompt + template.positive, prompt + template.negative
