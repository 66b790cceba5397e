"""Write validated records: upsert by ``call_id`` in chunks, one commit each, and reject only
the rows the database refuses (``qa.ingest.exports`` validates and reports).

A call whose recording changed (path or SHA-256) goes back to ``pending`` so the next run
transcribes and tags it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, select

from qa.ingest.records import CallRecord, SurveyRecord
from qa.ingest.rejects import Reject
from qa.ingest.report import IngestReport
from qa.store.schema import Call, Survey

T = TypeVar("T")
CHUNK = 500


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Refused(Exception):
    """One record cannot be written (its recording became unreadable); reject it alone."""


# What one bad row can make the database raise; a lost connection is not among them and
# still stops the ingest (exit 1), rather than rejecting every row.
_ROW_ERRORS = (DataError, IntegrityError, _Refused)


# The line each record came from, by call_id, to reject it if the database refuses it.
Origins = dict[str, int]


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
    try:
        values["recording_sha256"] = sha256_file(record.recording) if record.recording else None
    except OSError as exc:  # removed or made unreadable since validation
        raise _Refused(f"recording: cannot read {record.recording}: {exc.strerror}") from None
    return values


def write_calls(session: Session, chunk: Sequence[CallRecord]) -> list[str]:
    """Upsert one chunk (uncommitted); returns each record's outcome."""
    ids = [r.call_id for r in chunk]
    existing = {
        c.external_id: c for c in session.exec(select(Call).where(Call.external_id.in_(ids)))
    }
    outcomes = []
    for record in chunk:
        values = _call_values(record)
        call = existing.get(record.call_id)
        if call is None:
            session.add(Call(external_id=record.call_id, **values))
            outcomes.append("inserted")
            continue
        audio_changed = (call.recording_path, call.recording_sha256) != (
            values["recording_path"], values["recording_sha256"])  # fmt: skip
        if _apply(call, values):
            outcomes.append("updated")
            if audio_changed:
                # New or corrected audio: transcribe (and so tag) again on the next run.
                call.status, call.error = "pending", None
        else:
            outcomes.append("unchanged")
    return outcomes


def write_surveys(session: Session, chunk: Sequence[SurveyRecord]) -> list[str]:
    """Upsert one chunk (uncommitted); returns each record's outcome."""
    ids = [r.call_id for r in chunk]
    query = select(Survey).where(Survey.call_external_id.in_(ids))
    existing = {s.call_external_id: s for s in session.exec(query)}
    outcomes = []
    for record in chunk:
        values = {
            n: getattr(record, n) for n in ("submitted_at", "csat", "nps", "ces", "fcr", "comment")
        }
        survey = existing.get(record.call_id)
        if survey is None:
            session.add(Survey(call_external_id=record.call_id, **values))
            outcomes.append("inserted")
        elif _apply(survey, values):
            outcomes.append("updated")
        else:
            outcomes.append("unchanged")
    return outcomes


def as_row(
    record: Any, columns: Sequence[str], mapping: Mapping[str, str] | None
) -> dict[str, str]:
    """A validated record in the file's own column names (for a row refused at write time;
    the raw rows are not kept, as that would double the memory a large file needs)."""
    names = dict(mapping or {})
    values = {name: getattr(record, name, None) for name in columns}
    return {names.get(n, n): "" if v is None else str(v) for n, v in values.items()}


def store(
    session: Session,
    records: Sequence[T],
    write: Callable[[Session, Sequence[T]], list[str]],
    key: Callable[[T], str],
    origins: Origins,
    shape: Callable[[T], dict[str, str]],
    report: IngestReport,
) -> None:
    """Write ``records`` in chunks, one commit each. When a chunk fails, its rows are written
    one by one, so a row the database refuses rejects that row, not the 499 beside it."""

    def commit(chunk: Sequence[T]) -> None:
        outcomes = write(session, chunk)
        session.commit()  # counted only once it is in the database
        report.inserted += outcomes.count("inserted")
        report.updated += outcomes.count("updated")
        report.unchanged += outcomes.count("unchanged")

    for chunk in _chunks(records):
        try:
            commit(chunk)
            continue
        except _ROW_ERRORS:
            session.rollback()
        for record in chunk:
            try:
                commit([record])
            except _ROW_ERRORS as exc:
                session.rollback()
                if isinstance(exc, DataError | IntegrityError):
                    first_line = (str(exc.orig).splitlines() or [type(exc.orig).__name__])[0]
                    reason = f"the database refused the row: {first_line}"
                else:
                    reason = str(exc)
                line = origins[key(record)]
                report.rejects.append(Reject(line=line, reason=reason, row=shape(record)))
    report.rejects.sort(key=lambda r: r.line)
