"""Call-list rows as records and files: CSV (formula-escaped, ``qa.safecsv``) or JSON lines,
each row with its deep link into the review UI. Used by ``qa calls list``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

from qa.safecsv import RECORD_FORMATS, write_records
from qa.store.calllist import CallListRow

COLUMNS = (
    "external_id", "started_at", "agent_id", "agent_name", "team", "queue", "handle_seconds",
    "csat", "nps", "ces", "fcr", "transferred", "reviewed", "score", "tags", "matched", "link",
)  # fmt: skip
FILE_FORMATS = RECORD_FORMATS


def row_record(row: CallListRow, ui_url: str) -> dict[str, Any]:
    """The row as plain values (tags and matched fields as lists), with its UI link."""
    record: dict[str, Any] = {}
    for name in COLUMNS:
        if name == "link":
            record[name] = row.link(ui_url)
            continue
        value = getattr(row, name)
        if isinstance(value, datetime):
            value = value.isoformat(timespec="seconds")
        elif isinstance(value, tuple):
            value = list(value)
        record[name] = value
    return record


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else value


def write_calls(rows: Iterable[CallListRow], handle: IO[str], fmt: str, ui_url: str) -> int:
    """Write ``rows`` as ``csv`` (tags joined with ``;``, booleans yes/no, blanks for unknown)
    or ``jsonl``; returns how many were written."""
    if fmt not in FILE_FORMATS:
        raise ValueError(f"format {fmt!r} is not one of: {', '.join(FILE_FORMATS)}")
    records = (row_record(row, ui_url) for row in rows)
    return write_records(records, COLUMNS, handle, fmt, cell=_csv_cell)
