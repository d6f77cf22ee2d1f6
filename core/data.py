"""Labeled binary text datasets: the bundled Rotten Tomatoes snippets, any Hugging Face
dataset, or a CSV file, all validated into one shape.

Label 1 means the x+ completion of the template is the true one (for the default
template: the review is positive). Duplicate texts are dropped on load (counted in
`dropped_duplicates`), so no example can sit in a training draw and the test split at once.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import BUNDLED, BUNDLED_DEFAULT, DatasetSpec
from core.errors import UserError

MAX_CSV_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class LabeledTexts:
    """Texts with binary labels (int8, 1 = the + completion is true) and stable ids."""

    texts: tuple[str, ...]
    labels: np.ndarray
    ids: tuple[str, ...]
    description: str
    dropped_duplicates: int = 0

    def __len__(self) -> int:
        return len(self.texts)

    def class_counts(self) -> tuple[int, int]:
        """(number of label-0 examples, number of label-1 examples)."""
        positives = int(self.labels.sum())
        return len(self.labels) - positives, positives


def deduplicated(texts: list[str], labels: np.ndarray, ids: list[str], description: str) -> LabeledTexts:
    """LabeledTexts with one example per text (core.sampling.text_key: case and whitespace
    aside). Copies with the same label keep the first; a text that occurs with both labels
    is dropped entirely, as its label is ambiguous. The description says how many went."""
    from core.sampling import text_key

    first: dict[str, int] = {}
    conflicting: set[str] = set()
    for index, text in enumerate(texts):
        key = text_key(text)
        if key not in first:
            first[key] = index
        elif labels[first[key]] != labels[index]:
            conflicting.add(key)
    keep = [index for key, index in first.items() if key not in conflicting]
    dropped = len(texts) - len(keep)
    if dropped:
        description += f" ({dropped} duplicate row(s) dropped)"
    return LabeledTexts(tuple(texts[i] for i in keep), np.asarray(labels, dtype=np.int8)[keep],
                        tuple(ids[i] for i in keep), description, dropped)


def parse_snippets(raw: str, prefix: str = "rt",
                   description: str = "Rotten Tomatoes movie-review snippets") -> LabeledTexts:
    """Parse a Hutto & Gilbert (2014) snippets file: `id<TAB>valence<TAB>text` per line,
    CRLF line ends. Valence > 0 is positive (label 1), < 0 negative, 0 is dropped.
    HTML entities are unescaped and the files' doubled single quotes become '"'; ids are
    `prefix`-id."""
    texts, labels, ids = [], [], []
    for line in raw.splitlines():
        if not line.strip():
            continue
        snippet_id, valence, text = line.split("\t", 2)
        score = float(valence)
        if score == 0:
            continue
        texts.append(html.unescape(text).replace("''", '"').strip())
        labels.append(1 if score > 0 else 0)
        ids.append(f"{prefix}-{snippet_id}")
    return deduplicated(texts, np.asarray(labels, dtype=np.int8), ids, f"{description} (Hutto & Gilbert, ICWSM 2014)")


def load_bundled(name: str = BUNDLED_DEFAULT) -> LabeledTexts:
    """A bundled data set (core.bundled; default: the demo's snippets)."""
    from core.bundled import bundled_set

    return bundled_set(name).load()


def binary_labels(values: pd.Series, positive_label: str | None, column: str) -> np.ndarray:
    """Map a label column to 0/1. Accepts 0/1, booleans or -1/1 as they are; two other
    values need `positive_label`, the one that makes the + completion true."""
    if values.isna().any():
        raise UserError(f"Label column '{column}' has {int(values.isna().sum())} empty value(s).")
    as_text = values.astype(str)
    distinct = sorted(as_text.unique())
    if len(distinct) > 2:
        raise UserError(f"Label column '{column}' is not binary: {len(distinct)} distinct values "
                        f"({distinct[:10]}). Keep two classes, or map them to 0/1 first.")
    if positive_label is not None:
        if positive_label not in distinct:
            raise UserError(f"The positive label '{positive_label}' does not occur in column '{column}' "
                            f"(values: {distinct}).")
        return (as_text == positive_label).to_numpy().astype(np.int8)
    numeric = pd.to_numeric(values.astype(object).replace({True: 1, False: 0}), errors="coerce")
    codes = set(numeric.dropna().unique())
    if numeric.isna().any() or not (codes <= {0, 1} or codes <= {-1, 1}):
        raise UserError(f"Label column '{column}' has values {distinct}; name the positive class "
                        "(positive label), or use 0/1.")
    return (numeric.to_numpy() == 1).astype(np.int8)


def from_frame(frame: pd.DataFrame, text_column: str, label_column: str, positive_label: str | None,
               description: str, id_prefix: str) -> LabeledTexts:
    """Validate a table into LabeledTexts: both columns present, no empty text, binary
    labels with both classes present."""
    missing = [c for c in (text_column, label_column) if c not in frame.columns]
    if missing:
        raise UserError(f"Missing column(s) {missing}; the data has columns {list(frame.columns)[:20]}.")
    if len(frame) == 0:
        raise UserError("The data has no rows.")
    texts = frame[text_column]
    empty = texts.isna() | (texts.astype(str).str.strip() == "")
    if empty.any():
        rows = list(np.flatnonzero(empty.to_numpy())[:5])
        raise UserError(f"Text column '{text_column}' has {int(empty.sum())} empty text(s) (rows {rows}...).")
    labels = binary_labels(frame[label_column], positive_label, label_column)
    data = deduplicated(list(texts.astype(str).str.strip()), labels, [f"{id_prefix}-{i}" for i in range(len(frame))],
                        description)
    if len(data) == 0 or data.labels.min() == data.labels.max():
        raise UserError(f"Only one class in column '{label_column}' after dropping {data.dropped_duplicates} "
                        "duplicate row(s); contrast-pair probes need examples of both.")
    return data


def csv_fingerprint(data: bytes) -> str:
    """sha256 of the CSV bytes: the cache key follows content, not the file name."""
    return hashlib.sha256(data).hexdigest()


def csv_identity(name: str) -> str:
    """The fingerprint of a CSV dataset spec's data: the digest an upload is named by, or
    that of a file's bytes (a UserError if the file is not there)."""
    from core.validate import is_digest

    if is_digest(name):
        return name
    return csv_fingerprint(_read_csv_file(Path(name)))


def _read_csv_file(path: Path) -> bytes:
    """The bytes of a CSV file named by path, refused before reading if it is not a regular
    file or is over the size limit."""
    if not path.is_file():
        raise UserError(f"CSV file {path.name} does not exist.")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise UserError(f"{path.name} is {path.stat().st_size / 1e6:.0f} MB; the limit is "
                        f"{MAX_CSV_BYTES // 1024 // 1024} MB.")
    return path.read_bytes()


def default_uploads() -> Path:
    """Where the owner's dashboard keeps uploads (a shared server keeps them per session)."""
    from core.paths import cache_root

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
    from core.validate import is_digest

    if is_digest(name):
        path = (uploads or default_uploads()) / f"{name}.csv"
        if not path.is_file():
            raise UserError(f"The uploaded CSV {name[:12]}… is not on this server (uploads stay with the browser "
                            "session that made them); upload the file again.")
        return path.read_bytes(), f"upload {name[:12]}"
    return _read_csv_file(Path(name)), Path(name).name


def load_csv_bytes(data: bytes, text_column: str = "text", label_column: str = "label",
                   positive_label: str | None = None, name: str = "uploaded.csv") -> LabeledTexts:
    """Parse and validate CSV bytes (an upload or a file). Refuses files over 50 MB."""
    if len(data) > MAX_CSV_BYTES:
        raise UserError(f"{name} is {len(data) / 1e6:.0f} MB; the limit is {MAX_CSV_BYTES // 1024 // 1024} MB.")
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype={label_column: str} if positive_label else None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise UserError(f"{name} is not a readable CSV file: {error}") from None
    return from_frame(frame, text_column, label_column, positive_label, f"CSV {name}", "csv")


def load_hf(spec: DatasetSpec) -> LabeledTexts:
    """Load a Hugging Face dataset (hub id, or a local folder of data files) split and
    validate its text and label columns. A hub id is read from its snapshot in the local
    hub cache (downloaded first when the hub is reachable), never as a relative folder."""
    import datasets

    from core.hub import hub_snapshot
    from core.validate import is_local_path

    source = spec.name if is_local_path(spec.name) else hub_snapshot(spec.name, None, "dataset")
    try:
        loaded = datasets.load_dataset(source, spec.config, split=spec.split)
    except (FileNotFoundError, ValueError, ConnectionError, OSError) as error:
        raise UserError(f"Could not load dataset '{spec.name}' (config {spec.config}, split '{spec.split}'): "
                        f"{str(error).splitlines()[0][:300]}") from None
    frame = loaded.select_columns([c for c in (spec.text_column, spec.label_column)
                                   if c in loaded.column_names]).to_pandas()
    if spec.label_column in frame.columns and hasattr(loaded.features.get(spec.label_column), "names"):
        # A ClassLabel column: keep the integer codes (0/1) rather than their names.
        frame[spec.label_column] = frame[spec.label_column].astype(int)
    return from_frame(frame, spec.text_column, spec.label_column, spec.positive_label,
                      f"{spec.name}:{spec.split}", "hf")


def load_dataset(spec: DatasetSpec, uploads: Path | None = None) -> LabeledTexts:
    """Load any DatasetSpec (bundled, hf or csv) into validated LabeledTexts; uploaded CSVs
    are looked up in `uploads` (default: the owner's upload folder)."""
    if spec.source == BUNDLED:
        return load_bundled(spec.name)
    if spec.source == "hf":
        return load_hf(spec)
    if spec.source == "csv":
        data, name = csv_bytes(spec.name, uploads)
        return load_csv_bytes(data, spec.text_column, spec.label_column, spec.positive_label, name)
    raise UserError(f"Unknown dataset source '{spec.source}' (use bundled, hf or csv).")
