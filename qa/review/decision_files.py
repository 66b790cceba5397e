"""Decisions in and out of callqa: ``qa decisions export`` and ``qa decisions import``.

Export writes every decision (history included) as CSV (spreadsheet-safe, ``qa.safecsv``) or
JSON lines. Import reads a table of labels from another tool, one decision a row:

    call_id, reviewer, tag, present[, evidence, created_at, comment]

``call_id`` is the call's external id (as in ``calls.csv``); ``present`` is yes/no, true/false
or 1/0. A bad row is reported with its line and skipped; a row already imported (same call,
reviewer, tag, answer and time) is skipped, so importing a file twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlmodel import Session

from qa.ingest.csvfile import read_rows
from qa.safecsv import RECORD_FORMATS, write_records
from qa.store.schema import Call, Decision, User
from qa.store.writes import clean_tag, record_tag_decision

EXPORT_FORMATS = RECORD_FORMATS
EXPORT_COLUMNS = ("id", "call_id", "reviewer", "role", "tag", "present", "scope", "turn_index",
                  "span_start", "span_end", "evidence", "comment", "origin", "round_id",
                  "created_at")  # fmt: skip
IMPORT_COLUMNS = ("call_id", "reviewer", "tag", "present", "evidence", "created_at", "comment")
IMPORT_REQUIRED = ("call_id", "reviewer", "tag", "present")
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "present"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "absent"})


@dataclass
class ImportReport:
    """What an import did: rows added, duplicates skipped, problems by line."""

    added: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def decision_rows(session: Session) -> Iterator[dict[str, Any]]:
    """Every decision, oldest first, as a flat dict of :data:`EXPORT_COLUMNS`."""
    stmt = (
        select(Decision, Call.external_id)
        .join(Call, Call.id == Decision.call_id)
        .order_by(Decision.created_at, Decision.id)
    )
    for d, external_id in session.execute(stmt):
        yield {
            "id": d.id, "call_id": external_id, "reviewer": d.reviewer, "role": d.role,
            "tag": d.tag, "present": d.present, "scope": d.source or "call",
            "turn_index": d.turn_index, "span_start": d.span_start, "span_end": d.span_end,
            "evidence": d.evidence, "comment": d.comment, "origin": d.origin,
            "round_id": d.round_id, "created_at": d.created_at.isoformat(timespec="seconds"),
        }  # fmt: skip


def export_decisions(session: Session, out: IO[str], fmt: str = "csv") -> int:
    """Write every decision to ``out`` as ``fmt`` (``csv`` or ``jsonl``); returns the count."""
    return write_records(decision_rows(session), EXPORT_COLUMNS, out, fmt)


def parse_present(value: str) -> bool:
    """yes/no, true/false, 1/0, present/absent (any case) as a bool; else ValueError."""
    word = value.strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    valid = ", ".join(sorted(TRUE_WORDS | FALSE_WORDS))
    raise ValueError(f"present {value!r} is not one of: {valid}")


def _parse_time(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=None)
    except ValueError:
        raise ValueError(f"created_at {value!r} is not an ISO date/time") from None


def import_decisions(session: Session, path: Path) -> ImportReport:
    """Add the decisions in the CSV at ``path`` (see the module doc). The reviewer's role
    is their callqa user's role when they have one, else ``reviewer``."""
    report = ImportReport()
    _, rows = read_rows(path, columns=IMPORT_COLUMNS, required=IMPORT_REQUIRED,
                        warnings=report.warnings)  # fmt: skip
    calls = dict(session.execute(select(Call.external_id, Call.id)).all())
    roles = dict(session.execute(select(User.name, User.role)).all())
    seen = {
        (d.call_id, d.reviewer, d.tag, d.present, d.created_at)
        for d in session.scalars(select(Decision).where(Decision.origin == "import"))
    }
    now = datetime.now()
    for line, _, row in rows:
        if isinstance(row, str):
            report.errors.append(f"line {line}: {row}")
            continue
        try:
            call_id = calls.get(row["call_id"].strip())
            if call_id is None:
                raise ValueError(f"no call with id {row['call_id'].strip()!r}")
            reviewer = row["reviewer"].strip()
            if not reviewer:
                raise ValueError("reviewer is empty")
            tag, present = clean_tag(row["tag"]), parse_present(row["present"])
            when = _parse_time(row["created_at"]) or now
        except ValueError as exc:
            report.errors.append(f"line {line}: {exc}")
            continue
        key = (call_id, reviewer, tag, present, when)
        if row["created_at"].strip() and key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        added = record_tag_decision(
            session=session, call_id=call_id, tag=tag, present=present, reviewer=reviewer,
            role=roles.get(reviewer, "reviewer"), comment=row["comment"].strip(),
            origin="import", created_at=when,
        )  # fmt: skip
        # Evidence from another tool has no offsets here: kept as the whole-call decision's text.
        added.evidence = row["evidence"].strip()
        report.added += 1
    session.flush()
    return report
