"""Imported packs, kept apart from what this machine computed: each pack unpacks into a
folder of its own, `<cache>/imported/<pack id>/`, with its sweeps (a SweepStore), its
measured views (a ViewStore), its deck and pins, and pack.json (where it came from: the
pack's file name and sha256, its deck, when it was imported). Nothing here is ever read
by a lookup of this machine's own results, and removing a pack removes its folder and
nothing else.

A pack's id is its file's name and the first 8 hex digits of its sha256
(`talk-1a2b3c4d`), so the same file imports once and two different packs never share a
folder; its deck is addressed as `<pack id>/<deck name>`, apart from the shipped decks.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import UserError
from core.paths import cache_root
from core.store.sweeps import SweepStore
from core.store.views import ViewStore

IMPORTED = "imported"
PACK_RECORD = "pack.json"
PACK_DECK = "deck.toml"
PACK_PINS = "pins.json"
PACK_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}-[0-9a-f]{8}")
KEY = re.compile(r"[0-9a-f]{64}")  # a cache key, a run id or a sha256, as a pack's pins and checksums hold them


def valid_pins(pins: object) -> bool:
    """Whether `pins` maps run ids to [activation key, sweep key], every one a cache key."""
    return isinstance(pins, dict) and all(
        KEY.fullmatch(str(run)) and isinstance(pin, list) and len(pin) == 2 and all(KEY.fullmatch(str(k)) for k in pin)
        for run, pin in pins.items()
    )


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


def pack_id(file_name: str, sha256: str) -> str:
    """The id of a pack file: its name (lower case, letters, digits, - and _) and the first 8
    hex digits of its sha256."""
    stem = re.sub(r"[^a-z0-9_-]+", "-", Path(file_name).stem.lower()).strip("-_")[:40] or "pack"
    return f"{stem}-{sha256[:8]}"


def read_pack(folder: Path) -> ImportedPack:
    """The pack in `folder`, from its record; a UserError if the record is unreadable."""
    try:
        record = json.loads((folder / PACK_RECORD).read_text())
        return ImportedPack(
            folder.name,
            str(record["deck"]),
            str(record["title"]),
            str(record["file_name"]),
            str(record["sha256"]),
            float(record["imported"]),
            folder,
        )
    except (OSError, ValueError, KeyError, TypeError):
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
        raise UserError(f"{identifier!r} is not a pack id (a name and 8 hex digits, as `python -m core packs` lists).")
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
