"""Packs: a deck and everything its steps draw, in one zip file, to present on a machine
with no model, no activations and no network.

A pack holds manifest.json (format, deck name, the keys each run's results have here,
the sha256 of every other member), deck.toml, `sweeps/<key>/` (results, probes, record)
for every run the deck draws, and `views/<key>.json` for every measured step. Nothing
else: no model, no activations, no paths.

A pack is untrusted input from another machine. `unpack` checks everything before it
writes anything: member names from a fixed pattern (a name can never point outside the
cache), every member held to the cap of what it is while it is read (a deck to the deck
loader's cap, a results table to what a sweep of its record's config writes, a view to its
own), every key of the manifest to its format, every member against the manifest's
sha256, the deck parsed, every sweep's key recomputed from its record and its files
against their own checksums, every view against its key. Then the pack goes into a folder
of its own (core.store.imports), apart from what this machine computed: its results never
answer this machine's own lookups, only its own deck's (`<pack id>/<deck name>`), which
says so on every slide they draw, and nothing already in the cache is replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core import __version__
from core.config import Run, SweepConfig, from_dict
from core.errors import UserError
from core.experiments.cells import SweepResult
from core.experiments.sweep import extraction_record, load_sweep, sweep_key
from core.names import file_digest
from core.store.entries import digest, publish
from core.store.imports import KEY, PACK_DECK, PACK_PINS, PACK_RECORD, imported_folder, pack_id, read_pack, valid_pins
from core.store.sweeps import SWEEP_FILES, SweepStore
from core.store.views import MAX_VIEW_BYTES, ViewStore
from core.story.deck import DECK_NAME, MAX_DECK_BYTES, parse_deck, resolve_deck
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
MAX_RECORD_BYTES = 1024 * 1024  # a manifest or a run's record
MAX_ROW_BYTES = 1024  # a results row: about 260 bytes on the demo
MAX_HIDDEN = 16_384  # the widest hidden state of a model this lab would load


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
    members: dict[str, bytes] = {"deck.toml": text.encode("utf-8")}
    pins = {}
    for run in deck.runs():
        if results.sweep(run) is None:  # loads it, so a damaged entry is caught here, not on the other machine
            raise UserError(f"A run of deck {name!r} is missing from the cache.")
        store, activation_key, key = results.locate(run)
        pins[run_id(run)] = [activation_key, key]
        for file in SWEEP_FILES:
            members[f"sweeps/{key}/{file}"] = (store.path(key) / file).read_bytes()
        members[f"sweeps/{key}/info.json"] = _record_with_extraction(results, store, key, activation_key)
    for step in deck.steps:
        if step.measured:
            results.view(step)  # checked before it travels
            view_store, key = results.locate_view(step)
            members[f"views/{key}.json"] = view_store.path(key).read_bytes()
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


def _cap(member: str, records: dict[str, dict]) -> int:
    """The most bytes `member` may hold, by what it is: a deck the deck loader's cap, a view
    its own, a run's record 1 MB, its results table what a sweep of its config writes (a row
    per method, level of p and seed) and its probes what they can hold at the largest
    hidden size a model has (MAX_HIDDEN)."""
    if member == "deck.toml":
        return MAX_DECK_BYTES
    if member.startswith("views/"):
        return MAX_VIEW_BYTES
    if member.endswith("info.json"):
        return MAX_RECORD_BYTES
    config = records[member.split("/")[1]]["config"]
    rows = len(config["methods"]) * len(config["p_levels"]) * len(config["seeds"])
    if member.endswith("results.csv"):
        return 4096 + rows * MAX_ROW_BYTES
    return 65536 + rows * (5 * MAX_HIDDEN * 4 + 64) + 8 * int(config["n_test"])


def _read_members(path: Path) -> tuple[dict, dict[str, bytes], str]:
    """(manifest, members, sha256 of the file) of a pack: every name, size and digest
    checked, and every member held to the cap of what it is (_cap) while it is read."""
    if not path.is_file():
        raise UserError(f"Pack {path.name} does not exist.")
    if path.stat().st_size > MAX_PACK_BYTES:
        raise UserError(f"Pack {path.name} is over {MAX_PACK_BYTES // 1024 // 1024} MB.")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            if len(infos) > MAX_MEMBERS or len(infos) != len(archive.infolist()) or MANIFEST not in infos:
                raise UserError(f"{path.name} is not a pack (no manifest, repeated or too many members).")
            strange = [name for name in infos if name != MANIFEST and not MEMBER.fullmatch(name)]
            if strange:
                raise UserError(
                    f"{path.name} holds a member a pack never has ({strange[0][:80]!r}); nothing was imported."
                )
            if (
                any(info.file_size > MAX_MEMBER_BYTES for info in infos.values())
                or sum(info.file_size for info in infos.values()) > MAX_PACK_BYTES
            ):
                raise UserError(f"{path.name} unpacks to more than a pack may hold; nothing was imported.")

            def read(name: str, cap: int) -> bytes:
                with archive.open(infos[name]) as member:
                    data = member.read(min(cap, infos[name].file_size) + 1)
                if len(data) > cap:
                    raise UserError(
                        f"{path.name}: {name} is larger than a pack's {name.split('/')[-1]} may be; nothing was "
                        "imported."
                    )
                if len(data) != infos[name].file_size:
                    raise UserError(f"{path.name}: member {name} is not the size it declares; nothing was imported.")
                return data

            data = {MANIFEST: read(MANIFEST, MAX_RECORD_BYTES)}
            records = {}
            for name in sorted(infos, key=lambda name: not name.endswith("info.json")):  # records first
                if name == MANIFEST:
                    continue
                data[name] = read(name, _cap(name, records))
                if name.endswith("info.json"):
                    records[name.split("/")[1]] = _record(data[name], name.split("/")[1], path.name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as error:
        raise UserError(f"{path.name} is not a readable zip file ({error}).") from None
    manifest = _manifest(data.pop(MANIFEST), path.name)
    if set(manifest["members"]) != set(data):
        raise UserError(f"{path.name}: its manifest does not list exactly its members; nothing was imported.")
    bad = [name for name, raw in data.items() if _sha256(raw) != manifest["members"][name]]
    if bad:
        raise UserError(
            f"{path.name}: {bad[0]} does not match its checksum (damaged in transit?); nothing was imported."
        )
    return manifest, data, file_digest(path)


def _record(raw: bytes, key: str, where: str) -> dict:
    """A packed run's record, readable and naming a config; a UserError otherwise."""
    try:
        record = json.loads(raw)
        config = record["config"]
        if not all(isinstance(config[name], list) and config[name] for name in ("methods", "p_levels", "seeds")):
            raise ValueError
        int(config["n_test"])
        return record
    except (KeyError, ValueError, TypeError):
        raise UserError(f"{where}: the record of run {key[:12]} is unreadable; nothing was imported.") from None


def _manifest(raw: bytes, where: str) -> dict:
    """The manifest, every key held to its format before anything is written: the deck's
    name, each pin (a run id to an activation key and a sweep key, all sha256 hex) and each
    member's sha256."""
    try:
        manifest = json.loads(raw)
        if manifest["format"] != PACK_FORMAT:
            raise UserError(
                f"{where} is a pack of format {manifest['format']!r}; this version reads format {PACK_FORMAT}."
            )
        name, pins, members = manifest["name"], manifest["pins"], manifest["members"]
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{where} has an unreadable manifest; nothing was imported.") from None
    hexes = (
        valid_pins(pins)
        and isinstance(members, dict)
        and all(isinstance(sum_, str) and KEY.fullmatch(sum_) for sum_ in members.values())
    )
    if not isinstance(name, str) or not DECK_NAME.fullmatch(name) or not hexes:
        raise UserError(f"{where}: its manifest names a deck, a pin or a checksum out of format; nothing was imported.")
    return manifest


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
    """Import a pack into a folder of its own under `root`'s imported packs (see the
    module's docstring); returns its deck's address (`<pack id>/<deck name>`), the deck with
    its pins and pack, and what was imported. Nothing already in the cache is replaced: the
    same file imported twice is found, not written again."""
    path = Path(path)
    manifest, data, file_sha256 = _read_members(path)
    name, pins = manifest["name"], manifest["pins"]
    try:
        deck = parse_deck(data["deck.toml"].decode("utf-8"), f"{path.name}: deck.toml")
    except (KeyError, UnicodeDecodeError):
        raise UserError(f"{path.name} lacks its deck; nothing was imported.") from None
    sweeps: dict[str, dict[str, bytes]] = {}
    for member, raw in data.items():
        if member.startswith("sweeps/"):
            _, key, file = member.split("/")
            sweeps.setdefault(key, {})[file] = raw
    for key, files in sweeps.items():
        if set(files) != set(SWEEP_MEMBERS):
            raise UserError(f"{path.name}: run {key[:12]} is incomplete; nothing was imported.")
        _check_sweep_entry(key, files, path.name)
    if any(pin[1] not in sweeps for pin in pins.values()):
        raise UserError(f"{path.name}: its pins name runs it does not hold; nothing was imported.")
    views = {member[len("views/") : -len(".json")]: raw for member, raw in data.items() if member.startswith("views/")}
    for key, raw in views.items():
        try:
            ViewStore.check_raw(key, raw)
        except ValueError as error:
            raise UserError(f"{path.name}: step view {key[:12]} is damaged ({error}); nothing was imported.") from None
    absent = [run for run in deck.runs() if run_id(run) not in pins]
    if absent:
        raise UserError(f"{path.name} lacks the results of {len(absent)} of its deck's runs; nothing was imported.")

    identifier = pack_id(path.name, file_sha256)
    target = imported_folder(root) / identifier
    already = (target / PACK_RECORD).is_file()
    if not already:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-{identifier}-", dir=target.parent))
        try:
            for key, files in sweeps.items():
                (staging / "sweeps" / key).mkdir(parents=True)
                for file, raw in files.items():
                    (staging / "sweeps" / key / file).write_bytes(raw)
            for key, raw in views.items():
                (staging / "views").mkdir(exist_ok=True)
                (staging / "views" / f"{key}.json").write_bytes(raw)
            (staging / PACK_DECK).write_bytes(data["deck.toml"])
            (staging / PACK_PINS).write_text(json.dumps(pins, indent=1))
            record = {"deck": name, "title": deck.title, "file_name": path.name, "sha256": file_sha256,
                      "imported": time.time(), "library": manifest.get("library")}  # fmt: skip
            (staging / PACK_RECORD).write_text(json.dumps(record, indent=1, sort_keys=True))
            publish(staging, target, lambda _key: (target / PACK_RECORD).is_file())
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    imported = read_pack(target)
    for key, files in sweeps.items():  # every run loads where it now lives
        info = json.loads(files["info.json"])
        load_sweep(imported.sweeps, key, from_dict(SweepConfig, info["config"]), info["activation_key"])
    report = PackReport(name, len(sweeps), len(views), path.stat().st_size, identifier, already)
    return imported.address, Deck(deck.title, deck.steps, pins, imported), report
