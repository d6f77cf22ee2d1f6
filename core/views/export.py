"""Files written from views: charts as PNG or SVG (vl-convert, at slide size) or
self-contained HTML, and tables written for spreadsheets: a cell that starts like a formula is written with a
leading apostrophe (OWASP's advice for CSV injection), so user text such as
`=cmd|'/c calc'!A1` opens as text, never runs.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import altair as alt
import pandas as pd

from core.errors import UserError
from core.views.style import slide_style

SLIDE_EXPORT_PX = 1920
EXPORT_FORMATS = ("png", "svg", "html")
_SVG_SIZE = re.compile(r'^(<svg[^>]*?) width="([0-9.]+)" height="([0-9.]+)"')


def _svg_at_least(svg: str, pixels: int) -> str:
    """An SVG drawn at least `pixels` wide: its width and height attributes scaled up
    (the viewBox keeps the drawing's own coordinates)."""
    match = _SVG_SIZE.match(svg)
    if match is None:
        return svg
    width, height = float(match.group(2)), float(match.group(3))
    scale = max(1.0, pixels / width)
    return f'{match.group(1)} width="{width * scale:g}" height="{height * scale:g}"' + svg[match.end() :]


def save_chart_bytes(chart: alt.TopLevelMixin, fmt: str) -> bytes:
    """A chart in slide style (slide_style) as PNG or SVG at least SLIDE_EXPORT_PX wide, or
    as self-contained HTML (works offline), via vl-convert."""
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"Unsupported chart format '{fmt}' (use {', '.join(EXPORT_FORMATS)})")
    chart = slide_style(chart)
    if fmt == "html":
        buffer = io.StringIO()
        chart.save(buffer, format="html", inline=True)
        return buffer.getvalue().encode("utf-8")
    svg = io.StringIO()
    chart.save(svg, format="svg")
    if fmt == "svg":
        return _svg_at_least(svg.getvalue(), SLIDE_EXPORT_PX).encode("utf-8")
    width = float(_SVG_SIZE.match(svg.getvalue()).group(2))
    png = io.BytesIO()
    chart.save(png, format="png", scale_factor=max(2, math.ceil(SLIDE_EXPORT_PX / width)))
    return png.getvalue()


def save_chart(chart: alt.Chart, path: str | Path) -> Path:
    """Write a chart to .png, .svg or .html, by the file's suffix."""
    path = Path(path)
    data = save_chart_bytes(chart, path.suffix.lower().lstrip("."))
    path.write_bytes(data)
    return path


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
