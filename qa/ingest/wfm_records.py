"""Validated workforce rows: ``agent_states.csv``, ``schedule.csv`` and ``costs.csv``.

Each ``parse_*`` function takes one raw CSV row (already renamed to canonical column names)
and returns a frozen record or raises :class:`RowError` naming the field and the reason, as
``qa.ingest.records`` does for calls and surveys. Export names of states and activities
("Ready", "ACW", "Lunch") are mapped to callqa's vocabulary with ``--state-map``
(:func:`parse_state_map`). :func:`overlapping_agents` finds the agents whose intervals
overlap: all of such an agent's rows are rejected, never silently merged.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from qa.ingest.records import DEFAULT_OPTIONS, IngestOptions, RowError, parse_date_in_range
from qa.store.schema import AGENT_STATES, SCHEDULE_ACTIVITIES

STATE_COLUMNS = ("agent_id", "state", "started_at", "ended_at")
SCHEDULE_COLUMNS = ("agent_id", "activity", "started_at", "ended_at")
COST_COLUMNS = ("period_start", "period_end", "amount", "currency")
COST_REQUIRED = ("period_start", "period_end", "amount")
MAX_INTERVAL = timedelta(hours=24)  # one state or activity longer than a day is not real
MAX_AMOUNT = 1e12
CURRENCY = re.compile(r"^[A-Za-z]{1,8}$")


@dataclass(frozen=True)
class StateRecord:
    """One valid ``agent_states.csv`` row."""

    agent_id: str
    state: str
    started_at: datetime
    ended_at: datetime


@dataclass(frozen=True)
class ScheduleRecord:
    """One valid ``schedule.csv`` row."""

    agent_id: str
    activity: str
    started_at: datetime
    ended_at: datetime


@dataclass(frozen=True)
class CostRecord:
    """One valid ``costs.csv`` row: ``amount`` spent over ``[period_start, period_end)``."""

    period_start: datetime
    period_end: datetime
    amount: float
    currency: str


def normalise_name(text: str) -> str:
    """A state or activity name as compared: ``"On Call"`` / ``"on-call"`` -> ``on_call``."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def parse_state_map(items: Sequence[str]) -> dict[str, str]:
    """``["Ready=available", "Lunch=break"]`` -> ``{"ready": "available", "lunch": "break"}``.

    The target must be a state (``AGENT_STATES``) or an activity (``SCHEDULE_ACTIVITIES``);
    a ``ValueError`` lists the valid ones.
    """
    valid = tuple(dict.fromkeys((*AGENT_STATES, *SCHEDULE_ACTIVITIES)))
    mapping: dict[str, str] = {}
    for item in items:
        name, sep, target = item.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise ValueError(
                f"--state-map {item!r}: expected EXPORT_NAME=state, e.g. Ready=available"
            )
        canonical = normalise_name(target)
        if canonical not in valid:
            raise ValueError(
                f"--state-map {item!r}: unknown state or activity {target.strip()!r}; "
                f"valid: {', '.join(valid)}"
            )
        mapping[normalise_name(name)] = canonical
    return mapping


def _vocabulary_value(
    value: str, field: str, vocabulary: Sequence[str], names: Mapping[str, str]
) -> str:
    text = normalise_name(value)
    if not text:
        raise RowError(f"{field}: required value is blank")
    canonical = names.get(text, text)
    if canonical not in vocabulary:
        raise RowError(
            f"{field}: {value.strip()!r} is not a known {field}; valid: {', '.join(vocabulary)}"
            f" (map export names with --state-map NAME={vocabulary[0]})"
        )
    return canonical


def _interval(row: Mapping[str, str], options: IngestOptions) -> tuple[datetime, datetime]:
    start_text = (row.get("started_at") or "").strip()
    end_text = (row.get("ended_at") or "").strip()
    if not start_text:
        raise RowError("started_at: required value is blank")
    if not end_text:
        raise RowError("ended_at: required value is blank")
    start = parse_date_in_range(start_text, "started_at", options)
    end = parse_date_in_range(end_text, "ended_at", options)
    if end <= start:
        raise RowError(
            f"ended_at: {end_text!r} is not after started_at {start_text!r} (out-of-order interval)"
        )
    if end - start > MAX_INTERVAL:
        raise RowError(f"ended_at: the interval from {start_text!r} is longer than 24 hours")
    return start, end


def _agent(row: Mapping[str, str]) -> str:
    agent = (row.get("agent_id") or "").strip()
    if not agent:
        raise RowError("agent_id: required value is blank")
    if len(agent) > 128:
        raise RowError(f"agent_id: {len(agent)} characters, longer than the 128 the database holds")
    return agent


def parse_state(
    row: Mapping[str, str],
    *,
    names: Mapping[str, str] | None = None,
    options: IngestOptions = DEFAULT_OPTIONS,
) -> StateRecord:
    """Validate one ``agent_states.csv`` row; ``names`` maps export state names (normalised)."""
    agent = _agent(row)
    state = _vocabulary_value(row.get("state") or "", "state", AGENT_STATES, names or {})
    start, end = _interval(row, options)
    return StateRecord(agent, state, start, end)


def parse_schedule(
    row: Mapping[str, str],
    *,
    names: Mapping[str, str] | None = None,
    options: IngestOptions = DEFAULT_OPTIONS,
) -> ScheduleRecord:
    """Validate one ``schedule.csv`` row; ``names`` maps export activity names (normalised)."""
    agent = _agent(row)
    activity = _vocabulary_value(
        row.get("activity") or "", "activity", SCHEDULE_ACTIVITIES, names or {}
    )
    start, end = _interval(row, options)
    return ScheduleRecord(agent, activity, start, end)


def parse_cost(row: Mapping[str, str], *, options: IngestOptions = DEFAULT_OPTIONS) -> CostRecord:
    """Validate one ``costs.csv`` row: a period (end after start) and a finite amount >= 0."""
    start_text = (row.get("period_start") or "").strip()
    end_text = (row.get("period_end") or "").strip()
    if not start_text:
        raise RowError("period_start: required value is blank")
    if not end_text:
        raise RowError("period_end: required value is blank")
    start = parse_date_in_range(start_text, "period_start", options)
    end = parse_date_in_range(end_text, "period_end", options)
    if end <= start:
        raise RowError(f"period_end: {end_text!r} is not after period_start {start_text!r}")
    amount_text = (row.get("amount") or "").strip()
    try:
        amount = float(amount_text)
    except ValueError:
        raise RowError(f"amount: {amount_text!r} is not a number") from None
    if not math.isfinite(amount) or not 0 <= amount <= MAX_AMOUNT:
        raise RowError(f"amount: {amount_text!r} must be a finite number 0-{MAX_AMOUNT:.0e}")
    currency = (row.get("currency") or "").strip().upper()
    if currency and not CURRENCY.match(currency):
        raise RowError(f"currency: {currency!r} is not a currency code (e.g. USD, EUR)")
    return CostRecord(start, end, amount, currency)


Interval = StateRecord | ScheduleRecord


def overlapping_agents(
    records: Sequence[tuple[int, Interval]],
) -> dict[str, list[tuple[int, int]]]:
    """Agent -> ``(line, line it overlaps)`` pairs, for every agent whose intervals overlap.

    ``records`` are ``(line, record)``; intervals are half-open, so one ending when the next
    starts is fine.
    """
    by_agent: dict[str, list[tuple[int, Interval]]] = defaultdict(list)
    for line, record in records:
        by_agent[record.agent_id].append((line, record))
    out: dict[str, list[tuple[int, int]]] = {}
    for agent, rows in by_agent.items():
        rows.sort(key=lambda item: (item[1].started_at, item[1].ended_at))
        pairs = []
        latest_line, latest_end = rows[0][0], rows[0][1].ended_at
        for line, record in rows[1:]:
            if record.started_at < latest_end:
                pairs.append((line, latest_line))
            if record.ended_at > latest_end:
                latest_line, latest_end = line, record.ended_at
        if pairs:
            out[agent] = pairs
    return out
