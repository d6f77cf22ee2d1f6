"""What a deck step shows under its title and body: a chart at slide size, the contrast pair
it inspects, and a caption that says how its numbers were computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt

from core.config import Template


@dataclass(frozen=True)
class Pair:
    """One inspected contrast pair: its example id, text, label (1 = + is true) and the
    template that turns it into x+ and x-."""

    example_id: str
    text: str
    label: int
    template: Template


@dataclass(frozen=True)
class Slide:
    """What a step shows under its title and body: a chart (slide-sized), the pair it
    inspects, a caption saying how its numbers were computed, and where they came from
    when not from this machine ("from pack NAME, imported DATE")."""

    chart: alt.TopLevelMixin | None = None
    pair: Pair | None = None
    caption: str = ""
    origin: str = ""
