"""`import-activations`: bring in an activation file extracted anywhere (format version 1,
core.store.activation_files), list the imported sets, remove one. `sweep`, `inspect`,
`layers` and `remedies` then take an import id instead of extracting.
"""

from __future__ import annotations

import argparse
import time

from core.cli.arguments import ACTIVATIONS, LAYER, LIST, REMOVE
from core.cli.output import say, short_text
from core.store.activation_imports import import_activation_file, imported_sets, remove_imported_set


def _line(imported) -> str:
    return (
        f"{imported.id}  {short_text(imported.model, 60)}; {imported.n} pairs; layers "
        f"{', '.join(map(str, imported.layers))}; {imported.origin()}"
    )


def command_import_activations(args: argparse.Namespace) -> int:
    if args.remove:
        removed = remove_imported_set(args.remove)
        say(f"removed {removed.id} and every sweep trained on it")
        return 0
    if args.list or args.file is None:
        found = imported_sets()
        say(*(_line(each) for each in found) if found else ["no imported activation sets"])
        return 0
    started = time.perf_counter()
    imported, already = import_activation_file(args.file)
    state = "already imported" if already else f"imported in {time.perf_counter() - started:.1f} s"
    say(
        f"{_line(imported)} ({state})",
        f"sweep it: python -m core sweep {ACTIVATIONS} {imported.id} {LAYER.flag} {imported.layers[-1]}",
    )
    return 0


def register(commands) -> None:
    """Add the `import-activations` command to the CLI's subparsers."""
    parser = commands.add_parser(
        "import-activations",
        help="import an activation file extracted anywhere (safetensors + manifest, docs: the activation file)",
    )
    parser.add_argument("file", nargs="?", help="the activation file (.safetensors)")
    parser.add_argument(LIST, action="store_true", help="list the imported activation sets (as no file does)")
    parser.add_argument(REMOVE, metavar="ID", help="remove an imported set and every sweep trained on it")
    parser.set_defaults(run=command_import_activations)
