"""Read an untrusted CSV export: every data row with its line, or the reason it is bad.

A NUL byte, a field over the size limit, a stray quote or a wrong field count makes one bad
row and nothing more; a quote that swallowed the rows after it is reported with the lines it
ran over, and the parse restarts on the next line so those rows are still read.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

from qa.ingest.records import MAX_FIELD_BYTES
from qa.ingest.rejects import clip_text, printable

# csv.field_size_limit is process-wide: parses in progress raise it (never lower it), and the
# last one to finish restores the value it had before the first began.
_FIELD_LIMIT_LOCK = threading.Lock()
_field_limit_users: list[int] = []  # the limit before the first user; one entry per user


class IngestError(Exception):
    """The file as a whole cannot be read (missing, no header, missing required columns)."""


def _decode(path: Path, warnings: list[str]) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Spreadsheet exports are often Windows-1252; say so rather than refusing the file.
        warnings.append(f"not valid UTF-8 (byte {exc.start}); read as Windows-1252 / Latin-1")
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


# One CSV record as read: the line it starts on (1-based), its fields, and why it is bad.
_Record = tuple[int, list[str], str | None]


@contextmanager
def _field_limit(chars: int) -> Iterator[None]:
    # The csv module refuses fields over 131072 chars and then loses its place in the file;
    # lift the limit while this parse runs and judge field sizes ourselves, naming the line.
    with _FIELD_LIMIT_LOCK:
        before = csv.field_size_limit(max(csv.field_size_limit(), chars))
        _field_limit_users.append(_field_limit_users[0] if _field_limit_users else before)
    try:
        yield
    finally:
        with _FIELD_LIMIT_LOCK:
            original = _field_limit_users.pop()
            if not _field_limit_users:
                csv.field_size_limit(original)


def _lone_fields(line: str) -> list[str]:
    """One physical line parsed on its own (lenient), for reporting it as a row."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return [line]


def _is_row(line: str, width: int) -> bool:
    """Whether one physical line is, on its own, a well-formed row of ``width`` fields."""
    try:
        rows = list(csv.reader([line], strict=True))
    except csv.Error:
        return False
    return len(rows) == 1 and len(rows[0]) == width


def _quoting_error(lines: Sequence[str]) -> str | None:
    """Why ``lines`` fail strict CSV quoting (a quote left open, text after a closing
    quote), or None when they parse cleanly."""
    try:
        for _ in csv.reader(lines, strict=True):
            pass
    except csv.Error as exc:
        return str(exc)
    return None


def _quote_problem(
    lines: Sequence[str], first: int, last: int, fields: list[str], header: list[str]
) -> tuple[str, bool] | None:
    """Why the record on ``lines[first..last]`` (0-based) is a broken quote, or None.

    A quoted field may hold newlines, so a multi-line record is fine unless its quoting is
    malformed or a continuation line is itself a complete row of the header's width (rows a
    stray quote swallowed). A record that ends the file with its quote still open is broken
    too. Returns the reason and whether the swallowed lines should be read again as rows.
    """
    at_end = last == len(lines) - 1
    if first == last and not at_end:
        return None  # the common case costs nothing
    span = lines[first : last + 1]
    error = _quoting_error(span)
    # The csv module's strict-mode message for a quote still open when the data runs out.
    open_at_end = error is not None and "end of data" in error
    if first == last and not open_at_end:
        return None  # a last line that is complete, like any other line
    width = len(header)
    swallowed = sum(_is_row(line, width) for line in span[1:]) if width > 1 else 0
    if not swallowed and error is None:
        return None  # a quoted field with newlines in it: legitimate
    index = next((i for i, v in enumerate(fields) if "\n" in v or "\r" in v), len(fields) - 1)
    name = header[index] if 0 <= index < width else f"field {index + 1}"
    if open_at_end:
        end = f" (line {last + 1})" if last > first else ""
        reason = f"{name}: unbalanced quote: this field runs from line {first + 1} to the end"
        reason += f" of the file{end}"
    else:
        reason = f"{name}: unbalanced quote: this field runs over lines {first + 1}-{last + 1}"
    if swallowed:
        reason += f" and swallowed {swallowed} row{'s' if swallowed > 1 else ''}"
    return reason + "; fix the quote", swallowed > 0


def _field_problem(fields: Sequence[str], header: Sequence[str], max_bytes: int) -> str | None:
    """A NUL byte or an oversized field: the row is rejected before anything reads it."""
    for index, value in enumerate(fields):
        name = header[index] if index < len(header) else f"field {index + 1}"
        if "\x00" in value:
            # PostgreSQL refuses NUL in text, and the error would lose the whole batch.
            return f"{name}: contains a NUL byte"
        # A char is at most 4 UTF-8 bytes: encode only fields that might be over the limit.
        if len(value) > max_bytes // 4 and len(value.encode("utf-8")) > max_bytes:
            size = len(value.encode("utf-8"))
            return f"{name}: field is {size} bytes, over the {max_bytes}-byte limit"
    return None


def _records(text: str, max_field_bytes: int) -> Iterator[_Record]:
    """Every record of ``text``, the header first, each with the line it starts on.

    Parsed with the csv module over physical lines, so each record's span is known; a
    record whose quote swallowed following rows is reported and those lines are read again
    from a fresh parser state, so one stray quote loses one row, not the rest of the file.
    """
    # Split like the csv module (newline, CR LF, CR) so line numbers match what editors show.
    lines, longest = list(io.StringIO(text, newline="")), len(text) + 1
    del text  # the lines hold it all; a large export should not be in memory twice
    # Held while the caller iterates (rows are read lazily), restored when it is done.
    with _field_limit(longest):
        reader = csv.reader(lines)
        try:
            header = next(reader, None)
            start: int | None = reader.line_num
        except csv.Error:  # not expected once the field limit is lifted
            header, start = _lone_fields(lines[0]), 1
        if header is None:
            return
        yield 1, header, None
        while start is not None and start < len(lines):
            start = yield from _records_from(lines, start, header, max_field_bytes)


def _records_from(
    lines: list[str], start: int, header: list[str], max_field_bytes: int
) -> Generator[_Record, None, int | None]:
    """The records from ``lines[start]`` on; returns where to parse again after a stray
    quote (the line after it), or None at the end of the file."""
    # Fast path: a one-line record with no NUL, too short to hold an oversized field (a char
    # is at most 4 UTF-8 bytes), that does not end the file (so it hides no open quote).
    short, end = max_field_bytes // 4, len(lines) - 1
    reader, last = csv.reader(islice(lines, start, None)), start - 1
    try:
        for fields in reader:
            first, last = last + 1, start + reader.line_num - 1
            line = lines[first]
            if first == last != end and len(line) <= short and "\x00" not in line:
                yield first + 1, fields, None
                continue
            broken = _quote_problem(lines, first, last, fields, header)
            if broken is None:
                yield first + 1, fields, _field_problem(fields, header, max_field_bytes)
                continue
            reason, reread = broken
            yield first + 1, _lone_fields(line) if reread else fields, reason
            if reread:
                return first + 1
    except csv.Error as exc:  # not expected once the field limit is lifted
        bad = start + reader.line_num - 1
        yield last + 2, _lone_fields(lines[bad]), f"unreadable CSV: {exc}"
        return bad + 1
    return None


def read_rows(
    path: Path,
    *,
    columns: Sequence[str],
    required: Sequence[str],
    mapping: Mapping[str, str] | None = None,
    warnings: list[str],
    max_field_bytes: int = MAX_FIELD_BYTES,
) -> tuple[list[str], Iterator[tuple[int, dict[str, str], dict[str, str] | str]]]:
    """Open a CSV and yield ``(line, raw_row, canonical_row_or_error)`` for every data row.

    ``mapping`` maps canonical names to the export's column names. Returns the header too,
    so rejected rows can be written back in their original shape. A NUL byte, a field over
    ``max_field_bytes``, a stray quote or a wrong field count rejects that row only (the
    error names the line it starts on); the rest of the file is read as usual.
    """
    if not path.is_file():
        raise IngestError(f"{path}: file not found")
    records = _records(_decode(path, warnings), max_field_bytes)
    first = next(records, None)
    if first is None:
        raise IngestError(f"{path}: empty file; a header row is required")
    header = [h.strip() for h in first[1]]
    mapping = dict(mapping or {})
    source_of = {name: mapping.get(name, name) for name in columns}
    missing = [name for name in required if source_of[name] not in header]

    def shown(names: Iterable[str]) -> str:  # header names are export data: print them safely
        return ", ".join(printable("".join(clip_text(n, 200))) for n in names)

    if missing:
        wanted = ", ".join(f"{m} (looked for column {source_of[m]!r})" for m in missing)
        raise IngestError(
            f"{path}: missing required column(s): {wanted}. Columns in the file: "
            f"{shown(header)}. Use --map COLUMN=SourceColumn to map differently named columns."
        )
    used = set(source_of.values())
    unknown = [h for h in header if h not in used]
    if unknown:
        warnings.append(f"unknown column(s) ignored: {shown(unknown)}")
    absent = [n for n in columns if n not in required and source_of[n] not in header]
    if absent:
        warnings.append(f"optional column(s) absent, defaults used: {', '.join(absent)}")

    def rows() -> Iterator[tuple[int, dict[str, str], dict[str, str] | str]]:
        for line, values, problem in records:
            if problem is None and not any(v.strip() for v in values):
                continue  # blank lines are noise, not errors
            raw = dict(zip(header, values, strict=False))
            if problem is not None:
                yield line, raw, problem
            elif len(values) != len(header):
                n = len(values)
                yield line, raw, f"row has {n} fields but the header has {len(header)}"
            else:
                yield line, raw, {name: raw.get(src, "") for name, src in source_of.items()}

    return header, rows()
