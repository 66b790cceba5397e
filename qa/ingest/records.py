"""Validated input rows: ``calls.csv`` and ``surveys.csv`` rows parsed into frozen dataclasses.

Each ``parse_*`` function takes one raw CSV row (already renamed to canonical column names)
and returns a record or raises :class:`RowError` saying which field was wrong and why.

Beyond its type, every value is bounded (:class:`IngestOptions`): dates between 2000-01-01 and
one day from now, durations 0-24 h, recordings confined to the export folder. An export is
untrusted input, and a value that passes here must never crash or poison anything downstream.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
# No contact center exported calls before 2000; an earlier date is a typo or a poisoned row.
MIN_DATE = datetime(2000, 1, 1)
# Slack above "now" for clock skew and time zones (naive times are local wall-clock times).
FUTURE_SLACK = timedelta(days=1)
MAX_SECONDS = 86_400.0  # one call segment longer than a day is not a call
MAX_FIELD_BYTES = 1_000_000


class RowError(ValueError):
    """A row failed validation; the message names the field and the reason."""


@dataclass(frozen=True)
class IngestOptions:
    """Limits on what an export may contain, set by ``qa ingest`` / ``qa nightly`` options.

    ``recordings_root``: recordings must resolve inside it (default: the CSV's own folder),
    and relative ``recording`` paths are read from it. ``max_date``: latest accepted date
    (default: one day after now). ``max_field_bytes``: a longer CSV field rejects its row.
    """

    recordings_root: Path | None = None
    max_date: datetime | None = None
    max_field_bytes: int = MAX_FIELD_BYTES

    def latest_date(self) -> datetime:
        """The upper date bound: ``max_date``, or one day after now (naive, UTC)."""
        if self.max_date is not None:
            return self.max_date
        return datetime.now(UTC).replace(tzinfo=None) + FUTURE_SLACK


DEFAULT_OPTIONS = IngestOptions()


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


def parse_date_in_range(value: str, field: str, options: IngestOptions) -> datetime:
    """:func:`parse_timestamp`, then 2000-01-01 <= date <= ``options.latest_date()``.

    Out-of-range dates (``9999-12-31``) overflow date arithmetic in the KPIs and reports.
    """
    parsed = parse_timestamp(value, field)
    if parsed < MIN_DATE:
        raise RowError(f"{field}: {value!r} is before {MIN_DATE:%Y-%m-%d}")
    latest = options.latest_date()
    if parsed > latest:
        limit = "--max-date" if options.max_date is not None else "one day from now"
        raise RowError(
            f"{field}: {value!r} is after {latest:%Y-%m-%dT%H:%M:%S} ({limit}); "
            "use --max-date to accept later dates"
        )
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
    """A number of seconds, 0 to 24 h; blank means 0.

    The cap keeps sums over millions of calls finite (two rows of ``1e308`` overflow to inf).
    """
    text = value.strip()
    if not text:
        return 0.0
    try:
        number = float(text)
    except ValueError:
        raise RowError(f"{field}: {value!r} is not a number of seconds") from None
    if math.isnan(number) or math.isinf(number) or number < 0:
        raise RowError(f"{field}: {value!r} must be a finite number >= 0")
    if number > MAX_SECONDS:
        raise RowError(f"{field}: {value!r} is over 24 hours; expected seconds 0-{MAX_SECONDS:.0f}")
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
    # is_integer() is False for inf and nan, so non-finite scores are out of range too.
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


def confined_recording(text: str, *, base_dir: Path, options: IngestOptions) -> Path:
    """The real path of a ``recording`` value, which must lie inside the allowed folder.

    The allowed folder is ``options.recordings_root`` or else ``base_dir`` (the CSV's folder);
    relative values are read from it. Symlinks are followed *before* the check, and nothing
    is opened until the path is known to be inside, so a row cannot make ingest read (and
    hash) ``/etc/shadow`` or ``../../secret``.
    """
    root_given = options.recordings_root is not None
    where = f"--recordings-root {options.recordings_root}" if root_given else "the export folder"
    try:
        root = (options.recordings_root or base_dir).resolve()
        resolved = (root / text).resolve()  # an absolute ``text`` replaces ``root`` here
    except (OSError, RuntimeError, ValueError) as exc:  # symlink loop, NUL in the path
        raise RowError(f"recording: {text!r} cannot be resolved: {exc}") from None
    if not resolved.is_relative_to(root):
        raise RowError(f"recording: {text!r} is outside {where}")
    if not resolved.is_file():
        raise RowError(f"recording: file not found: {text} (looked in {root})")
    return resolved


def parse_call(
    row: Mapping[str, str], *, base_dir: Path, options: IngestOptions = DEFAULT_OPTIONS
) -> CallRecord:
    """Validate one calls.csv row; ``recording`` must exist inside the allowed folder
    (see :func:`confined_recording`) and every value must be within ``options``' bounds."""
    direction = _text(row, "direction").lower() or "inbound"
    if direction not in DIRECTIONS:
        raise RowError(f"direction: {row.get('direction')!r} is not one of {DIRECTIONS}")
    recording_text = _text(row, "recording")
    recording: Path | None = None
    if recording_text:
        recording = confined_recording(recording_text, base_dir=base_dir, options=options)
    return CallRecord(
        call_id=_required(row, "call_id"),
        started_at=parse_date_in_range(_required(row, "started_at"), "started_at", options),
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


def parse_survey(
    row: Mapping[str, str], *, options: IngestOptions = DEFAULT_OPTIONS
) -> SurveyRecord:
    """Validate one surveys.csv row; every score may be blank, a date must be in range."""
    submitted = _text(row, "submitted_at")
    return SurveyRecord(
        call_id=_required(row, "call_id"),
        submitted_at=(
            parse_date_in_range(submitted, "submitted_at", options) if submitted else None
        ),
        csat=parse_score(row.get("csat") or "", "csat"),
        nps=parse_score(row.get("nps") or "", "nps"),
        ces=parse_score(row.get("ces") or "", "ces"),
        fcr=parse_bool(row.get("fcr") or "", "fcr", blank=None),
        comment=_text(row, "comment"),
    )
