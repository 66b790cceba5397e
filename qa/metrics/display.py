"""KPI rows for people and spreadsheets: a fixed-width table and CSV (display only; the
numbers themselves come unrounded from ``qa.metrics.kpis``)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from qa.metrics.base import RATE_KEYS
from qa.safecsv import SafeDictWriter

MISSING = "\u2013"  # en dash


def _format_value(key: str, value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, int | str):
        return str(value)
    if key in RATE_KEYS:
        return f"{value * 100:.1f}%"
    if key.endswith("_mean") or "_mean_" in key:
        return f"{value:.2f}"
    return f"{value:.1f}"


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A fixed-width text table: rates as percentages (``73.3%``), ``None`` as an en dash.

    Text columns are left-aligned, numeric ones right-aligned; one row per dict, columns
    in first-seen key order.
    """
    if not rows:
        return "(no rows)"
    columns = _columns(rows)
    cells = [[_format_value(col, row.get(col)) for col in columns] for row in rows]
    numeric = [
        all(row.get(col) is None or not isinstance(row.get(col), str) for row in rows)
        for col in columns
    ]
    widths = [max(len(col), *(len(line[i]) for line in cells)) for i, col in enumerate(columns)]

    def render(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if is_num else value.ljust(width)
            for value, width, is_num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    lines = [render(columns), "  ".join("-" * width for width in widths)]
    lines.extend(render(line) for line in cells)
    return "\n".join(lines)


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV with a header row; values unrounded, ``None`` as an empty cell, formula-like text
    escaped (:mod:`qa.safecsv`)."""
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = SafeDictWriter(buffer, _columns(rows), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: ("" if value is None else value) for key, value in row.items()})
    return buffer.getvalue()
