"""Tables written for spreadsheets: a cell that starts like a formula is written with a
leading apostrophe (OWASP's advice for CSV injection), so user text such as
`=cmd|'/c calc'!A1` opens as text, never runs."""

from __future__ import annotations

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(value: object) -> object:
    """A string cell made inert for spreadsheets; any other value unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell and column name passed through spreadsheet_safe."""
    safe = frame.rename(columns=lambda name: spreadsheet_safe(str(name)))
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(spreadsheet_safe)
    return safe


def safe_csv(frame: pd.DataFrame) -> str:
    """CSV text of `frame` that is safe to open in a spreadsheet."""
    return safe_frame(frame).to_csv(index=False)
