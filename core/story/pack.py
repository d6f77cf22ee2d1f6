"""Packs: a deck and everything its steps draw, in one zip file, to present on a machine
with no model, no activations and no network.

A pack holds manifest.json (format, deck name, the keys each run's results have here,
the sha256 of every other member), deck.toml, `sweeps/<key>/` (results, probes, record)
for every run the deck draws, and `views/<key>.json` for every measured step. Nothing
else: no model, no activations, no paths.

`unpack` checks everything before it writes anything: member names from a fixed pattern
(a name can never point outside the cache), sizes capped before reading, every member
against the manifest's sha256, the deck parsed, every sweep's key recomputed from its
record and its files against their own checksums, every view against its key. Then each
entry is published into the cache atomically (an identical entry already there is kept)
and the deck saved under its name with its pins, so /present?deck=NAME draws from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core import __version__
from core.config import Run, SweepConfig, from_dict
from core.errors import UserError
from core.experiments.cells import SweepResult
from core.experiments.sweep import extraction_record, load_sweep, sweep_key
from core.store.entries import digest, publish
from core.store.sweeps import SWEEP_FILES, SweepStore
from core.store.views import ViewStore
from core.story.deck import check_deck_name, imported_decks_folder, parse_deck, resolve_deck
from core.story.model import Deck
from core.story.registry import compute, missing
from core.story.results import Results, run_id

PACK_FORMAT = 1
MAX_PACK_BYTES = 512 * 1024 * 1024
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_MEMBERS = 4096
SWEEP_MEMBERS = (*SWEEP_FILES, "info.json")
MEMBER = re.compile(
    r"deck\.toml|sweeps/[0-9a-f]{64}/(results\.csv|probes\.safetensors|info\.json)"
    r"|views/[0-9a-f]{64}\.json"
)
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PackReport:
    """What a pack holds: its deck's name, its runs and views, its size in bytes."""

    name: str
    runs: int
    views: int
    size_bytes: int


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
    results = Results(root, deck.pins)
    runs, views = missing(deck, results)
    if (runs or views) and run_one is None:
        raise UserError(
            f"Deck {name!r} lacks {len(runs)} run(s) and {len(views)} measured view(s) in the cache; "
            "compute them first."
        )
    if runs or views:
        compute(deck, results, run_one, status)
    members: dict[str, bytes] = {"deck.toml": text.encode("utf-8")}
    pins = {}
    for run in deck.runs():
        if results.sweep(run) is None:  # loads it, so a damaged entry is caught here, not on the other machine
            raise UserError(f"A run of deck {name!r} is missing from the cache.")
        activation_key, key = results.keys(run)
        pins[run_id(run)] = [activation_key, key]
        for file in SWEEP_FILES:
            members[f"sweeps/{key}/{file}"] = (results.sweeps.path(key) / file).read_bytes()
        members[f"sweeps/{key}/info.json"] = _record_with_extraction(results, key, activation_key)
    for step in deck.steps:
        if step.measured:
            results.view(step)  # checked before it travels
            key = results.view_key(step)
            members[f"views/{key}.json"] = results.views.path(key).read_bytes()
    manifest = {
        "format": PACK_FORMAT,
        "library": __version__,
        "name": name,
        "title": deck.title,
        "pins": pins,
        "members": {member: _sha256(data) for member, data in members.items()},
    }
    out = Path(out)
    if not out.resolve().parent.is_dir():
        raise UserError(f"--out: the folder for {out.name} does not exist.")
    handle, staging = tempfile.mkstemp(prefix=".pack-", suffix=".zip", dir=out.resolve().parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
            for member, data in members.items():
                archive.writestr(member, data)
        os.chmod(staging, 0o666 & ~_umask())
        os.replace(staging, out)
    finally:
        if os.path.exists(staging):
            os.unlink(staging)
    views_packed = sum(member.startswith("views/") for member in members)
    return PackReport(name, len(pins), views_packed, out.stat().st_size)


def _record_with_extraction(results: Results, key: str, activation_key: str) -> bytes:
    """A sweep's record, with what its activations were extracted from added from their
    metadata when the sweep was stored before records carried it (the other machine has
    no activations to ask)."""
    raw = (results.sweeps.path(key) / "info.json").read_bytes()
    info = json.loads(raw)
    if info.get("extraction") or not results.activations.has(activation_key):
        return raw
    info["extraction"] = extraction_record(results.activations.meta(activation_key))
    return json.dumps(info, indent=1, sort_keys=True).encode("utf-8")


def _read_members(path: Path) -> tuple[dict, dict[str, bytes]]:
    """(manifest, members) of a pack, every name, size and digest checked."""
    if not path.is_file():
        raise UserError(f"Pack {path.name} does not exist.")
    if path.stat().st_size > MAX_PACK_BYTES:
        raise UserError(f"Pack {path.name} is over {MAX_PACK_BYTES // 1024 // 1024} MB.")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if len(infos) > MAX_MEMBERS or len(set(names)) != len(names) or MANIFEST not in names:
                raise UserError(f"{path.name} is not a pack (no manifest, repeated or too many members).")
            strange = [name for name in names if name != MANIFEST and not MEMBER.fullmatch(name)]
            if strange:
                raise UserError(
                    f"{path.name} holds a member a pack never has ({strange[0][:80]!r}); nothing was imported."
                )
            if (
                any(info.file_size > MAX_MEMBER_BYTES for info in infos)
                or sum(info.file_size for info in infos) > MAX_PACK_BYTES
            ):
                raise UserError(f"{path.name} unpacks to more than a pack may hold; nothing was imported.")
            data = {}
            for info in infos:
                with archive.open(info) as member:
                    data[info.filename] = member.read(info.file_size + 1)
                if len(data[info.filename]) != info.file_size:
                    raise UserError(f"{path.name}: member {info.filename} is not the size it declares.")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as error:
        raise UserError(f"{path.name} is not a readable zip file ({error}).") from None
    try:
        manifest = json.loads(data.pop(MANIFEST))
        declared = manifest["members"]
        if manifest["format"] != PACK_FORMAT:
            raise UserError(
                f"{path.name} is a pack of format {manifest['format']!r}; this version reads format {PACK_FORMAT}."
            )
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{path.name} has an unreadable manifest; nothing was imported.") from None
    if not isinstance(declared, dict) or set(declared) != set(data):
        raise UserError(f"{path.name}: its manifest does not list exactly its members; nothing was imported.")
    bad = [name for name, raw in data.items() if _sha256(raw) != declared[name]]
    if bad:
        raise UserError(
            f"{path.name}: {bad[0]} does not match its checksum (damaged in transit?); nothing was imported."
        )
    return manifest, data


def _check_sweep_entry(key: str, files: dict[str, bytes], where: str) -> None:
    """A packed sweep's record names its key, and its files match their checksums."""
    try:
        info = json.loads(files["info.json"])
        config = from_dict(SweepConfig, info["config"])
        recomputed = sweep_key(info["activation_key"], config)
        sums = info["checksums"]
    except (KeyError, ValueError, TypeError):
        raise UserError(f"{where}: the record of run {key[:12]} is unreadable; nothing was imported.") from None
    if recomputed != key or info.get("key") != key:
        raise UserError(
            f"{where}: run {key[:12]} does not match its record (made by another version of this "
            "tool, or altered); nothing was imported."
        )
    if any(digest(files[name]) != sums.get(name) for name in SWEEP_FILES):
        raise UserError(f"{where}: run {key[:12]} does not match its own checksums; nothing was imported.")


def unpack(path: Path, root: Path | None = None) -> tuple[str, Deck, PackReport]:
    """Import a pack into the cache under `root` (see the module's docstring); returns the
    deck's name, the deck with its pins, and what was imported."""
    path = Path(path)
    manifest, data = _read_members(path)
    try:
        name = check_deck_name(manifest["name"])
        pins = manifest["pins"]
        deck = parse_deck(data["deck.toml"].decode("utf-8"), f"{path.name}: deck.toml")
    except (KeyError, UnicodeDecodeError):
        raise UserError(f"{path.name} lacks its deck or its name; nothing was imported.") from None
    sweeps: dict[str, dict[str, bytes]] = {}
    for member, raw in data.items():
        if member.startswith("sweeps/"):
            _, key, file = member.split("/")
            sweeps.setdefault(key, {})[file] = raw
    for key, files in sweeps.items():
        if set(files) != set(SWEEP_MEMBERS):
            raise UserError(f"{path.name}: run {key[:12]} is incomplete; nothing was imported.")
        _check_sweep_entry(key, files, path.name)
    if not isinstance(pins, dict) or any(
        not isinstance(pin, list) or len(pin) != 2 or pin[1] not in sweeps for pin in pins.values()
    ):
        raise UserError(f"{path.name}: its pins name runs it does not hold; nothing was imported.")
    pinned = Deck(deck.title, deck.steps, pins)
    views = {member[len("views/") : -len(".json")]: raw for member, raw in data.items() if member.startswith("views/")}
    for key, raw in views.items():
        try:
            ViewStore.check_raw(key, raw)
        except ValueError as error:
            raise UserError(f"{path.name}: step view {key[:12]} is damaged ({error}); nothing was imported.") from None
    results = Results(root, pins)
    absent = [run for run in pinned.runs() if results.keys(run)[1] not in sweeps]
    if absent:
        raise UserError(f"{path.name} lacks the results of {len(absent)} of its deck's runs; nothing was imported.")

    store = SweepStore(root)
    store.root.mkdir(parents=True, exist_ok=True)
    for key, files in sweeps.items():
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=store.root))
        for file, raw in files.items():
            (staging / file).write_bytes(raw)
        publish(staging, store.path(key), store.has)
        info = json.loads(files["info.json"])
        load_sweep(store, key, from_dict(SweepConfig, info["config"]), info["activation_key"])
    for key, raw in views.items():
        results.views.write_raw(key, raw)
    folder = imported_decks_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, raw in ((".pins.json", json.dumps(pins, indent=1).encode()), (".toml", data["deck.toml"])):
        handle, staging = tempfile.mkstemp(prefix=".tmp-deck-", dir=folder)
        with os.fdopen(handle, "wb") as out:
            out.write(raw)
        os.replace(staging, folder / f"{name}{suffix}")
    return name, pinned, PackReport(name, len(sweeps), len(views), path.stat().st_size)
