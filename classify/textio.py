"""CSV input for the ``qa text`` commands: any analyst's CSV, no database.

A header row is required; UTF-8 with or without a byte-order mark. Asking for a column the
file lacks is an error that names the columns it has.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

csv.field_size_limit(2**24)  # long transcripts in one cell


class TextInputError(ValueError):
    """A CSV that cannot be read as asked; the message says what, where, and what is valid."""


@dataclass(frozen=True)
class TextTable:
    """A CSV read whole: its header and rows (dicts keyed by the header), file order."""

    path: Path
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]

    def column(self, name: str) -> list[str]:
        """The values of column ``name`` (an empty cell reads as "")."""
        self.require(name)
        return [row.get(name) or "" for row in self.rows]

    def require(self, *names: str) -> None:
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise TextInputError(
                f"{self.path}: no column {', '.join(repr(m) for m in missing)}; "
                f"the columns are: {', '.join(repr(c) for c in self.columns)}"
            )


def read_table(path: str | Path, required: tuple[str, ...] = ()) -> TextTable:
    """Read ``path`` (UTF-8, BOM optional, header required); check ``required`` columns."""
    where = Path(path)
    try:
        raw = where.read_bytes()
    except FileNotFoundError:
        raise TextInputError(f"{where}: file not found") from None
    except IsADirectoryError:
        raise TextInputError(f"{where}: is a directory, expected a CSV file") from None
    try:
        text = raw.decode("utf-8-sig")  # strips a BOM when there is one
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TextInputError(
            f"{where}: not UTF-8 (line {line}, byte {exc.start}); save it as UTF-8 CSV"
        ) from None
    reader = csv.reader(text.splitlines(keepends=True) if text else [])
    try:
        header = next(reader, None)
        body = list(reader)
    except csv.Error as exc:
        raise TextInputError(f"{where}: not a valid CSV (line {reader.line_num}): {exc}") from None
    if not header or not any(h.strip() for h in header):
        raise TextInputError(f"{where}: empty file or no header row; the first row must name "
                             "the columns, e.g. id,comment")  # fmt: skip
    columns = tuple(h.strip() for h in header)
    dupes = sorted({c for c in columns if c and columns.count(c) > 1})
    if dupes:
        raise TextInputError(f"{where}: duplicate column names: {', '.join(dupes)}")
    rows = tuple(
        {col: (cells[i] if i < len(cells) else "") for i, col in enumerate(columns)}
        for cells in body
        if cells  # a blank line is not a data row
    )
    table = TextTable(path=where, columns=columns, rows=rows)
    table.require(*required)
    return table
