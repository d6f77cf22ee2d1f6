"""Loaders and validation: the bundled format, CSV files, and Hugging Face datasets from local files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.config import DatasetSpec
from core.data.loaders import load_dataset
from core.data.texts import parse_snippets
from core.data.uploads import MAX_CSV_BYTES, load_csv_bytes
from core.errors import UserError

SNIPPETS = (
    "1\t1.2\tA ''Conan'' for our time &amp; more\r\n2\t-2.5\tDull, dull, dull\r\n"
    "3\t0.0\tNeutral text\r\n4\t0.1\tBarely positive"
)


def test_parse_snippets_labels_unescapes_and_drops_neutral():
    data = parse_snippets(SNIPPETS)
    assert data.texts == ('A "Conan" for our time & more', "Dull, dull, dull", "Barely positive")
    assert data.labels.tolist() == [1, 0, 1] and data.labels.dtype == np.int8
    assert data.ids == ("rt-1", "rt-2", "rt-4")
    assert data.class_counts() == (1, 2)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_csv_round_trip_and_label_forms():
    frame = pd.DataFrame({"review": ["good", "bad", "fine"], "y": [1, 0, 1]})
    data = load_csv_bytes(csv_bytes(frame), "review", "y")
    assert data.texts == ("good", "bad", "fine") and data.labels.tolist() == [1, 0, 1]
    signed = load_csv_bytes(csv_bytes(frame.assign(y=[1, -1, 1])), "review", "y")
    assert signed.labels.tolist() == [1, 0, 1]
    named = load_csv_bytes(csv_bytes(frame.assign(y=["pos", "neg", "pos"])), "review", "y", positive_label="pos")
    assert named.labels.tolist() == [1, 0, 1]
    booleans = load_csv_bytes(csv_bytes(frame.assign(y=[True, False, True])), "review", "y")
    assert booleans.labels.tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    "frame, columns, message",
    [
        (pd.DataFrame({"text": ["a", "b"], "label": [0, 1]}), ("text", "target"), r"Missing column\(s\) \['target'\]"),
        (pd.DataFrame({"text": ["a", "b"], "label": [1, 1]}), ("text", "label"), "Only one class"),
        (pd.DataFrame({"text": ["a", "b", "c"], "label": [0, 1, 2]}), ("text", "label"), "not binary: 3 distinct"),
        (pd.DataFrame({"text": ["a", " ", "c"], "label": [0, 1, 0]}), ("text", "label"), "1 empty text"),
        (pd.DataFrame({"text": ["a", "b"], "label": ["pos", "neg"]}), ("text", "label"), "name the positive class"),
        (pd.DataFrame({"text": ["a", "b"], "label": [0, None]}), ("text", "label"), "1 empty value"),
    ],
)
def test_csv_validation_names_the_problem(frame, columns, message):
    with pytest.raises(UserError, match=message):
        load_csv_bytes(csv_bytes(frame), *columns)


def test_csv_rejects_garbage_and_oversized_files():
    with pytest.raises(UserError, match=r"not a readable CSV|Missing column"):
        load_csv_bytes(b"\x00\xff\xfe binary junk")
    with pytest.raises(UserError, match="limit is 50 MB"):
        load_csv_bytes(b"x" * (MAX_CSV_BYTES + 1))


def test_hugging_face_loader_reads_local_data_files(tmp_path):
    folder = tmp_path / "my_dataset"
    folder.mkdir()
    pd.DataFrame({"sentence": ["nice", "awful", "lovely", "bad"], "label": [1, 0, 1, 0]}).to_csv(
        folder / "train.csv", index=False
    )
    data = load_dataset(DatasetSpec(source="hf", name=str(folder), split="train", text_column="sentence"))
    assert data.texts == ("nice", "awful", "lovely", "bad") and data.labels.tolist() == [1, 0, 1, 0]
    with pytest.raises(UserError, match="Missing column"):
        load_dataset(DatasetSpec(source="hf", name=str(folder), split="train", text_column="text"))
    with pytest.raises(UserError, match="Could not load dataset"):
        load_dataset(DatasetSpec(source="hf", name=str(folder), split="validation"))


def test_unreachable_hub_dataset_gives_a_message_not_a_traceback():
    with pytest.raises(UserError, match="Could not load dataset 'no-such-user/no-such-dataset'"):
        load_dataset(DatasetSpec(source="hf", name="no-such-user/no-such-dataset"))
