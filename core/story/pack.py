"""Packs: a deck and everything its steps draw, in one zip file, to present on a machine
with no model, no activations and no network.

A pack holds manifest.json (format, deck name, the keys each run's results have here,
the sha256 of every other member), deck.toml, `sweeps/<key>/` (results, probes, record)
for every run the deck draws, and `views/<key>.json` for every measured step. Nothing
else: no model, no activations, no paths.

A pack is untrusted input from another machine. `unpack` checks everything before it
writes anything (core.story.pack_checks: every member held to the lab's own cap for what it
is while it streams, and to the schema of what it claims to be), then writes it into a
folder of its own (core.store.imports), apart from what this machine computed: its results
never answer this machine's own lookups, only its own deck's (`<pack id>/<deck name>`),
which says so on every slide they draw, and nothing already in the cache is replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core import __version__
from core.errors import UserError
from core.experiments.cells import SweepResult
from core.experiments.sweep import extraction_record
from core.names import file_digest
from core.settings.sweep import Run
from core.store.imports import ID_DIGITS, PACK_PINS, PACK_RECORD, free_pack_id, imported_folder, read_pack
from core.store.sweeps import SWEEP_FILES, SweepStore
from core.story.deck import resolve_deck
from core.story.model import Deck
from core.story.pack_checks import (
    CAPS,
    MANIFEST,
    PACK_FORMAT,
    ZIP_ERRORS,
    CheckedPack,
    blocks,
    check_pack,
    kind_of,
    members,
    refusal,
)
from core.story.registry import compute, missing
from core.story.results import Results, run_id


@dataclass(frozen=True)
class PackReport:
    """What a pack holds: its deck's name, its runs and views, its size in bytes; after
    unpack, the pack's id and whether it was there already."""

    name: str
    runs: int
    views: int
    size_bytes: int
    pack: str = ""  # the id it was imported under (unpack)
    already: bool = False  # that file had been imported before: nothing was written


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(
    argument: str | None,
    out: Path,
    root: Path | None = None,
    run_one: Callable[[Run], SweepResult] | None = None,
    status: Callable[[str], None] = lambda message: None,
) -> PackReport:
    """Write the deck `argument` (a deck file or a deck's name; the default deck when
    None) and everything its steps draw into the zip `out`. Missing results are computed
    first with `run_one` (the caller's pipeline); without it they are an error."""
    name, deck, text = resolve_deck(argument, root)
    results = Results.of_deck(deck, root)
    runs, views = missing(deck, results)
    if (runs or views) and run_one is None:
        raise UserError(
            f"Deck {name!r} lacks {len(runs)} run(s) and {len(views)} measured view(s) in the cache; "
            "compute them first."
        )
    if runs or views:
        compute(deck, results, run_one, status)
    contents: dict[str, bytes] = {"deck.toml": text.encode("utf-8")}
    pins = {}
    for run in deck.runs():
        if results.sweep(run) is None:  # loads it, so a damaged entry is caught here, not on the other machine
            raise UserError(f"A run of deck {name!r} is missing from the cache.")
        found = results.locate(run)
        pins[run_id(run)] = [found.activations, found.key]
        for file in SWEEP_FILES:
            contents[f"sweeps/{found.key}/{file}"] = (found.store.path(found.key) / file).read_bytes()
        contents[f"sweeps/{found.key}/info.json"] = _record_with_extraction(
            results, found.store, found.key, found.activations
        )
    for step in deck.steps:
        if step.measured:
            results.view(step)  # checked before it travels
            found = results.locate_view(step)
            contents[f"views/{found.key}.json"] = found.store.path(found.key).read_bytes()
    manifest = {
        "format": PACK_FORMAT,
        "library": __version__,
        "name": name,
        "title": deck.title,
        "pins": pins,
        "members": {member: _sha256(data) for member, data in contents.items()},
    }
    out = Path(out)
    if not out.resolve().parent.is_dir():
        raise UserError(f"The folder for {out.name} does not exist.")
    handle, staging = tempfile.mkstemp(prefix=".pack-", suffix=".zip", dir=out.resolve().parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
            for member, data in contents.items():
                archive.writestr(member, data)
        os.chmod(staging, 0o666 & ~_umask())
        os.replace(staging, out)
    finally:
        if os.path.exists(staging):
            os.unlink(staging)
    views_packed = sum(member.startswith("views/") for member in contents)
    return PackReport(name, len(pins), views_packed, out.stat().st_size)


def _record_with_extraction(results: Results, store: SweepStore, key: str, activation_key: str) -> bytes:
    """A sweep's record, with what its activations were extracted from added from their
    metadata when the sweep was stored before records carried it (the other machine has
    no activations to ask)."""
    raw = (store.path(key) / "info.json").read_bytes()
    info = json.loads(raw)
    if info.get("extraction") or not results.activations.has(activation_key):
        return raw
    info["extraction"] = extraction_record(results.activations.meta(activation_key))
    return json.dumps(info, indent=1, sort_keys=True).encode("utf-8")


def unpack(path: Path, root: Path | None = None) -> tuple[str, Deck, PackReport]:
    """Import a pack into a folder of its own under `root`'s imported packs (see the
    module's docstring); returns its deck's address (`<pack id>/<deck name>`), the deck with
    its pins and pack, and what was imported. Everything is checked before anything is
    written (core.story.pack_checks); nothing already in the cache is replaced: the same
    file (the same whole sha256) imported twice is found, not written again, and a different
    pack whose short id collides gets a longer one."""
    path = Path(path)
    checked = check_pack(path)
    file_sha256 = file_digest(path)
    name, pins = checked.manifest["name"], checked.manifest["pins"]
    identifier, already = free_pack_id(path.name, file_sha256, root)
    if not already:
        identifier, already = _write_pack(path, checked, file_sha256, root)
    imported = read_pack(imported_folder(root) / identifier)
    report = PackReport(name, len(checked.records), checked.views, path.stat().st_size, identifier, already)
    return imported.address, Deck(checked.deck.title, checked.deck.steps, pins, imported), report


def _write_pack(path: Path, checked: CheckedPack, file_sha256: str, root: Path | None) -> tuple[str, bool]:
    """Write the checked pack into a staging folder beside the imported packs, then rename
    it to the free id of its sha256 (another pack may claim an id meanwhile: then the next
    is taken). Returns (id, whether this same pack had been imported meanwhile)."""
    folder = imported_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-pack-", dir=folder))
    try:
        _write_members(path, checked.digests, staging)
        (staging / PACK_PINS).write_text(json.dumps(checked.manifest["pins"], indent=1))
        record = {
            "deck": checked.manifest["name"],
            "title": checked.deck.title,
            "file_name": path.name,
            "sha256": file_sha256,
            "imported": time.time(),
            "library": checked.manifest.get("library"),
        }
        (staging / PACK_RECORD).write_text(json.dumps(record, indent=1, sort_keys=True))
        for _attempt in ID_DIGITS:
            identifier, already = free_pack_id(path.name, file_sha256, root)
            if already:
                return identifier, True
            try:
                staging.rename(folder / identifier)
                return identifier, False
            except OSError:
                if not (folder / identifier).exists():
                    raise
        raise UserError(f"{path.name}: every id it could take was taken meanwhile; nothing was imported.")
    except ZIP_ERRORS as error:
        reason = getattr(error, "strerror", None) or str(error)[:120]
        raise UserError(f"{path.name} could not be imported ({reason}); nothing was imported.") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_members(path: Path, digests: dict[str, str], staging: Path) -> None:
    """Write every member of the checked pack `path` under `staging`, at the path its name
    gives (names are checked against a fixed pattern), streamed in blocks, each checked
    against its sha256 again as it is written (the file could have changed since it was read)."""
    with zipfile.ZipFile(path) as archive:
        infos = members(archive, path.name)
        for member, expected in digests.items():
            target = staging / member
            target.parent.mkdir(parents=True, exist_ok=True)
            hasher = hashlib.sha256()
            with open(target, "wb") as out:
                for block in blocks(archive, infos[member], CAPS[kind_of(member)], path.name):
                    hasher.update(block)
                    out.write(block)
            if hasher.hexdigest() != expected:
                raise refusal(path.name, f"{member} changed while it was imported")
