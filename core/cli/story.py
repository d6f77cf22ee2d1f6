"""`pack`, `unpack` and `present`: a deck and its results in one zip, imported on another
machine, or written as one self-contained HTML file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.arguments import OUT, add_device, add_out
from core.cli.experiments import run_with_bars
from core.cli.output import checked_output, say, status_printer
from core.errors import UserError
from core.store.imports import REMOVE_OPTION, imported_packs, remove_command, remove_pack
from core.story.deck import SHIPPED, deck_entries, resolve_deck
from core.story.pack import pack, unpack
from core.story.registry import compute, readiness
from core.story.results import Results
from core.story.talk_html import deck_html


def pipeline_runner(args: argparse.Namespace):
    """A run_one for core.story.registry.compute: the pipeline with progress bars on stderr."""

    def run_one(run):
        return run_with_bars(run, args).sweep

    return run_one


def command_pack(args: argparse.Namespace) -> int:
    out = checked_output(args.out, (".zip",), OUT)
    report = pack(args.deck, out, run_one=pipeline_runner(args), status=status_printer)
    say(
        f"pack {out}: deck {report.name!r}, {report.runs} run(s), {report.views} measured view(s), "
        f"{report.size_bytes / 1e6:.2f} MB"
    )
    return 0


def command_unpack(args: argparse.Namespace) -> int:
    address, deck, report = unpack(args.pack)
    state = "was imported before; nothing written" if report.already else "imported"
    say(
        f"pack {report.pack} {state}: deck {address!r} ({len(deck.steps)} steps), {report.runs} run(s), "
        f"{report.views} measured view(s), kept apart from this machine's results (nothing of theirs replaced)"
    )
    say(
        f"present it: make run, then open /present?deck={address}  (or python -m core present {address} --html "
        f"talk.html); remove it: {remove_command(report.pack)}"
    )
    return 0


def command_decks(args: argparse.Namespace) -> int:
    """The decks that can be presented by name: shipped, then imported, apart."""
    entries = deck_entries()
    shipped = [entry for entry in entries if entry.origin == SHIPPED]
    imported = entries[len(shipped) :]
    say("shipped:")
    for entry in shipped:
        say(f"  {entry.name}  ({entry.title})")
    say("imported:" if imported else "imported: none (python -m core unpack PACK.zip)")
    for entry in imported:
        say(f"  {entry.name}  ({entry.title}; {entry.origin})")
    return 0


def command_packs(args: argparse.Namespace) -> int:
    """The imported packs, or one removed with everything it brought."""
    if args.remove:
        removed = remove_pack(args.remove)
        say(f"removed pack {removed.id}: its deck {removed.address!r} and every result it brought")
        return 0
    packs = imported_packs()
    if not packs:
        say("no imported packs")
    for imported in packs:
        runs = len(list(imported.sweeps.root.glob("*/info.json"))) if imported.sweeps.root.is_dir() else 0
        say(f"{imported.id}  deck {imported.address!r}, {runs} run(s), {imported.origin()}, from {imported.file_name}")
    return 0


def command_present(args: argparse.Namespace) -> int:
    """Prepare a deck (compute what its steps lack, so none waits in front of a room), write
    it as one HTML file, or both; either writes what it computed to the cache."""
    if not args.prepare and args.html is None:
        raise UserError("present needs --prepare (compute what the deck lacks), --html FILE (write the talk), or both.")
    out = checked_output(args.html, (".html",), "--html") if args.html is not None else None
    name, deck, _ = resolve_deck(args.deck)
    results = Results.of_deck(deck)
    before = readiness(deck, results)
    say(f"deck {name!r}: {before.line()}")
    if not before.complete:
        compute(deck, results, pipeline_runner(args), status_printer)
        say(f"deck {name!r}: {readiness(deck, results).line()}")
    if out is not None:
        out.write_text(deck_html(deck, results), encoding="utf-8")
        say(f"talk {out}: deck {name!r}, {len(deck.steps)} steps, {out.stat().st_size / 1e6:.2f} MB, works offline")
    return 0


def register(commands) -> None:
    """Add the `pack`, `unpack`, `present`, `decks` and `packs` commands to the CLI's subparsers."""
    deck_help = "a deck file (.toml) or a deck's name (default: the demo deck)"
    pack_parser = commands.add_parser("pack", help="a deck and every result it draws, in one zip file")
    pack_parser.add_argument("deck", nargs="?", help=deck_help)
    add_out(pack_parser, "the zip file to write", required=True)
    add_device(pack_parser, "for results that must be computed first")
    pack_parser.set_defaults(run=command_pack)
    unpack_parser = commands.add_parser("unpack", help="import a pack into this machine's cache")
    unpack_parser.add_argument("pack", type=Path)
    unpack_parser.set_defaults(run=command_unpack)
    present = commands.add_parser(
        "present", help="prepare a deck before a talk (--prepare), or write it as one self-contained HTML file"
    )
    present.add_argument("deck", nargs="?", help=deck_help)
    present.add_argument(
        "--prepare", action="store_true", help="compute every result the deck lacks, so each step draws at once"
    )
    present.add_argument("--html", type=Path, help="the .html file to write (computes what it lacks first)")
    add_device(present, "for results that must be computed first")
    present.set_defaults(run=command_present)
    decks = commands.add_parser("decks", help="the decks that can be presented by name: shipped and imported, apart")
    decks.set_defaults(run=command_decks)
    packs = commands.add_parser("packs", help="the imported packs, each apart from this machine's results")
    packs.add_argument(REMOVE_OPTION, metavar="PACK_ID", help="remove an imported pack and everything it brought")
    packs.set_defaults(run=command_packs)
