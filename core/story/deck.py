"""Decks: a talk as a data file. A deck is a TOML file with a title and a list of steps;
each step has a view type from core.story.registry.STEP_TYPES (its fields and their checks live in
that one registry), a title, optional body text and speaker notes, and, for views of
results, the run it shows written as link parameters (core.settings.links), so a deck names
configs exactly as a shared link does: strictly parsed, held to the same bounds, never a
server path.

Decks are found by name: the ones shipped in core/story/decks/ by theirs, and the one each
imported pack brought (core.store.imports) as `<pack id>/<deck name>`, with its pins (the
keys its results had where they were computed) and its pack; an imported deck never
shadows a shipped one.
A deck is text written by a person, so every problem is a UserError naming the deck, the
step and the field.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.store.imports import PACK_DECK, PACK_ID, PACK_PINS, ImportedPack, imported_pack, imported_packs, read_pins
from core.story.model import Deck, Step
from core.story.options import link_params
from core.story.registry import STEP_TYPES, check_step

BUNDLED_DECKS = Path(__file__).parent / "decks"
DEFAULT_DECK = BUNDLED_DECKS / "demo.toml"
DEFAULT_NAME = "demo"
MAX_DECK_BYTES = 256 * 1024
DECK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
COMMON = ("type", "title", "body", "notes", "run")
SHIPPED = "shipped with the lab"


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
    except RecursionError:
        raise UserError(f"{name} nests lists or tables too deeply to be a deck.") from None
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


def shipped_deck_names() -> list[str]:
    """The decks that come with the lab (core/story/decks/), the demo's first."""
    return list(dict.fromkeys([DEFAULT_NAME, *sorted(path.stem for path in BUNDLED_DECKS.glob("*.toml"))]))


def deck_names(root: Path | None = None) -> list[str]:
    """Every deck that can be opened by name: the shipped ones, then each imported pack's,
    as `<pack id>/<deck name>`."""
    return [entry.name for entry in deck_entries(root)]


def default_deck_name(root: Path | None = None) -> str:
    """The deck story mode opens when none is named: the one the pack imported last brought
    (a talk just unpacked on the room's laptop), else the demo's."""
    packs = imported_packs(root)
    return packs[-1].address if packs else DEFAULT_NAME


@dataclass(frozen=True)
class DeckEntry:
    """A deck as a list of decks shows it: its name, title and origin ("shipped with the
    lab", or its pack's "from pack NAME, imported DATE")."""

    name: str
    title: str
    origin: str


def deck_entries(root: Path | None = None) -> list[DeckEntry]:
    """Every deck that can be opened by name, shipped then imported (oldest first)."""
    shipped = [DeckEntry(name, _title(BUNDLED_DECKS / f"{name}.toml"), SHIPPED) for name in shipped_deck_names()]
    return [*shipped, *(DeckEntry(pack.address, pack.title, pack.origin()) for pack in imported_packs(root))]


def _title(path: Path) -> str:
    """A deck file's title, or what is wrong with it (a list shows every deck, even a broken one)."""
    try:
        return load_deck(path).title
    except UserError as error:
        return f"{path.stem}: {error}"


def check_deck_name(name: str) -> str:
    """`name` if it names a deck the way links and the CLI may: a shipped deck's name, or
    `<pack id>/<deck name>` for an imported one; never a path."""
    shipped, _, deck = name.partition("/") if isinstance(name, str) else ("", "", "")
    if not isinstance(name, str) or not (
        DECK_NAME.fullmatch(name) or (PACK_ID.fullmatch(shipped) and DECK_NAME.fullmatch(deck))
    ):
        raise UserError(
            f"{name!r} is not a deck name (a shipped deck's name: lower-case letters, digits, - and _; or an "
            "imported one's, pack-id/name)."
        )
    return name


def _deck_files(name: str, root: Path | None) -> tuple[Path, ImportedPack | None] | None:
    """(deck file, its pack if imported) of the deck `name`, or None when there is none."""
    if "/" in name:
        pack_id, _, deck = name.partition("/")
        try:
            pack = imported_pack(pack_id, root)
        except UserError:
            return None
        return (pack.folder / PACK_DECK, pack) if pack.deck == deck else None
    path = BUNDLED_DECKS / f"{name}.toml"
    return (path, None) if path.is_file() else None


def deck_version(name: str, root: Path | None = None) -> tuple[int, ...]:
    """What changes when the deck `name` is edited: the modification time and size of its
    file (a cache of parsed decks keys on it); empty for a name with no deck, which
    deck_by_name refuses."""
    found = _deck_files(check_deck_name(name), root)
    if found is None:
        return ()
    return found[0].stat().st_mtime_ns, found[0].stat().st_size


def deck_by_name(name: str, root: Path | None = None) -> Deck:
    """A shipped deck by name, or an imported one as `<pack id>/<deck name>` with its pins
    and its pack (never a path)."""
    found = _deck_files(check_deck_name(name), root)
    if found is None:
        raise UserError(f"There is no deck named {name!r}; decks here: {', '.join(deck_names(root))}.")
    path, pack = found
    deck = load_deck(path)
    if pack is None:
        return deck
    try:
        pins = read_pins(pack.folder / PACK_PINS)
    except (OSError, ValueError):
        raise UserError(
            f"The imported deck {name!r} has unreadable pins; remove its pack and unpack it again."
        ) from None
    return Deck(deck.title, deck.steps, pins, pack)


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
    return argument, deck, _deck_files(argument, root)[0].read_text(encoding="utf-8")
