"""The demo's workforce exports: ``agent_states.csv`` and ``schedule.csv``, and its cost.

Built from the demo calls (no randomness): every weekday of the data each agent is scheduled
``work`` 08:00-12:00, ``lunch`` 12:00-12:30 and ``work`` 12:30-18:00. Their states are their
calls (``on_call`` for the talk, then ``hold``, then ``acw``; a call that would start while
the agent is still busy starts when they are free) and, between calls, what their day plan
says: ``available``, ``break`` at lunch. Two agents are built to stand out:

* **James Carter (A02), poor adherence**: logs in 45 minutes late, takes 75 minutes for a
  30-minute lunch and logs out 45 minutes early (``offline`` / ``break`` while scheduled to
  work), so his adherence is about 80 % while everyone else's is about 100 %;
* **Grace Kim (A05), high occupancy**: she also works the chat queue, so between calls her
  states are chat sessions (20 minutes ``on_call``, 6 minutes ``acw``) with only 4.5 minutes
  ``available`` between them: occupancy about 85 %, against a few percent for the others.

The cost is :data:`COST_PER_AGENT_HOUR` per paid agent hour. One tag is made costly:
``re-explain`` calls in the history carry :data:`qa.demo.calls.RE_EXPLAIN_ACW` more after-call
work (the agent writes up the history nobody had) on top of their 60 s more talk;
:func:`built_in_cost` is what that costs a month, which ``qa why --outcome cost`` estimates.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from qa.demo.calls import RE_EXPLAIN_ACW, RE_EXPLAIN_TALK, CallRecord

COST_PER_AGENT_HOUR = 32.0
CURRENCY = "USD"
POOR_ADHERENCE, HIGH_OCCUPANCY = "A02", "A05"
STATE_COLUMNS = ("agent_id", "state", "started_at", "ended_at")
SCHEDULE_COLUMNS = ("agent_id", "activity", "started_at", "ended_at")
CHAT_CYCLE = (("on_call", 20 * 60), ("acw", 6 * 60), ("available", 270))
MONTH_DAYS = 30.44

Piece = tuple[str, datetime, datetime]


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm))


def schedule_for(day: date) -> list[Piece]:
    """The day's schedule blocks (the same for every agent)."""
    return [
        ("work", _at(day, 8), _at(day, 12)),
        ("lunch", _at(day, 12), _at(day, 12, 30)),
        ("work", _at(day, 12, 30), _at(day, 18)),
    ]


def day_plan(agent_id: str, day: date) -> list[Piece]:
    """What the agent does 08:00-18:00 when not on a call."""
    if agent_id == POOR_ADHERENCE:
        return [
            ("offline", _at(day, 8), _at(day, 8, 45)),
            ("available", _at(day, 8, 45), _at(day, 12)),
            ("break", _at(day, 12), _at(day, 13, 15)),
            ("available", _at(day, 13, 15), _at(day, 17, 15)),
            ("offline", _at(day, 17, 15), _at(day, 18)),
        ]
    return [
        ("available", _at(day, 8), _at(day, 12)),
        ("break", _at(day, 12), _at(day, 12, 30)),
        ("available", _at(day, 12, 30), _at(day, 18)),
    ]


def _chat(start: datetime, end: datetime) -> Iterator[Piece]:
    """Chat sessions filling ``[start, end)`` (the high-occupancy agent's free time)."""
    t = start
    while t < end:
        for state, seconds in CHAT_CYCLE:
            stop = min(end, t + timedelta(seconds=seconds))
            if stop > t:
                yield state, t, stop
            t = stop


def _fill(agent_id: str, plan: Sequence[Piece], start: datetime, end: datetime) -> list[Piece]:
    """The plan's pieces clipped to a free gap ``[start, end)``."""
    out: list[Piece] = []
    for state, s, e in plan:
        lo, hi = max(s, start), min(e, end)
        if lo >= hi:
            continue
        if state == "available" and agent_id == HIGH_OCCUPANCY:
            out.extend(_chat(lo, hi))
        else:
            out.append((state, lo, hi))
    return out


def _call_pieces(calls: Sequence[CallRecord]) -> list[Piece]:
    pieces: list[Piece] = []
    free = datetime.min
    for call in sorted(calls, key=lambda c: c.started_at):
        t = max(call.started_at + timedelta(seconds=call.wait_seconds), free)
        for state, seconds in (("on_call", call.talk_seconds), ("hold", call.hold_seconds),
                               ("acw", call.acw_seconds)):  # fmt: skip
            if seconds > 0:
                pieces.append((state, t, t + timedelta(seconds=seconds)))
                t += timedelta(seconds=seconds)
        free = t
    return pieces


def agent_day(agent_id: str, day: date, calls: Sequence[CallRecord]) -> list[Piece]:
    """One agent's states for one day: the calls, and the plan in the gaps."""
    plan = day_plan(agent_id, day)
    busy = _call_pieces(calls)
    out: list[Piece] = []
    t = plan[0][1]
    for piece in busy:
        if piece[1] > t:
            out.extend(_fill(agent_id, plan, t, piece[1]))
        out.append(piece)
        t = max(t, piece[2])
    out.extend(_fill(agent_id, plan, t, plan[-1][2]))
    return out


def build_workforce(calls: Sequence[CallRecord]) -> tuple[list[list[str]], list[list[str]]]:
    """``(agent_states rows, schedule rows)`` for every agent on every day with calls."""
    by_day: dict[tuple[str, date], list[CallRecord]] = defaultdict(list)
    days = sorted({c.started_at.date() for c in calls})
    agents = sorted({c.agent.agent_id for c in calls if c.agent is not None})
    for call in calls:
        if call.agent is not None and not call.abandoned:
            by_day[(call.agent.agent_id, call.started_at.date())].append(call)
    states, schedule = [], []
    for agent in agents:
        for day in days:
            for state, s, e in agent_day(agent, day, by_day[(agent, day)]):
                states.append([agent, state, s.isoformat(), e.isoformat()])
            for activity, s, e in schedule_for(day):
                schedule.append([agent, activity, s.isoformat(), e.isoformat()])
    return states, schedule


def write_workforce(out: Path, calls: Sequence[CallRecord]) -> tuple[Path, Path]:
    """Write ``agent_states.csv`` and ``schedule.csv`` to ``out``; returns their paths."""
    states, schedule = build_workforce(calls)
    paths = (out / "agent_states.csv", out / "schedule.csv")
    for path, header, rows in zip(paths, (STATE_COLUMNS, SCHEDULE_COLUMNS), (states, schedule),
                                  strict=True):  # fmt: skip
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
    return paths


def built_in_cost(calls: Sequence[CallRecord], rate: float = COST_PER_AGENT_HOUR) -> float:
    """What the costly tag's built-in extra handle time costs a month: ``re-explain`` history
    calls' extra talk and after-call work, at ``rate`` per agent hour, over the data's days."""
    extra = sum(
        RE_EXPLAIN_TALK + RE_EXPLAIN_ACW
        for c in calls
        if c.call_id.startswith("H") and not c.abandoned and "re-explain" in c.tags
    )
    first = min(c.started_at for c in calls).date()
    last = max(c.started_at for c in calls).date()
    days = (last - first).days + 1
    return extra / 3600 * rate * MONTH_DAYS / days
