"""The text step: a slide of title and body paragraphs, no results."""

from __future__ import annotations

from core.story.model import Step, StepType
from core.story.results import Results
from core.story.slides import Slide


def draw_text(step: Step, results: Results) -> Slide:
    return Slide()


STEP = StepType("text", "a text slide: title, body paragraphs", {}, draw_text)
