"""Named templates: the wordings a data set can be asked in, each defined once here. A run
trains on one of them (ExtractConfig.template) or on an ensemble of several
(ExtractConfig.templates, by name), as elk does: a probe that only tracks one wording's
answer tokens does not carry over to the others, truth does.

A family varies what promptsource's templates vary: the framing, the question, and the
answer words, including one whose true answer for a positive example is " No" (the answer
token then no longer repeats the example's own sentiment or truth words).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config import DEFAULT_PROMPT, Template


@dataclass(frozen=True)
class NamedTemplate:
    """One template of a family: what a person sees (`label`) and the template itself."""

    label: str
    template: Template


def sentiment_family(kind: str, short: str) -> dict[str, NamedTemplate]:
    """Four wordings of "is this `kind` positive?" (`short`: how the prompt refers back to
    it). Label 1, positive, is the + completion of each."""
    intro = kind[0].upper() + kind[1:]
    return {
        "sentiment": NamedTemplate(
            "Sentiment word as the answer (Burns et al.)",
            Template(f'Consider the following {kind}: "{{text}}" The sentiment of this {short} is'),
        ),
        "is_positive": NamedTemplate(
            "Is it positive? Yes/No",
            Template(f'{intro}: "{{text}}"\nQuestion: Is this {short} positive? Answer:', " Yes", " No"),
        ),
        "tone": NamedTemplate(
            "Its tone in one word: good/bad",
            Template(f'"{{text}}"\nIn one word, the tone of this {short} is', " good", " bad"),
        ),
        "is_negative": NamedTemplate(
            "Is it negative? No/Yes: the answer decoupled from the sentiment words",
            Template(
                f'Consider the following {kind}: "{{text}}" Is the sentiment of this {short} negative? Answer:',
                " No",
                " Yes",
            ),
        ),
    }


# Four wordings of "is this statement true?"; label 1, true, is the + completion of each.
TRUTH_FAMILY = {
    "true_false": NamedTemplate(
        "True or false? true/false",
        Template('Is the following statement true or false? "{text}" The statement is', " true", " false"),
    ),
    "is_correct": NamedTemplate(
        "Is it correct? Yes/No",
        Template('Statement: "{text}"\nQuestion: Is this statement correct? Answer:', " Yes", " No"),
    ),
    "right_wrong": NamedTemplate(
        "Marked by a teacher: right/wrong",
        Template('A student wrote: "{text}" The teacher marked it as', " right", " wrong"),
    ),
    "is_false": NamedTemplate(
        "Is it false? No/Yes: the answer decoupled from true/false",
        Template('Is the following statement false? "{text}" Answer:', " No", " Yes"),
    ),
}

# The family a data set that is not bundled starts from: movie reviews, the demo's.
REVIEW_FAMILY = sentiment_family("movie review", "review")
assert REVIEW_FAMILY["sentiment"].template == Template(DEFAULT_PROMPT)  # the demo's template is the first
