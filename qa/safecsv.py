"""CSV that a spreadsheet cannot execute: every CSV file or stream callqa writes goes through here.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``,
``@SUM(...)``). Following the OWASP rule, such a cell is prefixed with a single quote, which
the spreadsheet shows as text. Numbers stay numbers: ints and floats are written as they are,
and so is a string that is nothing but a number (``-3.5``, ``+44``, ``1e-3``), since a
spreadsheet parses those as values, never as formulas.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def escape_cell(value: Any) -> Any:
    """``value`` unless it is text a spreadsheet would run as a formula; then ``'`` + value."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _NUMBER.fullmatch(value):
        return value
    return "'" + value


def escape_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of one row through :func:`escape_cell`."""
    return [escape_cell(v) for v in values]


class SafeWriter:
    """``csv.writer`` whose rows are escaped with :func:`escape_cell` (same ``writerow`` API)."""

    def __init__(self, handle: IO[str], **fmtparams: Any) -> None:
        self._writer = csv.writer(handle, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        """Write one escaped row."""
        return self._writer.writerow(escape_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write many escaped rows."""
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """``csv.DictWriter`` whose header and values are escaped with :func:`escape_cell`."""

    def __init__(self, handle: IO[str], fieldnames: Sequence[str], **fmtparams: Any) -> None:
        self.fieldnames = list(fieldnames)
        self._writer = SafeWriter(handle, **fmtparams)

    def writeheader(self) -> None:
        """Write the (escaped) field names."""
        self._writer.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, Any]) -> None:
        """Write one row's values in ``fieldnames`` order; a missing key is an empty cell."""
        self._writer.writerow(row.get(name, "") for name in self.fieldnames)


RECORD_FORMATS = ("csv", "jsonl")


def write_records(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    out: IO[str],
    fmt: str,
    *,
    cell: Callable[[Any], Any] | None = None,
) -> int:
    """Write ``rows`` to ``out`` as ``csv`` (a header of ``columns``, spreadsheet-safe cells,
    None as empty, each value through ``cell`` when given) or ``jsonl`` (each row whole);
    returns the count. Every export of records goes through here."""
    import json

    if fmt not in RECORD_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(RECORD_FORMATS)}")
    writer = SafeWriter(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(columns)
    count = 0
    for row in rows:
        if writer is not None:
            values = (row.get(c) for c in columns)
            writer.writerow(["" if v is None else (cell(v) if cell else v) for v in values])
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count
