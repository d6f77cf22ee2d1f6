"""Labeled binary text datasets: the bundled Rotten Tomatoes snippets, any Hugging Face
dataset, or a CSV file, all validated into one shape.

Label 1 means the x+ completion of the template is the true one (for the default
template: the review is positive).
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

from core.config import BUNDLED, DatasetSpec
from core.errors import UserError

MAX_CSV_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class LabeledTexts:
    """Texts with binary labels (int8, 1 = the + completion is true) and stable ids."""

    texts: tuple[str, ...]
    labels: np.ndarray
    ids: tuple[str, ...]
    description: str

    def __len__(self) -> int:
        return len(self.texts)

    def class_counts(self) -> tuple[int, int]:
        """(number of label-0 examples, number of label-1 examples)."""
        positives = int(self.labels.sum())
        return len(self.labels) - positives, positives


def parse_snippets(raw: str) -> LabeledTexts:
    """Parse movieReviewSnippets_GroundTruth.txt: `id<TAB>valence<TAB>text` per line,
    CRLF line ends. Valence > 0 is positive (label 1), < 0 negative, 0 is dropped.
    HTML entities are unescaped and the file's doubled single quotes become '"'."""
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
        ids.append(f"rt-{snippet_id}")
    return LabeledTexts(tuple(texts), np.asarray(labels, dtype=np.int8), tuple(ids),
                        "Rotten Tomatoes movie-review snippets (Hutto & Gilbert, ICWSM 2014)")


def load_bundled(path: Path | None = None) -> LabeledTexts:
    """The bundled snippets (10,568 labeled after dropping valence 0)."""
    from core.assets import bundled_dataset_path

    path = path or bundled_dataset_path()
    return parse_snippets(path.read_text(encoding="utf-8"))


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
    if labels.min() == labels.max():
        raise UserError(f"Only one class in column '{label_column}' (all {int(labels[0])}); "
                        "contrast-pair probes need examples of both.")
    return LabeledTexts(tuple(texts.astype(str).str.strip()), labels,
                        tuple(f"{id_prefix}-{i}" for i in range(len(frame))), description)


def csv_fingerprint(data: bytes) -> str:
    """sha256 of the CSV bytes: the cache key follows content, not the file name."""
    return hashlib.sha256(data).hexdigest()


def csv_file_fingerprint(path: str | Path) -> str:
    """Fingerprint of a CSV file on disk, or a UserError if it is not there."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"CSV file {path} does not exist.")
    return csv_fingerprint(path.read_bytes())


def save_upload(data: bytes) -> Path:
    """Keep uploaded CSV bytes in the cache under their sha256 (written atomically), so
    the dataset spec can name a file that stays put and the cache key follows content."""
    from core.paths import cache_root

    folder = cache_root() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{csv_fingerprint(data)}.csv"
    if not target.is_file():
        partial = target.with_suffix(f".partial-{os.getpid()}")
        partial.write_bytes(data)
        partial.replace(target)
    return target


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
    validate its text and label columns. Offline, only locally available data loads."""
    import datasets

    from core.models import hub_reachable

    if not Path(spec.name).exists() and not hub_reachable():
        raise UserError(f"Could not load dataset '{spec.name}': the Hugging Face hub cannot be reached and it is "
                        "not a local folder. Without network, use the bundled dataset or upload a CSV.")
    try:
        loaded = datasets.load_dataset(spec.name, spec.config, split=spec.split)
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


def load_dataset(spec: DatasetSpec) -> LabeledTexts:
    """Load any DatasetSpec (bundled, hf or csv) into validated LabeledTexts."""
    if spec.source == BUNDLED:
        return load_bundled()
    if spec.source == "hf":
        return load_hf(spec)
    if spec.source == "csv":
        path = Path(spec.name)
        if not path.is_file():
            raise UserError(f"CSV file {path} does not exist.")
        return load_csv_bytes(path.read_bytes(), spec.text_column, spec.label_column, spec.positive_label, path.name)
    raise UserError(f"Unknown dataset source '{spec.source}' (use bundled, hf or csv).")
