"""Labeled binary texts, validated into one shape (LabeledTexts) whatever their source.

Label 1 means the x+ completion of the template is the true one (for the default
template: the review is positive). Duplicate texts are dropped on load (counted in
`dropped_duplicates`), so no example can sit in a training draw and the test split at once.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.sampling import text_key
from core.errors import UserError


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
    """LabeledTexts with one example per text (core.data.sampling.text_key: case and whitespace
    aside). Copies with the same label keep the first; a text that occurs with both labels
    is dropped entirely, as its label is ambiguous. The description says how many went."""
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
    return LabeledTexts(
        tuple(texts[i] for i in keep),
        np.asarray(labels, dtype=np.int8)[keep],
        tuple(ids[i] for i in keep),
        description,
        dropped,
    )


def parse_snippets(
    raw: str, prefix: str = "rt", description: str = "Rotten Tomatoes movie-review snippets"
) -> LabeledTexts:
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


def binary_labels(values: pd.Series, positive_label: str | None, column: str) -> np.ndarray:
    """Map a label column to 0/1. Accepts 0/1, booleans or -1/1 as they are; two other
    values need `positive_label`, the one that makes the + completion true."""
    if values.isna().any():
        raise UserError(f"Label column '{column}' has {int(values.isna().sum())} empty value(s).")
    as_text = values.astype(str)
    distinct = sorted(as_text.unique())
    if len(distinct) > 2:
        raise UserError(
            f"Label column '{column}' is not binary: {len(distinct)} distinct values "
            f"({distinct[:10]}). Keep two classes, or map them to 0/1 first."
        )
    if positive_label is not None:
        if positive_label not in distinct:
            raise UserError(
                f"The positive label '{positive_label}' does not occur in column '{column}' (values: {distinct})."
            )
        return (as_text == positive_label).to_numpy().astype(np.int8)
    numeric = pd.to_numeric(values.astype(object).replace({True: 1, False: 0}), errors="coerce")
    codes = set(numeric.dropna().unique())
    if numeric.isna().any() or not (codes <= {0, 1} or codes <= {-1, 1}):
        raise UserError(
            f"Label column '{column}' has values {distinct}; name the positive class (positive label), or use 0/1."
        )
    return (numeric.to_numpy() == 1).astype(np.int8)


def from_frame(
    frame: pd.DataFrame,
    text_column: str,
    label_column: str,
    positive_label: str | None,
    description: str,
    id_prefix: str,
) -> LabeledTexts:
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
    data = deduplicated(
        list(texts.astype(str).str.strip()), labels, [f"{id_prefix}-{i}" for i in range(len(frame))], description
    )
    if len(data) == 0 or data.labels.min() == data.labels.max():
        raise UserError(
            f"Only one class in column '{label_column}' after dropping {data.dropped_duplicates} "
            "duplicate row(s); contrast-pair probes need examples of both."
        )
    return data
