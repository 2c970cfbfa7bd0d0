"""CSV rendering of report rows (docs/analytics.md § Reports API): one header line of
field names, nested statistics flattened with ``_`` (``wait_mean``), lists of numbers
as ``h00``…``h23``, lists of names joined with ``;``, timestamps ISO-8601 with offset,
dates ``YYYY-MM-DD``, null as an empty cell."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """One flat mapping of CSV cells for ``row`` (order kept)."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}_"))
        elif isinstance(value, list) and value and all(isinstance(v, int) for v in value) and key == "hours":
            flat.update({f"h{index:02d}": v for index, v in enumerate(value)})
        elif isinstance(value, list):
            flat[name] = ";".join(str(v) for v in value)
        else:
            flat[name] = value
    return flat


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    text = str(value)
    # A cell a spreadsheet would run as a formula is quoted as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def render(rows: Iterable[Mapping[str, Any]], header: list[str] | None = None) -> str:
    """The CSV text of ``rows`` (CRLF line ends). ``header`` names the columns when
    there may be no rows."""
    flat = [flatten(row) for row in rows]
    columns = list(flat[0]) if flat else (header or [])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in flat:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def columns_of(model: type) -> list[str]:
    """The CSV header of a row model (pydantic), flattened the way :func:`flatten` does."""
    columns: list[str] = []
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and hasattr(kind, "model_fields"):
            columns += [f"{name}_{sub}" for sub in columns_of(kind)]
        elif name == "hours":
            columns += [f"h{index:02d}" for index in range(24)]
        else:
            columns.append(name)
    return columns
