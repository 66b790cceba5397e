"""Ingest telephony and survey exports: validate every row, upsert the good ones, report the rest.

Bad rows never stop a file: each is reported with its file, line and reason and written to a
rejects CSV beside the input, and the good rows are stored. Re-ingesting the same file changes
nothing (upsert by ``call_id``), so a corrected file can simply be ingested again.
Reading the CSV is :mod:`qa.ingest.csvfile`; writing the records is :mod:`qa.ingest.upsert`;
what happens to rejected rows is :mod:`qa.ingest.rejects`.

An export is untrusted: a NUL byte, a huge field or a stray quote rejects its own row and
nothing more (:func:`read_rows`), a value the database would refuse rejects its row before the
batch is written, and the rejects file and problem lines carry redacted, clipped text only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session

from qa.ingest.csvfile import IngestError, read_rows
from qa.ingest.records import (
    CALL_COLUMNS,
    CALL_REQUIRED,
    DEFAULT_OPTIONS,
    MAX_FIELD_BYTES,
    MIN_DATE,
    SURVEY_COLUMNS,
    SURVEY_REQUIRED,
    CallRecord,
    IngestOptions,
    RowError,
    SurveyRecord,
    parse_call,
    parse_survey,
    parse_timestamp,
)
from qa.ingest.rejects import Redact, Reject, clean_rejects, write_rejects
from qa.ingest.report import IngestReport
from qa.ingest.upsert import Origins, as_row, store, write_calls, write_surveys
from qa.store.schema import Call, Survey

T = TypeVar("T")


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


def options_from_cli(
    recordings_root: Path | None = None,
    max_date: str | None = None,
    max_field_bytes: int | None = None,
) -> IngestOptions:
    """:class:`IngestOptions` from command-line values (``--max-date`` as ISO text), or an
    :class:`IngestError` naming the option that is wrong."""
    if recordings_root is not None and not recordings_root.is_dir():
        raise IngestError(f"--recordings-root {recordings_root}: not a folder")
    latest = None
    if max_date is not None:
        try:
            latest = parse_timestamp(max_date, "--max-date")
        except RowError as exc:
            raise IngestError(str(exc)) from None
        if latest < MIN_DATE:
            raise IngestError(f"--max-date {max_date!r} is before {MIN_DATE:%Y-%m-%d}")
    if max_field_bytes is None:
        max_field_bytes = MAX_FIELD_BYTES
    elif max_field_bytes < 1:
        raise IngestError(f"--max-field-bytes {max_field_bytes}: must be at least 1")
    return IngestOptions(recordings_root, latest, max_field_bytes)


def _validate(
    rows: Iterable[tuple[int, dict[str, str], dict[str, str] | str]],
    parse: Callable[[dict[str, str]], T],
    key: Callable[[T], str],
    report: IngestReport,
) -> tuple[list[T], Origins]:
    records: list[T] = []
    origins: Origins = {}
    for line, raw, row in rows:
        try:
            if isinstance(row, str):
                raise RowError(row)
            record = parse(row)
            ident = key(record)
            if ident in origins:
                raise RowError(f"duplicate call_id {ident!r} (first seen on line {origins[ident]})")
        except RowError as exc:
            report.rejects.append(Reject(line=line, reason=str(exc), row=raw))
            continue
        origins[ident] = line
        records.append(record)
    return records, origins


def _check_length(table: Any, column: str, field_name: str, value: str | None) -> None:
    """A value longer than its column: SQLite keeps it, PostgreSQL refuses the whole batch."""
    limit = getattr(table.__table__.columns[column].type, "length", None)
    if value is not None and limit is not None and len(value) > limit:
        raise RowError(
            f"{field_name}: {len(value)} characters, longer than the {limit} the database holds"
        )


def _parse_call_row(row: dict[str, str], base_dir: Path, options: IngestOptions) -> CallRecord:
    record = parse_call(row, base_dir=base_dir, options=options)
    _check_length(Call, "external_id", "call_id", record.call_id)
    for name in ("agent_id", "agent_name", "team", "queue", "customer_id"):
        _check_length(Call, name, name, getattr(record, name))
    recording = str(record.recording) if record.recording else None
    _check_length(Call, "recording_path", "recording", recording)
    return record


def _parse_survey_row(row: dict[str, str], options: IngestOptions) -> SurveyRecord:
    record = parse_survey(row, options=options)
    _check_length(Survey, "call_external_id", "call_id", record.call_id)
    return record


def _redact_comments(records: list[SurveyRecord], redact: Redact) -> list[SurveyRecord]:
    texts = [r.comment for r in records]
    cleaned = redact(texts)
    return [replace(r, comment=c) for r, c in zip(records, cleaned, strict=True)]


def _finish(
    report: IngestReport, header: list[str], rejects_path: Path | None, redact: Redact | None
) -> IngestReport:
    target = rejects_path or report.file.with_name(f"{report.file.stem}.rejects.csv")
    if report.rejects:
        # Cleaned in the report itself, so printed lines and the run audit row are clean too.
        report.rejects = clean_rejects(report.rejects, header, redact)
        write_rejects(target, header, report.rejects, report.file)
        report.rejects_path = target
    elif target.exists():
        target.unlink()  # a stale rejects file from an earlier run would mislead
    return report


def ingest_calls(
    path: Path, *, session: Session, mapping: Mapping[str, str] | None = None,
    rejects_path: Path | None = None, redact: Redact | None = None,
    options: IngestOptions = DEFAULT_OPTIONS,
) -> IngestReport:  # fmt: skip
    """Validate and upsert a ``calls.csv``.

    Recordings must lie inside its folder, or ``options.recordings_root`` (see
    ``qa.ingest.records.IngestOptions`` for every bound). ``redact`` (texts -> redacted texts)
    cleans rejected rows and reasons before they are printed or written.
    """
    path = Path(path)
    report = IngestReport(file=path, kind="calls")
    header, rows = read_rows(path, columns=CALL_COLUMNS, required=CALL_REQUIRED,
                             mapping=mapping, warnings=report.warnings,
                             max_field_bytes=options.max_field_bytes)  # fmt: skip
    base = path.resolve().parent
    records, origins = _validate(
        rows, lambda row: _parse_call_row(row, base, options), lambda r: r.call_id, report
    )
    shape = partial(as_row, columns=CALL_COLUMNS, mapping=mapping)
    store(session, records, write_calls, lambda r: r.call_id, origins, shape, report)
    return _finish(report, header, rejects_path, redact)


def ingest_surveys(
    path: Path, *, session: Session, mapping: Mapping[str, str] | None = None,
    rejects_path: Path | None = None, redact: Redact | None = None,
    options: IngestOptions = DEFAULT_OPTIONS,
) -> IngestReport:  # fmt: skip
    """Validate and upsert a ``surveys.csv``; a survey may arrive before its call.

    ``redact`` (texts -> redacted texts) cleans comments of PII before they are stored, and
    rejected rows and reasons before they are printed or written.
    """
    path = Path(path)
    report = IngestReport(file=path, kind="surveys")
    header, rows = read_rows(path, columns=SURVEY_COLUMNS, required=SURVEY_REQUIRED,
                             mapping=mapping, warnings=report.warnings,
                             max_field_bytes=options.max_field_bytes)  # fmt: skip
    records, origins = _validate(
        rows, lambda row: _parse_survey_row(row, options), lambda r: r.call_id, report
    )
    if redact is not None:
        records = _redact_comments(records, redact)
    shape = partial(as_row, columns=SURVEY_COLUMNS, mapping=mapping)
    store(session, records, write_surveys, lambda r: r.call_id, origins, shape, report)
    return _finish(report, header, rejects_path, redact)
