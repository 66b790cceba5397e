"""Ingest telephony and survey exports: validate every row, upsert the good ones, report the rest.

Bad rows never stop a file: each is reported with its file, line and reason and written to a
rejects CSV beside the input, and the good rows are stored. Re-ingesting the same file changes
nothing (upsert by ``call_id``), so a corrected file can simply be ingested again.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session, select

from qa.records import (
    CALL_COLUMNS,
    CALL_REQUIRED,
    SURVEY_COLUMNS,
    SURVEY_REQUIRED,
    CallRecord,
    RowError,
    SurveyRecord,
    parse_call,
    parse_survey,
)
from qa.tables import Call, Survey

T = TypeVar("T")
CHUNK = 500


class IngestError(Exception):
    """The file as a whole cannot be read (missing, no header, missing required columns)."""


@dataclass(frozen=True)
class Reject:
    """A row that was not stored, with where it was and why."""

    line: int
    reason: str
    row: dict[str, str]


@dataclass
class IngestReport:
    """What one ``ingest`` of one file did."""

    file: Path
    kind: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects_path: Path | None = None

    @property
    def stored(self) -> int:
        """Rows now in the database (new, changed or already identical)."""
        return self.inserted + self.updated + self.unchanged

    def lines(self) -> list[str]:
        """Human-readable problem lines: ``file:line: reason``."""
        out = [f"{self.file}: warning: {w}" for w in self.warnings]
        out += [f"{self.file}:{r.line}: {r.reason}" for r in self.rejects]
        return out


def parse_mapping(
    items: Sequence[str], columns: Sequence[str] = CALL_COLUMNS + SURVEY_COLUMNS
) -> dict[str, str]:
    """``["started_at=StartTime"]`` -> ``{"started_at": "StartTime"}``, checking the names."""
    mapping: dict[str, str] = {}
    for item in items:
        name, sep, source = item.partition("=")
        name, source = name.strip(), source.strip()
        if not sep or not name or not source:
            raise IngestError(
                f"--map {item!r}: expected COLUMN=SourceColumn, e.g. started_at=StartTime"
            )
        if name not in columns:
            valid = ", ".join(dict.fromkeys(columns))
            raise IngestError(f"--map {item!r}: unknown column {name!r}; valid: {valid}")
        mapping[name] = source
    return mapping


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


def read_rows(
    path: Path,
    *,
    columns: Sequence[str],
    required: Sequence[str],
    mapping: Mapping[str, str] | None = None,
    warnings: list[str],
) -> tuple[list[str], Iterator[tuple[int, dict[str, str], dict[str, str] | str]]]:
    """Open a CSV and yield ``(line, raw_row, canonical_row_or_error)`` for every data row.

    ``mapping`` maps canonical names to the export's column names. Returns the header too,
    so rejected rows can be written back in their original shape.
    """
    if not path.is_file():
        raise IngestError(f"{path}: file not found")
    reader = csv.reader(io.StringIO(_decode(path, warnings), newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise IngestError(f"{path}: empty file; a header row is required") from None
    mapping = dict(mapping or {})
    source_of = {name: mapping.get(name, name) for name in columns}
    missing = [name for name in required if source_of[name] not in header]
    if missing:
        wanted = ", ".join(f"{m} (looked for column {source_of[m]!r})" for m in missing)
        raise IngestError(
            f"{path}: missing required column(s): {wanted}. Columns in the file: "
            f"{', '.join(header)}. Use --map COLUMN=SourceColumn to map differently named columns."
        )
    used = set(source_of.values())
    unknown = [h for h in header if h not in used]
    if unknown:
        warnings.append(f"unknown column(s) ignored: {', '.join(unknown)}")
    absent = [n for n in columns if n not in required and source_of[n] not in header]
    if absent:
        warnings.append(f"optional column(s) absent, defaults used: {', '.join(absent)}")

    def rows() -> Iterator[tuple[int, dict[str, str], dict[str, str] | str]]:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue  # blank lines are noise, not errors
            raw = dict(zip(header, values, strict=False))
            if len(values) != len(header):
                yield line, raw, f"row has {len(values)} fields but the header has {len(header)}"
                continue
            yield line, raw, {name: raw.get(src, "") for name, src in source_of.items()}

    return header, rows()


def write_rejects(
    path: Path, header: Sequence[str], rejects: Sequence[Reject], source: Path
) -> None:
    """Write rejected rows in their original shape, prefixed by file, line and reason."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "reason", *header])
        for r in rejects:
            writer.writerow([str(source), r.line, r.reason, *(r.row.get(h, "") for h in header)])


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _validate(
    rows: Iterable[tuple[int, dict[str, str], dict[str, str] | str]],
    parse: Callable[[dict[str, str]], T],
    key: Callable[[T], str],
    report: IngestReport,
) -> list[T]:
    records: list[T] = []
    first_line: dict[str, int] = {}
    for line, raw, row in rows:
        try:
            if isinstance(row, str):
                raise RowError(row)
            record = parse(row)
            ident = key(record)
            if ident in first_line:
                raise RowError(
                    f"duplicate call_id {ident!r} (first seen on line {first_line[ident]})"
                )
        except RowError as exc:
            report.rejects.append(Reject(line=line, reason=str(exc), row=raw))
            continue
        first_line[ident] = line
        records.append(record)
    return records


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _apply(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _call_values(record: CallRecord) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: getattr(record, name)
        for name in ("started_at", "agent_id", "agent_name", "team", "queue", "customer_id",
                     "direction", "wait_seconds", "talk_seconds", "hold_seconds",
                     "acw_seconds", "abandoned", "transferred")
    }  # fmt: skip
    values["recording_path"] = str(record.recording) if record.recording else None
    values["recording_sha256"] = sha256_file(record.recording) if record.recording else None
    return values


def _store_calls(session: Session, records: Sequence[CallRecord], report: IngestReport) -> None:
    for chunk in _chunks(records):
        ids = [r.call_id for r in chunk]
        existing = {
            c.external_id: c for c in session.exec(select(Call).where(Call.external_id.in_(ids)))
        }
        for record in chunk:
            values = _call_values(record)
            call = existing.get(record.call_id)
            if call is None:
                session.add(Call(external_id=record.call_id, **values))
                report.inserted += 1
                continue
            audio_changed = (call.recording_path, call.recording_sha256) != (
                values["recording_path"], values["recording_sha256"])  # fmt: skip
            if _apply(call, values):
                report.updated += 1
                if audio_changed:
                    # New or corrected audio: transcribe (and so tag) again on the next run.
                    call.status, call.error = "pending", None
            else:
                report.unchanged += 1
        session.commit()


def _redact_comments(
    records: list[SurveyRecord], redact: Callable[[list[str]], list[str]]
) -> list[SurveyRecord]:
    texts = [r.comment for r in records]
    cleaned = redact(texts)
    return [replace(r, comment=c) for r, c in zip(records, cleaned, strict=True)]


def _store_surveys(session: Session, records: Sequence[SurveyRecord], report: IngestReport) -> None:
    for chunk in _chunks(records):
        ids = [r.call_id for r in chunk]
        query = select(Survey).where(Survey.call_external_id.in_(ids))
        existing = {s.call_external_id: s for s in session.exec(query)}
        for record in chunk:
            values = {
                n: getattr(record, n)
                for n in ("submitted_at", "csat", "nps", "ces", "fcr", "comment")
            }
            survey = existing.get(record.call_id)
            if survey is None:
                session.add(Survey(call_external_id=record.call_id, **values))
                report.inserted += 1
            elif _apply(survey, values):
                report.updated += 1
            else:
                report.unchanged += 1
        session.commit()


def _finish(report: IngestReport, header: list[str], rejects_path: Path | None) -> IngestReport:
    target = rejects_path or report.file.with_name(f"{report.file.stem}.rejects.csv")
    if report.rejects:
        write_rejects(target, header, report.rejects, report.file)
        report.rejects_path = target
    elif target.exists():
        target.unlink()  # a stale rejects file from an earlier run would mislead
    return report


def ingest_calls(
    path: Path, *, session: Session, mapping: Mapping[str, str] | None = None,
    rejects_path: Path | None = None,
) -> IngestReport:  # fmt: skip
    """Validate and upsert a ``calls.csv``; recordings are resolved against its folder."""
    path = Path(path)
    report = IngestReport(file=path, kind="calls")
    header, rows = read_rows(path, columns=CALL_COLUMNS, required=CALL_REQUIRED,
                             mapping=mapping, warnings=report.warnings)  # fmt: skip
    base = path.resolve().parent
    records = _validate(
        rows, lambda row: parse_call(row, base_dir=base), lambda r: r.call_id, report
    )
    _store_calls(session, records, report)
    return _finish(report, header, rejects_path)


def ingest_surveys(
    path: Path, *, session: Session, mapping: Mapping[str, str] | None = None,
    rejects_path: Path | None = None, redact: Callable[[list[str]], list[str]] | None = None,
) -> IngestReport:  # fmt: skip
    """Validate and upsert a ``surveys.csv``; a survey may arrive before its call.

    ``redact`` (texts -> redacted texts) cleans comments of PII before they are stored.
    """
    path = Path(path)
    report = IngestReport(file=path, kind="surveys")
    header, rows = read_rows(path, columns=SURVEY_COLUMNS, required=SURVEY_REQUIRED,
                             mapping=mapping, warnings=report.warnings)  # fmt: skip
    records = _validate(rows, parse_survey, lambda r: r.call_id, report)
    if redact is not None:
        records = _redact_comments(records, redact)
    _store_surveys(session, records, report)
    return _finish(report, header, rejects_path)
