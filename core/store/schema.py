"""What a file from another machine is checked against before anything of it is written or
drawn: JSON parsed with a bound on its nesting and validated against a JSON Schema (the
jsonschema library, which altair already depends on), and tables checked column by column
(names, kinds, value ranges, number of rows). Every failure is a ValueError of one line
saying where it failed; the caller adds which file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

# The deepest nesting any JSON file of the lab has is 6 (a view: file, tables, table, data,
# row, value); a file nested deeper is refused before anything walks it.
MAX_JSON_DEPTH = 16
HEX_KEY = {"type": "string", "pattern": "^[0-9a-f]{64}$"}  # a cache key, a run id or a sha256


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def read_json(raw: bytes | str, schema: Mapping[str, Any]) -> Any:
    """The JSON value in `raw` if it is JSON nested at most MAX_JSON_DEPTH deep and meets
    `schema` (a JSON Schema, draft 2020-12); a one-line ValueError otherwise."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not JSON ({str(error).splitlines()[0][:80]})") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    validate(value, schema)
    return value


def validate(value: Any, schema: Mapping[str, Any]) -> None:
    """A one-line ValueError naming where `value` (parsed JSON) does not meet `schema`."""
    error = best_match(_validator(schema).iter_errors(value))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)[:80] or "the top level"
        raise ValueError(f"{where} does not fit ({error.validator} {str(error.validator_value)[:60]})")


_VALIDATORS: dict[int, Draft202012Validator] = {}


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    """One compiled validator per schema object (the schemas are module constants)."""
    if id(schema) not in _VALIDATORS:
        Draft202012Validator.check_schema(schema)
        _VALIDATORS[id(schema)] = Draft202012Validator(schema)
    return _VALIDATORS[id(schema)]


@dataclass(frozen=True)
class Column:
    """A column's kind: text, int (whole numbers), number, fraction (in [0, 1]) or flag
    (true or false); `nullable`: whether a number may be missing (NaN); `choices`: the only
    values it may hold, when there are few."""

    kind: str
    nullable: bool = False
    choices: tuple[str | int, ...] | None = None


TEXT, INT, NUMBER, FRACTION, FLAG = (Column(kind) for kind in ("text", "int", "number", "fraction", "flag"))
MAYBE_NUMBER, MAYBE_FRACTION = Column("number", nullable=True), Column("fraction", nullable=True)


@dataclass(frozen=True)
class Table:
    """What a table must hold: exactly these columns, each of its kind, and between
    `min_rows` and `max_rows` rows (None: no upper bound)."""

    columns: Mapping[str, Column]
    min_rows: int = 0
    max_rows: int | None = None


def check_table(frame: pd.DataFrame, table: Table) -> None:
    """A one-line ValueError unless `frame` has exactly the columns of `table`, each of its
    kind, and a number of rows within its bounds."""
    names = [str(name) for name in frame.columns]
    if len(set(names)) != len(names) or set(names) != set(table.columns):
        missing, extra = sorted(set(table.columns) - set(names)), sorted(set(names) - set(table.columns))
        raise ValueError(
            f"its columns are not those it must have (missing {', '.join(missing) or 'none'}; "
            f"unexpected {', '.join(name[:40] for name in extra[:3]) or 'none, but one is repeated'})"
        )
    if len(frame) < table.min_rows or (table.max_rows is not None and len(frame) > table.max_rows):
        few = len(frame) < table.min_rows
        bound = f"at least {table.min_rows}" if few else f"at most {table.max_rows}"
        raise ValueError(f"it has {len(frame)} rows, {bound} expected")
    for name, column in table.columns.items():
        if not _fits(frame[name], column):
            kind = f"{column.kind} values" + (" (or missing ones)" if column.nullable else "")
            kind += f" from {', '.join(map(str, column.choices))[:80]}" if column.choices is not None else ""
            raise ValueError(f"column {name} does not hold {kind}")


def _fits(series: pd.Series, column: Column) -> bool:
    if column.choices is not None and not series.isin(column.choices).all():
        return False
    if column.kind == "text":
        return bool(series.map(lambda value: isinstance(value, str)).all())
    if column.kind == "flag":
        return pd.api.types.is_bool_dtype(series) or (len(series) == 0)
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return len(series) == 0
    values = series.to_numpy(dtype=float)
    present = values[~np.isnan(values)]
    if len(present) < len(values) and not column.nullable:
        return False
    if not np.isfinite(present).all():
        return False
    if column.kind == "int":
        return bool((present == np.round(present)).all())
    if column.kind == "fraction":
        return bool(((present >= 0) & (present <= 1)).all())
    return True
