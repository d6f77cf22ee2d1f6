"""How every command prints: its lines through one helper (`say`) that shows text from
outside as text, progress bars and status lines on stderr, and the checks of output paths
before any work starts.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from core.errors import UserError
from core.text import visible_text


def say(*lines: object, file=None) -> None:
    """Print each of `lines` as one line, through core.text.visible_text: a newline, an escape
    sequence or a bidirectional override inside one (a deck title, a model name, a text of a
    data set) is shown as its escape, so text from outside never adds a line, moves the
    cursor, recolours or retitles the terminal. Every command prints through this (ruff's
    T201 keeps bare print() out of core/)."""
    print("\n".join(visible_text(line) for line in lines), file=file or sys.stdout)


def say_block(text: str, file=None) -> None:
    """`say` for a block this lab formatted (a table, a plan): one line per newline in it."""
    say(*text.split("\n"), file=file)


def tqdm_progress(description: str, unit: str = ""):
    """A (done, total, message) callback drawing a tqdm bar on stderr."""
    bar = None

    def update(done: int, total: int, message: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=description, unit=unit, dynamic_ncols=True, file=sys.stderr)
        bar.n = done
        bar.set_postfix_str(visible_text(message), refresh=False)
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def status_printer(message: str) -> None:
    say(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr)


CHART_SUFFIXES = (".png", ".svg", ".html")


def checked_output(path: Path, suffixes: tuple[str, ...] | None, flag: str) -> Path:
    """`path` if it ends in one of `suffixes` (any, when None) and its folder exists (a
    UserError naming `flag` otherwise): checked before any work, so a bad path never
    wastes a run."""
    if path.is_dir():
        raise UserError(f"{flag} {path.name} is a folder; name a file to write.")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        choices = " or ".join([", ".join(suffixes[:-1]), suffixes[-1]] if len(suffixes) > 1 else suffixes)
        raise UserError(f"{flag} must end in {choices}, got {path.name!r}.")
    if not path.resolve().parent.is_dir():
        raise UserError(f"{flag}: the folder for {path.name} does not exist.")
    if not os.access(path.resolve().parent, os.W_OK):
        raise UserError(f"{flag}: the folder for {path.name} is not writable.")
    return path


def checked_folder(path: Path, flag: str, files: tuple[str, ...]) -> Path:
    """`path` as a folder to write `files` into, created if need be, and checked before any
    work: not a file, writable, and none of `files` in it a folder."""
    path = path.expanduser()
    if path.exists() and not path.is_dir():
        raise UserError(f"{flag} {path.name} exists and is not a folder.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"{flag}: cannot make the folder {path.name} ({error.strerror}).") from None
    for name in files:
        checked_output(path / name, None, flag)
    return path


def short_text(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
