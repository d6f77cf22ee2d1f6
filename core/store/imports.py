"""Imported packs, kept apart from what this machine computed: each pack unpacks into a
folder of its own, `<cache>/imported/<pack id>/`, with its sweeps (a SweepStore), its
measured views (a ViewStore), its deck and pins, and pack.json (where it came from: the
pack's file name and sha256, its deck, when it was imported). Nothing here is ever read
by a lookup of this machine's own results, and removing a pack removes its folder and
nothing else.

A pack's id is its file's name and the first 8 hex digits of its sha256
(`talk-1a2b3c4d`), or more of them (16, 32, all 64) when a different pack already holds the
shorter id: a pack is the same pack only if its whole sha256 is, so the same file imports
once and two different packs never share a folder. Its deck is addressed as
`<pack id>/<deck name>`, apart from the shipped decks. Views measured here from a pack's
sweeps are kept in its folder too, so removing it removes everything derived from it.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import UserError
from core.paths import cache_root
from core.store.schema import HEX_KEY, read_json
from core.store.sweeps import SweepStore
from core.store.views import ViewStore

IMPORTED = "imported"
PACK_RECORD = "pack.json"
PACK_DECK = "deck.toml"
PACK_PINS = "pins.json"
REMOVE_OPTION = "--remove"  # the option of `python -m core packs` that removes a pack, named by messages too


def remove_command(pack_id: str) -> str:
    """The command that removes an imported pack and everything it brought."""
    return f"python -m core packs {REMOVE_OPTION} {pack_id}"


ID_DIGITS = (8, 16, 32, 64)  # how many hex digits of its sha256 a pack's id takes: the fewest no other pack holds
PACK_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}-(?:" + "|".join(f"[0-9a-f]{{{n}}}" for n in ID_DIGITS) + ")")
MAX_PINS = 4096
# A deck's pins: each run's id -> [activation key, sweep key] where the pack was made.
PINS_SCHEMA = {
    "type": "object",
    "maxProperties": MAX_PINS,
    "propertyNames": HEX_KEY,
    "additionalProperties": {"type": "array", "minItems": 2, "maxItems": 2, "items": HEX_KEY},
}
RECORD_SCHEMA = {
    "type": "object",
    "required": ["deck", "title", "file_name", "sha256", "imported"],
    "properties": {
        "deck": {"type": "string"},
        "title": {"type": "string"},
        "file_name": {"type": "string"},
        "sha256": HEX_KEY,
        "imported": {"type": "number"},
    },
}


def read_pins(path: Path) -> dict[str, list[str]]:
    """The pins in the file `path` (ValueError or OSError when they are not pins)."""
    return read_json(path.read_bytes(), PINS_SCHEMA)


@dataclass(frozen=True)
class ImportedPack:
    """One imported pack: its id, its deck's name and title, the pack file's name and
    sha256, when it was imported, and its folder (its sweeps and views are stores there)."""

    id: str
    deck: str
    title: str
    file_name: str
    sha256: str
    imported: float
    folder: Path

    @property
    def sweeps(self) -> SweepStore:
        return SweepStore(self.folder)

    @property
    def views(self) -> ViewStore:
        return ViewStore(self.folder)

    @property
    def address(self) -> str:
        """How its deck is named: `<pack id>/<deck name>`."""
        return f"{self.id}/{self.deck}"

    def origin(self) -> str:
        """Where its results came from, as a slide and the Runs library say it."""
        return f"from pack {self.id}, imported {time.strftime('%Y-%m-%d', time.localtime(self.imported))}"


def imported_folder(root: Path | None = None) -> Path:
    """Where imported packs live: `<cache>/imported`."""
    return (root or cache_root()) / IMPORTED


def pack_id(file_name: str, sha256: str, digits: int = ID_DIGITS[0]) -> str:
    """The id of a pack file: its name (lower case, letters, digits, - and _) and the first
    `digits` hex digits of its sha256."""
    stem = re.sub(r"[^a-z0-9_-]+", "-", Path(file_name).stem.lower()).strip("-_")[:40] or "pack"
    return f"{stem}-{sha256[:digits]}"


def free_pack_id(file_name: str, sha256: str, root: Path | None = None) -> tuple[str, bool]:
    """(id, already) for the pack file of `sha256`: the id with the fewest digits of its
    sha256 (ID_DIGITS) that no other pack holds, and whether this very pack (the same whole
    sha256) holds it already. Two packs whose short ids collide get different ids."""
    for digits in ID_DIGITS:
        identifier = pack_id(file_name, sha256, digits)
        folder = imported_folder(root) / identifier
        if not folder.exists():
            return identifier, False
        try:
            if read_pack(folder).sha256 == sha256:
                return identifier, True
        except UserError:
            continue  # a damaged folder under that id: not this pack
    raise UserError(f"Every id of pack {file_name} is taken by another pack; remove one (python -m core packs).")


def read_pack(folder: Path) -> ImportedPack:
    """The pack in `folder`, from its record; a UserError if the record is unreadable."""
    try:
        record = read_json((folder / PACK_RECORD).read_bytes(), RECORD_SCHEMA)
        return ImportedPack(
            folder.name,
            str(record["deck"]),
            str(record["title"]),
            str(record["file_name"]),
            str(record["sha256"]),
            float(record["imported"]),
            folder,
        )
    except (OSError, ValueError):
        raise UserError(
            f"The imported pack {folder.name} has an unreadable record; remove it and unpack it again."
        ) from None


def imported_packs(root: Path | None = None) -> list[ImportedPack]:
    """Every imported pack with a readable record, oldest first."""
    folder = imported_folder(root)
    if not folder.is_dir():
        return []
    packs = []
    for path in folder.iterdir():
        if PACK_ID.fullmatch(path.name) and (path / PACK_RECORD).is_file():
            try:
                packs.append(read_pack(path))
            except UserError:
                continue
    return sorted(packs, key=lambda pack: pack.imported)


def imported_pack(identifier: str, root: Path | None = None) -> ImportedPack:
    """The imported pack `identifier` (a pack id, never a path), or a UserError."""
    if not isinstance(identifier, str) or not PACK_ID.fullmatch(identifier):
        raise UserError(
            f"{identifier!r} is not a pack id (a name and 8 or more hex digits, as `python -m core packs` lists)."
        )
    folder = imported_folder(root) / identifier
    if not (folder / PACK_RECORD).is_file():
        raise UserError(f"There is no imported pack {identifier!r}; `python -m core packs` lists them.")
    return read_pack(folder)


def remove_pack(identifier: str, root: Path | None = None) -> ImportedPack:
    """Remove an imported pack: its folder, with every result and deck it brought, and
    nothing else."""
    pack = imported_pack(identifier, root)
    shutil.rmtree(pack.folder)
    return pack
