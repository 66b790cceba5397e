"""Validated input rows: ``calls.csv`` and ``surveys.csv`` rows parsed into frozen dataclasses.

Each ``parse_*`` function takes one raw CSV row (already renamed to canonical column names)
and returns a record or raises :class:`RowError` saying which field was wrong and why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0"})
DIRECTIONS = ("inbound", "outbound")

CALL_COLUMNS = (
    "call_id", "started_at", "agent_id", "agent_name", "team", "queue", "customer_id",
    "direction", "wait_seconds", "talk_seconds", "hold_seconds", "acw_seconds", "abandoned",
    "transferred", "recording",
)  # fmt: skip
CALL_REQUIRED = ("call_id", "started_at")
SURVEY_COLUMNS = ("call_id", "submitted_at", "csat", "nps", "ces", "fcr", "comment")
SURVEY_REQUIRED = ("call_id",)
SCORE_RANGES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}


class RowError(ValueError):
    """A row failed validation; the message names the field and the reason."""


@dataclass(frozen=True)
class CallRecord:
    """One valid ``calls.csv`` row."""

    call_id: str
    started_at: datetime
    agent_id: str
    agent_name: str
    team: str
    queue: str
    customer_id: str
    direction: str
    wait_seconds: float
    talk_seconds: float
    hold_seconds: float
    acw_seconds: float
    abandoned: bool
    transferred: bool
    recording: Path | None


@dataclass(frozen=True)
class SurveyRecord:
    """One valid ``surveys.csv`` row."""

    call_id: str
    submitted_at: datetime | None
    csat: int | None
    nps: int | None
    ces: int | None
    fcr: bool | None
    comment: str


def parse_timestamp(value: str, field: str) -> datetime:
    """ISO 8601 -> naive datetime; offsets are converted to UTC (naive input is kept as is)."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise RowError(
            f"{field}: {value!r} is not an ISO 8601 timestamp (e.g. 2026-11-02T09:14:00)"
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def parse_bool(value: str, field: str, *, blank: bool | None = False) -> bool | None:
    """yes/no/true/false/1/0 (case-insensitive); blank gives ``blank``."""
    text = value.strip().lower()
    if not text:
        return blank
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise RowError(f"{field}: {value!r} is not a yes/no value (use yes/no, true/false or 1/0)")


def parse_seconds(value: str, field: str) -> float:
    """A non-negative number of seconds; blank means 0."""
    text = value.strip()
    if not text:
        return 0.0
    try:
        number = float(text)
    except ValueError:
        raise RowError(f"{field}: {value!r} is not a number of seconds") from None
    if math.isnan(number) or math.isinf(number) or number < 0:
        raise RowError(f"{field}: {value!r} must be a finite number >= 0")
    return number


def parse_score(value: str, field: str) -> int | None:
    """An integer score inside the field's range (DESIGN.md); blank means not answered."""
    text = value.strip()
    if not text:
        return None
    low, high = SCORE_RANGES[field]
    try:
        number = float(text)
    except ValueError:
        raise RowError(f"{field}: {value!r} is not a number ({low}-{high} expected)") from None
    if not number.is_integer() or not low <= number <= high:
        raise RowError(f"{field}: {value!r} is out of range; expected a whole number {low}-{high}")
    return int(number)


def _text(row: Mapping[str, str], field: str) -> str:
    return (row.get(field) or "").strip()


def _required(row: Mapping[str, str], field: str) -> str:
    value = _text(row, field)
    if not value:
        raise RowError(f"{field}: required value is blank")
    return value


def parse_call(row: Mapping[str, str], *, base_dir: Path) -> CallRecord:
    """Validate one calls.csv row; ``recording`` is resolved against ``base_dir`` and must exist."""
    direction = _text(row, "direction").lower() or "inbound"
    if direction not in DIRECTIONS:
        raise RowError(f"direction: {row.get('direction')!r} is not one of {DIRECTIONS}")
    recording_text = _text(row, "recording")
    recording: Path | None = None
    if recording_text:
        recording = (base_dir / recording_text).resolve()
        if not recording.is_file():
            raise RowError(f"recording: file not found: {recording_text} (looked in {base_dir})")
    return CallRecord(
        call_id=_required(row, "call_id"),
        started_at=parse_timestamp(_required(row, "started_at"), "started_at"),
        # Abandoned calls never reached an agent, so a blank agent is normal.
        agent_id=_text(row, "agent_id"),
        agent_name=_text(row, "agent_name"),
        team=_text(row, "team"),
        queue=_text(row, "queue"),
        customer_id=_text(row, "customer_id"),
        direction=direction,
        wait_seconds=parse_seconds(row.get("wait_seconds") or "", "wait_seconds"),
        talk_seconds=parse_seconds(row.get("talk_seconds") or "", "talk_seconds"),
        hold_seconds=parse_seconds(row.get("hold_seconds") or "", "hold_seconds"),
        acw_seconds=parse_seconds(row.get("acw_seconds") or "", "acw_seconds"),
        abandoned=bool(parse_bool(row.get("abandoned") or "", "abandoned")),
        transferred=bool(parse_bool(row.get("transferred") or "", "transferred")),
        recording=recording,
    )


def parse_survey(row: Mapping[str, str]) -> SurveyRecord:
    """Validate one surveys.csv row; every score may be blank."""
    submitted = _text(row, "submitted_at")
    return SurveyRecord(
        call_id=_required(row, "call_id"),
        submitted_at=parse_timestamp(submitted, "submitted_at") if submitted else None,
        csat=parse_score(row.get("csat") or "", "csat"),
        nps=parse_score(row.get("nps") or "", "nps"),
        ces=parse_score(row.get("ces") or "", "ces"),
        fcr=parse_bool(row.get("fcr") or "", "fcr", blank=None),
        comment=_text(row, "comment"),
    )
