"""Decks: a talk as a data file. A deck is a TOML file with a title and a list of steps;
each step has a view type from STEP_TYPES (its fields and their checks live in that one
registry), a title, optional body text and speaker notes, and, for views of results, the
run it shows written as link parameters (core.links), so a deck names configs exactly as
a shared link does: strictly parsed, held to the same bounds, never a server path.

A deck is text written by a person, so every problem is a UserError naming the deck, the
step and the field.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from core.config import METHODS, ExtractConfig, SweepConfig
from core.errors import UserError

DEFAULT_DECK = Path(__file__).parent / "decks" / "demo.toml"
MAX_DECK_BYTES = 256 * 1024
METRICS = ("accuracy", "auroc")


@dataclass(frozen=True)
class Step:
    """One idea of a talk: a view (`type`), its title, body paragraphs, speaker notes and
    the view's own options; `run` holds the link parameters of the results it shows."""

    type: str
    title: str
    body: str = ""
    notes: str = ""
    run: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def configs(self, shared: bool = False) -> tuple[ExtractConfig, SweepConfig]:
        """The (extraction, sweep) configs this step shows: the demo's, changed by `run`."""
        from core.links import extract_from_params, sweep_from_params

        return extract_from_params(self.run, shared=shared), sweep_from_params(self.run, shared=shared)

    @property
    def shows_results(self) -> bool:
        return STEP_TYPES[self.type].shows_results


@dataclass(frozen=True)
class Deck:
    """A titled sequence of steps."""

    title: str
    steps: tuple[Step, ...]


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise UserError(f"{where} must be text, got {type(value).__name__}.")
    return value


def _methods(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(m not in METHODS for m in value):
        raise UserError(f"{where} must be a non-empty list of methods from {', '.join(METHODS)}, got {value!r}.")
    return tuple(value)


def _fraction(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise UserError(f"{where} must be a number strictly between 0 and 1, got {value!r}.")
    return float(value)


def _metric(value: Any, where: str) -> str:
    if value not in METRICS:
        raise UserError(f"{where} must be one of {', '.join(METRICS)}, got {value!r}.")
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise UserError(f"{where} must be true or false, got {value!r}.")
    return value


@dataclass(frozen=True)
class StepType:
    """A view a step can show: its optional fields with their checks, and whether it draws
    from a run's results (then `run` names the run)."""

    description: str
    options: dict[str, Callable[[Any, str], Any]]
    shows_results: bool


STEP_TYPES = {
    "text": StepType("a text slide: title, body paragraphs", {}, False),
    "sweep": StepType("the accuracy-versus-p chart of a run: `methods` to draw, `reveal` (draw the levels of p up "
                      "to this one, on the full axis), `metric` (accuracy or auroc), `theory` (the 4p(1-p) curve)",
                      {"methods": _methods, "reveal": _fraction, "metric": _metric, "theory": _flag}, True),
}
COMMON = ("type", "title", "body", "notes", "run")


def _step(raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise UserError(f"{where} must be a table ([[steps]]), got {type(raw).__name__}.")
    kind = raw.get("type")
    if kind not in STEP_TYPES:
        raise UserError(f"{where}: type must be one of {', '.join(STEP_TYPES)}, got {kind!r}.")
    spec = STEP_TYPES[kind]
    unknown = sorted(set(raw) - set(COMMON) - set(spec.options))
    if unknown:
        raise UserError(f"{where}: unknown field(s) {unknown} for a {kind} step (it takes "
                        f"{', '.join([*COMMON, *spec.options])}).")
    if "title" not in raw:
        raise UserError(f"{where}: a step needs a title.")
    run = raw.get("run", {})
    if not isinstance(run, dict) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                            for v in run.values()):
        raise UserError(f"{where}: run must be a table of link parameters (text or numbers), got {run!r}.")
    if run and not spec.shows_results:
        raise UserError(f"{where}: a {kind} step shows no results, so it takes no run.")
    step = Step(kind, _text(raw["title"], f"{where}: title"), _text(raw.get("body", ""), f"{where}: body"),
                _text(raw.get("notes", ""), f"{where}: notes"), {str(k): str(v) for k, v in run.items()},
                {name: check(raw[name], f"{where}: {name}") for name, check in spec.options.items() if name in raw})
    if step.shows_results:
        try:
            _, sweep = step.configs()
        except UserError as error:
            raise UserError(f"{where}: run: {error}") from None
        drawn = step.options.get("methods", sweep.methods)
        if set(drawn) - set(sweep.methods):
            raise UserError(f"{where}: methods {sorted(set(drawn) - set(sweep.methods))} are not in the run "
                            f"(it trains {', '.join(sweep.methods)}).")
        if "reveal" in step.options and step.options["reveal"] < min(sweep.p_levels):
            raise UserError(f"{where}: reveal {step.options['reveal']:g} is below the run's lowest level of p "
                            f"({min(sweep.p_levels):g}), so nothing would be drawn.")
    return step


def parse_deck(text: str, name: str = "deck") -> Deck:
    """A Deck from TOML text, every field checked (UserError naming deck, step and field)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{name} is not valid TOML: {error}") from None
    unknown = sorted(set(raw) - {"title", "steps"})
    if unknown:
        raise UserError(f"{name}: unknown top-level field(s) {unknown} (a deck has title and [[steps]]).")
    steps = raw.get("steps")
    if not isinstance(steps, list) or not steps:
        raise UserError(f"{name} has no steps; add [[steps]] tables.")
    title = _text(raw.get("title", name), f"{name}: title")
    return Deck(title, tuple(_step(step, f"{name}, step {i}{_named(step)}") for i, step in enumerate(steps, start=1)))


def _named(step: Any) -> str:
    """" ('Its title')" for a step that has a title, for error messages."""
    return f" ({step['title']!r})" if isinstance(step, dict) and isinstance(step.get("title"), str) else ""


def load_deck(path: str | Path | None = None) -> Deck:
    """The deck in the TOML file `path` (the default demo deck when None)."""
    path = Path(path) if path is not None else DEFAULT_DECK
    if not path.is_file():
        raise UserError(f"Deck file {path.name} does not exist.")
    if path.stat().st_size > MAX_DECK_BYTES:
        raise UserError(f"Deck file {path.name} is over {MAX_DECK_BYTES // 1024} KB; a deck is a short text file.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"Deck file {path.name} is not UTF-8 text.") from None
    return parse_deck(text, path.name)


def runs_of(deck: Deck) -> list[tuple[ExtractConfig, SweepConfig]]:
    """The distinct runs a deck's steps show, in order of first use."""
    runs: list[tuple[ExtractConfig, SweepConfig]] = []
    for step in deck.steps:
        if step.shows_results and step.configs() not in runs:
            runs.append(step.configs())
    return runs
