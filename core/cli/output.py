"""What every command prints besides its results: progress bars and status lines on stderr,
and the checks of output paths before any work starts.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tqdm import tqdm

from core.errors import UserError


def tqdm_progress(description: str, unit: str = ""):
    """A (done, total, message) callback drawing a tqdm bar on stderr."""
    bar = None

    def update(done: int, total: int, message: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=description, unit=unit, dynamic_ncols=True, file=sys.stderr)
        bar.n = done
        bar.set_postfix_str(message, refresh=False)
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def status_printer(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr)


def checked_output(path: Path, suffixes: tuple[str, ...], flag: str) -> Path:
    if path.suffix.lower() not in suffixes:
        raise UserError(f"{flag} must end in {' or '.join(suffixes)}, got {path.name!r}.")
    if not path.resolve().parent.is_dir():
        raise UserError(f"{flag}: the folder for {path.name} does not exist.")
    return path


def short_text(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"
