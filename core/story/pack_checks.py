"""The border a pack crosses before anything of it is written: every member held to the lab's
own cap for what it is while it streams out of the zip (never to a size the pack states),
its sha256 against the manifest's, and its content against the schema of what it claims to
be: the manifest and each run's record as JSON Schemas, each results table as the table its
run writes (core.experiments.sweep.check_results), each probes file by its header and the
cells it holds (core.experiments.cells), each view as the tables its step type measures,
the deck as a deck. No member is held in memory whole beyond its kind's cap (a probes file
never: it is read in blocks), and a failure is one line naming the member.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xxhash

from core.config import ExtractConfig, from_dict
from core.errors import UserError
from core.experiments.cells import check_probe_cells, check_probe_layout
from core.experiments.sweep import RECORD_SCHEMA, check_results, sweep_key
from core.probes import METHOD_IDS
from core.settings.sweep import SweepConfig
from core.settings.validate import MAX_P_LEVELS, MAX_SEEDS, check_extract, check_sweep
from core.store.imports import PINS_SCHEMA
from core.store.schema import HEX_KEY, read_json, validate
from core.store.sweeps import SWEEP_FILES
from core.store.tensor_stream import TensorStream
from core.store.views import MAX_VIEW_BYTES, ViewStore
from core.story.deck import DECK_NAME, MAX_DECK_BYTES, parse_deck
from core.story.model import Deck
from core.story.registry import STEP_TYPES
from core.story.results import VIEW_REVISION, run_id

PACK_FORMAT = 1
MANIFEST = "manifest.json"
MEMBER = re.compile(
    r"deck\.toml|sweeps/[0-9a-f]{64}/(results\.csv|probes\.safetensors|info\.json)"
    r"|views/[0-9a-f]{64}\.json"
)
SWEEP_MEMBERS = (*SWEEP_FILES, "info.json")
MAX_PACK_BYTES = 512 * 1024 * 1024  # the pack file, and everything in it unpacked
MAX_MEMBER_BYTES = 256 * 1024 * 1024  # any one member
MAX_MEMBERS = 4096
MAX_ROW_BYTES = 1024  # a results row: about 260 bytes on the demo
# The most rows a run within the settings' bounds writes: every method, at the most levels
# of p and seeds a run may have.
MAX_RESULT_ROWS = len(METHOD_IDS) * MAX_P_LEVELS * MAX_SEEDS
# The lab's own cap on each kind of member, whatever the pack says of it.
CAPS = {
    "manifest": 1024 * 1024,
    "deck": MAX_DECK_BYTES,
    "record": 64 * 1024,
    "results": 4096 + MAX_RESULT_ROWS * MAX_ROW_BYTES,
    "probes": MAX_MEMBER_BYTES,
    "view": MAX_VIEW_BYTES,
}
# A member that unpacks to more than this many times its compressed size (and over 1 MB) is
# a zip bomb: the lab's own members compress about 1.1x (probes) to 10x (tables).
MAX_RATIO, RATIO_FLOOR = 200, 1024 * 1024
BLOCK = 1024 * 1024
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, zlib.error,
              lzma.LZMAError, OSError)  # fmt: skip

MANIFEST_SCHEMA = {
    "type": "object",
    "required": ["format", "name", "pins", "members"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": PACK_FORMAT},
        "library": {"type": "string", "maxLength": 40},
        "name": {"type": "string", "pattern": f"^(?:{DECK_NAME.pattern})$"},
        "title": {"type": "string", "maxLength": 2000},
        "pins": PINS_SCHEMA,
        "members": {
            "type": "object",
            "maxProperties": MAX_MEMBERS,
            "propertyNames": {"pattern": f"^(?:{MEMBER.pattern})$"},
            "additionalProperties": HEX_KEY,
        },
    },
}


def kind_of(member: str) -> str:
    """What a (pattern-checked) member is: manifest, deck, record, results, probes or view."""
    if member in (MANIFEST, "deck.toml"):
        return "manifest" if member == MANIFEST else "deck"
    if member.startswith("views/"):
        return "view"
    return {"info.json": "record", "results.csv": "results", "probes.safetensors": "probes"}[member.split("/")[-1]]


@dataclass
class CheckedPack:
    """A pack that passed every check: its manifest, deck, the text of its deck, each run's
    record, the sha256 of each member (what it is written against), and its file's sha256."""

    manifest: dict[str, Any]
    deck: Deck
    deck_text: bytes
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    views: int = 0


def refusal(where: str, what: str) -> UserError:
    """The one line a refused pack gets (a key in it shortened to its first 12 hex digits)."""
    what = re.sub(r"[0-9a-f]{64}", lambda key: key.group()[:12] + "…", what)
    return UserError(f"{where}: {what}; nothing was imported.")


def members(archive: zipfile.ZipFile, where: str) -> dict[str, zipfile.ZipInfo]:
    """The members of a pack by name, checked before any is read: names from the fixed
    pattern (never a path out of the cache), none twice, at most MAX_MEMBERS, each within
    its kind's cap and all within MAX_PACK_BYTES as the zip declares them."""
    infos = {info.filename: info for info in archive.infolist()}
    if len(infos) > MAX_MEMBERS or len(infos) != len(archive.infolist()) or MANIFEST not in infos:
        raise UserError(f"{where} is not a pack (no manifest, repeated or too many members).")
    strange = [name for name in infos if name != MANIFEST and not MEMBER.fullmatch(name)]
    if strange:
        raise refusal(where, f"it holds a member a pack never has ({strange[0][:80]!r})")
    total = sum(info.file_size for info in infos.values())
    if any(info.file_size > min(MAX_MEMBER_BYTES, CAPS[kind_of(name)]) for name, info in infos.items()) or (
        total > MAX_PACK_BYTES
    ):
        raise refusal(where, "it unpacks to more than a pack may hold")
    return infos


def blocks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, where: str) -> Iterator[bytes]:
    """A member's bytes in blocks of BLOCK, refused as soon as they pass `cap` or unpack to
    more than MAX_RATIO times their compressed size; never more than a block in memory."""
    what = f"{info.filename} is larger than a pack's {kind_of(info.filename)} may be"
    if info.file_size > cap:
        raise refusal(where, what)
    read = 0
    with archive.open(info) as handle:
        while block := handle.read(BLOCK):
            read += len(block)
            if read > cap:
                raise refusal(where, what)
            if read > RATIO_FLOOR and read > MAX_RATIO * max(info.compress_size, 1):
                raise refusal(where, f"{info.filename} unpacks to over {MAX_RATIO} times its packed size")
            yield block
    if read != info.file_size:
        raise refusal(where, f"member {info.filename} is not the size it declares")


def read_member(archive, infos, name: str, cap: int, where: str, digests: dict[str, str]) -> bytes:
    """A small member whole (at most `cap` bytes), its sha256 checked against `digests`."""
    data = b"".join(blocks(archive, infos[name], cap, where))
    if hashlib.sha256(data).hexdigest() != digests[name]:
        raise refusal(where, f"{name} does not match its checksum (damaged in transit?)")
    return data


def check_manifest(raw: bytes, where: str) -> dict[str, Any]:
    """The manifest, every key held to its format before anything else is read."""
    try:
        manifest = read_json(raw, {"type": "object", "required": ["format"]})
    except ValueError as error:
        raise refusal(where, f"its manifest is unreadable ({error})") from None
    if manifest["format"] != PACK_FORMAT:
        raise UserError(
            f"{where} is a pack of format {str(manifest['format'])[:20]!r}; this version reads format {PACK_FORMAT}."
        )
    try:
        validate(manifest, MANIFEST_SCHEMA)
    except ValueError as error:
        raise refusal(where, f"its manifest names a deck, a pin or a checksum out of format ({error})") from None
    return manifest


def check_record(raw: bytes, key: str, where: str) -> dict[str, Any]:
    """A run's record: its schema, its config a sweep this lab would run (the settings'
    bounds), what it was extracted from an extraction it would run, and its key the one its
    config and activations give."""
    try:
        record = read_json(raw, RECORD_SCHEMA)
        config = from_dict(SweepConfig, record["config"])
        check_sweep(config)
        extraction = record.get("extraction", {}).get("config")
        if extraction is not None:
            check_extract(from_dict(ExtractConfig, extraction))
        hash(config)  # a config is a cache key on the pages: nothing unhashable inside
    except (ValueError, TypeError, AttributeError, UserError) as error:
        raise refusal(where, f"the record of run {key[:12]} is unreadable ({str(error)[:160]})") from None
    if sweep_key(record["activation_key"], config) != key or record["key"] != key:
        raise refusal(
            where, f"run {key[:12]} does not match its record (made by another version of this tool, or altered)"
        )
    record["config"] = config
    return record


def check_results_member(data: bytes, record: dict[str, Any], where: str, name: str) -> None:
    """A results table: its checksum in its record, then the table its run writes."""
    if xxhash.xxh3_128_hexdigest(data) != record["checksums"]["results.csv"]:
        raise refusal(where, f"run {record['key'][:12]} does not match its own checksums")
    try:
        table = pd.read_csv(io.BytesIO(data))
        check_results(table, record["config"], record["activation_key"])
    except (ValueError, TypeError, OverflowError) as error:
        raise refusal(where, f"{name} is not the results of its run ({str(error)[:160]})") from None


def check_probes_member(archive, info, record: dict[str, Any], where: str, digests: dict[str, str]) -> None:
    """A probes file, streamed: its header the layout of what its run trains (and so its exact
    size), its cells and test split those of its run, its checksums those of the manifest and
    its record; nothing of it is kept."""
    config = record["config"]

    def wanted(layout) -> tuple[str, ...]:
        check_probe_layout(layout, config)
        return ("test_indices", *(f"{method}.cells" for method in config.methods))

    stream, sha, fast = TensorStream(wanted), hashlib.sha256(), xxhash.xxh3_128()
    try:
        for block in blocks(archive, info, CAPS["probes"], where):
            sha.update(block)
            fast.update(block)
            stream.update(block)
        kept = stream.finish()
        check_probe_cells(kept, kept["test_indices"], config)
    except ValueError as error:
        raise refusal(where, f"{info.filename} is not the probes of its run ({str(error)[:160]})") from None
    if sha.hexdigest() != digests[info.filename] or fast.hexdigest() != record["checksums"]["probes.safetensors"]:
        raise refusal(where, f"{info.filename} does not match its checksum (damaged in transit?)")


def check_view_member(data: bytes, key: str, sweeps: set[str], where: str) -> None:
    """A measured view: a view file under its key, of a step type that measures, of this
    version's views, measured from one of the pack's runs, holding the tables its type measures."""
    try:
        view = ViewStore.read_raw(key, data)
        identity = view["identity"]
        spec = STEP_TYPES.get(identity["type"])
        if spec is None or spec.measure is None:
            raise ValueError(f"no step type measures a view of type {identity['type'][:40]!r}")
        if identity["revision"] != VIEW_REVISION or identity["sweep"] not in sweeps:
            raise ValueError("it was not measured from one of the pack's runs by this version")
        ViewStore.view_tables(view, spec.view_tables)
    except ValueError as error:
        raise refusal(where, f"step view {key[:12]} is damaged ({str(error)[:160]})") from None


def check_pack(path: Path) -> CheckedPack:
    """Read and check every member of the pack `path` (see the module's docstring) and
    return what it holds; a UserError of one line, with nothing written, at the first
    thing that fails."""
    where = path.name
    if not path.is_file():
        raise UserError(f"Pack {path.name} does not exist.")
    if path.stat().st_size > MAX_PACK_BYTES:
        raise UserError(f"Pack {path.name} is over {MAX_PACK_BYTES // 1024 // 1024} MB.")
    try:
        with zipfile.ZipFile(path) as archive:
            return _check_members(archive, members(archive, where), where)
    except ZIP_ERRORS as error:
        raise UserError(f"{where} is not a readable zip file ({str(error)[:120]}).") from None


def _check_members(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], where: str) -> CheckedPack:
    manifest = check_manifest(b"".join(blocks(archive, infos[MANIFEST], CAPS["manifest"], where)), where)
    digests = manifest["members"]
    if set(digests) != set(infos) - {MANIFEST}:
        raise refusal(where, "its manifest does not list exactly its members")
    sweeps: dict[str, set[str]] = {}
    for name in digests:
        if name.startswith("sweeps/"):
            sweeps.setdefault(name.split("/")[1], set()).add(name.split("/")[2])
    incomplete = [key for key, files in sweeps.items() if files != set(SWEEP_MEMBERS)]
    if incomplete:
        raise refusal(where, f"run {incomplete[0][:12]} is incomplete")
    if "deck.toml" not in digests:
        raise UserError(f"{where} lacks its deck; nothing was imported.")
    records = {}
    for key in sweeps:
        raw = read_member(archive, infos, f"sweeps/{key}/info.json", CAPS["record"], where, digests)
        records[key] = check_record(raw, key, where)
    deck_text = read_member(archive, infos, "deck.toml", CAPS["deck"], where, digests)
    try:
        deck = parse_deck(deck_text.decode("utf-8"), "deck.toml")
    except UnicodeDecodeError:
        raise refusal(where, "its deck is not UTF-8 text") from None
    except UserError as error:
        raise refusal(where, str(error).rstrip(".")) from None
    pins = manifest["pins"]
    if any(pin[1] not in records or records[pin[1]]["activation_key"] != pin[0] for pin in pins.values()):
        raise refusal(where, "its pins name runs it does not hold")
    absent = [run for run in deck.runs() if run_id(run) not in pins]
    if absent:
        raise refusal(where, f"it lacks the results of {len(absent)} of its deck's runs")
    for key, record in records.items():
        rows = len(record["config"].methods) * len(record["config"].p_levels) * len(record["config"].seeds)
        name = f"sweeps/{key}/results.csv"
        check_results_member(
            read_member(archive, infos, name, min(CAPS["results"], 4096 + rows * MAX_ROW_BYTES), where, digests),
            record,
            where,
            name,
        )
        check_probes_member(archive, infos[f"sweeps/{key}/probes.safetensors"], record, where, digests)
    views = [name for name in digests if name.startswith("views/")]
    for name in views:
        key = name[len("views/") : -len(".json")]
        check_view_member(read_member(archive, infos, name, CAPS["view"], where, digests), key, set(records), where)
    return CheckedPack(manifest, deck, deck_text, records, digests, len(views))
