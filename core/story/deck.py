"""Decks: a talk as a data file. A deck is a TOML file with a title and a list of steps;
each step has a view type from core.story.registry.STEP_TYPES (its fields and their checks live in
that one registry), a title, optional body text and speaker notes, and, for views of
results, the run it shows written as link parameters (core.settings.links), so a deck names
configs exactly as a shared link does: strictly parsed, held to the same bounds, never a
server path.

Decks are found by name: the ones shipped in core/decks/ and the ones a pack imported
into `<cache>/decks/` (with the keys its results had where they were computed, its pins).
A deck is text written by a person, so every problem is a UserError naming the deck, the
step and the field.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.paths import cache_root
from core.story.model import Deck, Step
from core.story.options import link_params
from core.story.registry import STEP_TYPES, check_step

BUNDLED_DECKS = Path(__file__).parent / "decks"
DEFAULT_DECK = BUNDLED_DECKS / "demo.toml"
DEFAULT_NAME = "demo"
MAX_DECK_BYTES = 256 * 1024
DECK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
COMMON = ("type", "title", "body", "notes", "run")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise UserError(f"{where} must be text, got {type(value).__name__}.")
    return value


def _step(raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise UserError(f"{where} must be a table ([[steps]]), got {type(raw).__name__}.")
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in STEP_TYPES:
        raise UserError(f"{where}: type must be one of {', '.join(STEP_TYPES)}, got {kind!r}.")
    spec = STEP_TYPES[kind]
    unknown = sorted(set(raw) - set(COMMON) - set(spec.options))
    if unknown:
        raise UserError(
            f"{where}: unknown field(s) {unknown} for a {kind} step (it takes {', '.join([*COMMON, *spec.options])})."
        )
    if "title" not in raw:
        raise UserError(f"{where}: a step needs a title.")
    absent = [name for name in spec.required if name not in raw]
    if absent:
        raise UserError(f"{where}: a {kind} step needs {', '.join(absent)}.")
    run = link_params(raw.get("run", {}), f"{where}: run")
    if run and spec.runs is None:
        raise UserError(f"{where}: a {kind} step shows no results, so it takes no run.")
    step = Step(
        spec,
        _text(raw["title"], f"{where}: title"),
        _text(raw.get("body", ""), f"{where}: body"),
        _text(raw.get("notes", ""), f"{where}: notes"),
        run,
        {name: check(raw[name], f"{where}: {name}") for name, check in spec.options.items() if name in raw},
    )
    try:
        check_step(step)
    except UserError as error:
        raise UserError(f"{where}: {error}") from None
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
    """ " ('Its title')" for a step that has a title, for error messages."""
    return f" ({step['title']!r})" if isinstance(step, dict) and isinstance(step.get("title"), str) else ""


def read_deck_text(path: Path) -> str:
    """The text of a deck file, refused if missing, too large or not UTF-8."""
    if not path.is_file():
        raise UserError(f"Deck file {path.name} does not exist.")
    if path.stat().st_size > MAX_DECK_BYTES:
        raise UserError(f"Deck file {path.name} is over {MAX_DECK_BYTES // 1024} KB; a deck is a short text file.")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"Deck file {path.name} is not UTF-8 text.") from None


def load_deck(path: str | Path | None = None) -> Deck:
    """The deck in the TOML file `path` (the default demo deck when None)."""
    path = Path(path) if path is not None else DEFAULT_DECK
    return parse_deck(read_deck_text(path), path.name)


def imported_decks_folder(root: Path | None = None) -> Path:
    return (root or cache_root()) / "decks"


def deck_names(root: Path | None = None) -> list[str]:
    """Every deck that can be opened by name: the shipped ones, then the imported ones."""
    shipped = sorted(path.stem for path in BUNDLED_DECKS.glob("*.toml"))
    folder = imported_decks_folder(root)
    imported = sorted(path.stem for path in folder.glob("*.toml")) if folder.is_dir() else []
    return list(dict.fromkeys([DEFAULT_NAME, *shipped, *imported]))


def check_deck_name(name: str) -> str:
    if not isinstance(name, str) or not DECK_NAME.fullmatch(name):
        raise UserError(f"{name!r} is not a deck name (lower-case letters, digits, - and _, at most 64).")
    return name


def _deck_file(name: str, root: Path | None) -> Path | None:
    """The file of the deck `name`: an imported one (a pack's, with pins) before a shipped
    one of the same name."""
    for folder in (imported_decks_folder(root), BUNDLED_DECKS):
        if (folder / f"{name}.toml").is_file():
            return folder / f"{name}.toml"
    return None


def deck_version(name: str, root: Path | None = None) -> tuple[int, ...]:
    """What changes when the deck `name` is edited or imported again: the modification time
    and size of its file and of its pins (a cache of parsed decks keys on it); empty for
    a name with no deck, which deck_by_name refuses."""
    path = _deck_file(check_deck_name(name), root)
    if path is None:
        return ()
    files = [path, path.with_suffix(".pins.json")]
    return tuple(
        number for file in files if file.is_file() for number in (file.stat().st_mtime_ns, file.stat().st_size)
    )


def deck_by_name(name: str, root: Path | None = None) -> Deck:
    """A shipped or imported deck by name (never a path), with its pins if imported."""
    path = _deck_file(check_deck_name(name), root)
    if path is None:
        raise UserError(f"There is no deck named {name!r}; decks here: {', '.join(deck_names(root))}.")
    deck = load_deck(path)
    pins_file = path.with_suffix(".pins.json")
    if not pins_file.is_file():
        return deck
    try:
        pins = json.loads(pins_file.read_text())
        if not all(isinstance(v, list) and len(v) == 2 for v in pins.values()):
            raise ValueError
    except (OSError, ValueError, AttributeError):
        raise UserError(f"The imported deck {name!r} has unreadable pins; unpack its pack again.") from None
    return Deck(deck.title, deck.steps, pins)


def resolve_deck(argument: str | None, root: Path | None = None) -> tuple[str, Deck, str]:
    """(name, deck, text) of a command line's DECK: a deck file's path or a deck's name
    (the default deck when None)."""
    argument = DEFAULT_NAME if argument is None else argument
    path = Path(argument).expanduser()
    if path.suffix == ".toml" or path.is_file():
        text = read_deck_text(path)
        name = re.sub(r"[^a-z0-9_-]", "-", path.stem.lower()).strip("-_")[:64] or "deck"
        return name, parse_deck(text, path.name), text
    deck = deck_by_name(argument, root)
    return argument, deck, _deck_file(argument, root).read_text(encoding="utf-8")
