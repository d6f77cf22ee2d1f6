"""Any DatasetSpec to validated LabeledTexts: a bundled set, a Hugging Face dataset (a hub id
through its snapshot, never read as a relative folder) or a CSV upload or file.
"""

from __future__ import annotations

from pathlib import Path

from core.config import BUNDLED, BUNDLED_DEFAULT, DatasetSpec
from core.data.bundled import bundled_set
from core.data.hub import hub_snapshot
from core.data.texts import LabeledTexts, from_frame
from core.data.uploads import csv_bytes, load_csv_bytes
from core.errors import UserError
from core.names import is_local_path


def load_bundled(name: str = BUNDLED_DEFAULT) -> LabeledTexts:
    """A bundled data set (core.data.bundled; default: the demo's snippets)."""
    return bundled_set(name).load()


def load_hf(spec: DatasetSpec) -> LabeledTexts:
    """Load a Hugging Face dataset (hub id, or a local folder of data files) split and
    validate its text and label columns. A hub id is read from its snapshot in the local
    hub cache (downloaded first when the hub is reachable), never as a relative folder."""
    import datasets  # about 1 s to import; only a Hugging Face data set needs it

    source = spec.name if is_local_path(spec.name) else hub_snapshot(spec.name, None, "dataset")
    try:
        loaded = datasets.load_dataset(source, spec.config, split=spec.split)
    except (FileNotFoundError, ValueError, ConnectionError, OSError) as error:
        raise UserError(
            f"Could not load dataset '{spec.name}' (config {spec.config}, split '{spec.split}'): "
            f"{str(error).splitlines()[0][:300]}"
        ) from None
    frame = loaded.select_columns(
        [c for c in (spec.text_column, spec.label_column) if c in loaded.column_names]
    ).to_pandas()
    if spec.label_column in frame.columns and hasattr(loaded.features.get(spec.label_column), "names"):
        # A ClassLabel column: keep the integer codes (0/1) rather than their names.
        frame[spec.label_column] = frame[spec.label_column].astype(int)
    return from_frame(
        frame, spec.text_column, spec.label_column, spec.positive_label, f"{spec.name}:{spec.split}", "hf"
    )


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
