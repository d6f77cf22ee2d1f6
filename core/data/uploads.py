"""CSV data named by content: the sha256 of its bytes names an upload, keys its activations
and travels in links, so no path ever does. Files over MAX_CSV_BYTES are refused before
they are read.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pandas as pd

from core.data.texts import LabeledTexts, from_frame
from core.errors import UserError
from core.names import is_digest
from core.paths import cache_root

MAX_CSV_BYTES = 50 * 1024 * 1024


def csv_fingerprint(data: bytes) -> str:
    """sha256 of the CSV bytes: the cache key follows content, not the file name."""
    return hashlib.sha256(data).hexdigest()


def csv_identity(name: str) -> str:
    """The fingerprint of a CSV dataset spec's data: the digest an upload is named by, or
    that of a file's bytes (a UserError if the file is not there)."""
    if is_digest(name):
        return name
    return csv_fingerprint(_read_csv_file(Path(name)))


def _read_csv_file(path: Path) -> bytes:
    """The bytes of a CSV file named by path, refused before reading if it is not a regular
    file or is over the size limit."""
    if not path.is_file():
        raise UserError(f"CSV file {path.name} does not exist.")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise UserError(
            f"{path.name} is {path.stat().st_size / 1e6:.0f} MB; the limit is {MAX_CSV_BYTES // 1024 // 1024} MB."
        )
    return path.read_bytes()


def default_uploads() -> Path:
    """Where the owner's dashboard keeps uploads (a shared server keeps them per session)."""
    return cache_root() / "uploads"


def save_upload(data: bytes, folder: Path | None = None) -> str:
    """Keep uploaded CSV bytes in `folder` under their sha256 (written atomically) and
    return that digest: the dataset spec names the data by content, never by path."""
    folder = folder or default_uploads()
    folder.mkdir(parents=True, exist_ok=True)
    name = csv_fingerprint(data)
    target = folder / f"{name}.csv"
    if not target.is_file():
        partial = target.with_suffix(f".partial-{os.getpid()}")
        partial.write_bytes(data)
        partial.replace(target)
    return name


def csv_bytes(name: str, uploads: Path | None = None) -> tuple[bytes, str]:
    """(bytes, display name) of a CSV spec's data: an upload by digest from `uploads`, or
    a file by path."""
    if is_digest(name):
        path = (uploads or default_uploads()) / f"{name}.csv"
        if not path.is_file():
            raise UserError(
                f"The uploaded CSV {name[:12]}… is not on this server (uploads stay with the browser "
                "session that made them); upload the file again."
            )
        return path.read_bytes(), f"upload {name[:12]}"
    return _read_csv_file(Path(name)), Path(name).name


def load_csv_bytes(
    data: bytes,
    text_column: str = "text",
    label_column: str = "label",
    positive_label: str | None = None,
    name: str = "uploaded.csv",
) -> LabeledTexts:
    """Parse and validate CSV bytes (an upload or a file). Refuses files over 50 MB."""
    if len(data) > MAX_CSV_BYTES:
        raise UserError(f"{name} is {len(data) / 1e6:.0f} MB; the limit is {MAX_CSV_BYTES // 1024 // 1024} MB.")
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype={label_column: str} if positive_label else None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise UserError(f"{name} is not a readable CSV file: {error}") from None
    return from_frame(frame, text_column, label_column, positive_label, f"CSV {name}", "csv")
