"""Workforce KPIs: occupancy, utilization, schedule adherence, cost and cost per call.

Pure computation over agent-state intervals, schedule blocks and costs (no database; the
facts are loaded by ``qa.metrics.facts.load_workforce``). Definitions (the source articles'):

* *handle time* is the time agents spent in the states ``on_call``, ``hold`` and ``acw``
  (from the agent states, not from ``calls.csv``); *available* is ``available``; *paid*
  (logged-in) time is every state but ``offline`` (so breaks are paid).
* ``occupancy`` = handle / (handle + available): how busy agents were while ready for calls.
* ``utilization`` = handle / paid: how much of the paid, logged-in time went to calls.
* ``schedule_adherence`` = minutes in the scheduled activity / scheduled minutes; an agent
  is in a block's activity when their state is one of ``ACTIVITY_STATES[activity]``.
* ``cost`` = operating cost of the period: ``costs.csv`` amounts spread evenly over their
  period and prorated to the one measured, else ``--cost-per-agent-hour`` x paid hours.
* ``cost_per_call`` = cost / handled calls.

Time is clipped to the period measured (``--since/--until``, a day or an ISO week; by
default the whole days the calls span). Grouped by agent, an agent's own time counts; by
team, the time of the agents whose latest call in the set was in that team; by queue, each
agent's time is split over queues by their share of handled calls in each. A period cost
is split over agents, teams and queues by paid time (or handled calls, without states).
With no states (or no schedule, or no cost) the KPIs they feed are ``None``, never 0.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from qa.metrics.base import CallFact

HANDLE_STATES = frozenset({"on_call", "hold", "acw"})
WORK_STATES = frozenset({"available", "on_call", "hold", "acw"})
ACTIVITY_STATES: dict[str, frozenset[str]] = {
    "work": WORK_STATES,
    "break": frozenset({"break"}),
    "lunch": frozenset({"break"}),
    "meeting": frozenset({"offline", "break"}),
    "training": frozenset({"offline", "break"}),
}
"""Schedule activity -> the agent states that adhere to it."""

Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class Span:
    """One agent-state interval or schedule block: ``kind`` is the state or activity."""

    agent_id: str
    kind: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class CostFact:
    """A cost row: ``basis`` ``period`` (``amount`` over ``[start, end)``) or ``agent_hour``."""

    basis: str
    amount: float
    currency: str = ""
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Workforce:
    """Everything the workforce KPIs read (any part may be empty)."""

    states: tuple[Span, ...] = ()
    schedule: tuple[Span, ...] = ()
    costs: tuple[CostFact, ...] = ()

    @property
    def rate(self) -> float | None:
        """The cost of one paid agent hour, when one was given."""
        return next((c.amount for c in self.costs if c.basis == "agent_hour"), None)

    @property
    def periods(self) -> tuple[CostFact, ...]:
        """The ``costs.csv`` rows."""
        return tuple(c for c in self.costs if c.basis == "period")

    @property
    def currency(self) -> str:
        """The currency of the costs ('' when none was given)."""
        return next((c.currency for c in self.costs if c.currency), "")


@dataclass
class Totals:
    """Seconds (and weights) of one agent or group in one window."""

    handle: float = 0.0
    available: float = 0.0
    paid: float = 0.0
    scheduled: float = 0.0
    adhered: float = 0.0
    observed: float = 0.0  # every state, offline included: whether the agent was seen

    def add(self, other: Totals, weight: float = 1.0) -> None:
        """Add ``other`` x ``weight`` to these totals."""
        self.handle += other.handle * weight
        self.available += other.available * weight
        self.paid += other.paid * weight
        self.scheduled += other.scheduled * weight
        self.adhered += other.adhered * weight
        self.observed += other.observed * weight


@dataclass
class _Index:
    """An agent's states sorted by start, for adherence look-ups."""

    spans: list[Span] = field(default_factory=list)
    starts: list[datetime] = field(default_factory=list)


def _overlap(start: datetime, end: datetime, lo: datetime, hi: datetime) -> float:
    return max(0.0, (min(end, hi) - max(start, lo)).total_seconds())


def default_window(calls: Sequence[CallFact]) -> Window | None:
    """The whole days the calls span: midnight of the first to midnight after the last."""
    if not calls:
        return None
    first = min(c.started_at for c in calls)
    last = max(c.started_at for c in calls)
    start = datetime.combine(first.date(), datetime.min.time())
    return start, datetime.combine(last.date() + timedelta(days=1), datetime.min.time())


def agent_totals(workforce: Workforce, window: Window) -> dict[str, Totals]:
    """Per agent: handle, available, paid, scheduled and adhered seconds inside ``window``."""
    lo, hi = window
    totals: dict[str, Totals] = defaultdict(Totals)
    index: dict[str, _Index] = defaultdict(_Index)
    for span in sorted(workforce.states, key=lambda s: (s.agent_id, s.start)):
        if span.end <= lo or span.start >= hi:
            continue
        seconds = _overlap(span.start, span.end, lo, hi)
        agent = totals[span.agent_id]
        agent.observed += seconds
        if span.kind in HANDLE_STATES:
            agent.handle += seconds
        elif span.kind == "available":
            agent.available += seconds
        if span.kind != "offline":
            agent.paid += seconds
        index[span.agent_id].spans.append(span)
        index[span.agent_id].starts.append(span.start)
    for block in workforce.schedule:
        if block.end <= lo or block.start >= hi:
            continue
        b_lo, b_hi = max(block.start, lo), min(block.end, hi)
        agent = totals[block.agent_id]
        agent.scheduled += (b_hi - b_lo).total_seconds()
        states = index.get(block.agent_id)
        if states is None:
            continue
        wanted = ACTIVITY_STATES.get(block.kind, frozenset())
        # States never overlap (ingest), so the one starting before b_lo is the only earlier
        # one that can reach into the block.
        first = max(0, bisect.bisect_right(states.starts, b_lo) - 1)
        for span in states.spans[first:]:
            if span.start >= b_hi:
                break
            if span.kind in wanted:
                agent.adhered += _overlap(span.start, span.end, b_lo, b_hi)
    return dict(totals)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def period_cost(workforce: Workforce, window: Window) -> float | None:
    """``costs.csv`` amounts prorated to ``window`` (``None`` without any cost period)."""
    periods = workforce.periods
    if not periods:
        return None
    total = 0.0
    for cost in periods:
        assert cost.start is not None and cost.end is not None
        length = (cost.end - cost.start).total_seconds()
        total += cost.amount * _overlap(cost.start, cost.end, *window) / length
    return total


def workforce_kpis(
    group: Totals | None,
    *,
    handled: int,
    window_cost: float | None,
    cost_share: float | None,
    rate: float | None,
    has_states: bool,
    has_schedule: bool,
) -> dict[str, float | None]:
    """The five workforce KPIs of one group from its totals.

    ``window_cost``: the period cost of the whole window (``period_cost``); ``cost_share``:
    this group's share of it (1 for everything); ``rate``: cost per paid agent hour, used
    when there is no period cost.
    """
    totals = group or Totals()
    cost: float | None = None
    if window_cost is not None and cost_share is not None:
        cost = window_cost * cost_share
    elif rate is not None and has_states and totals.paid:
        cost = rate * totals.paid / 3600
    return {
        "occupancy": _ratio(totals.handle, totals.handle + totals.available)
        if has_states
        else None,
        "utilization": _ratio(totals.handle, totals.paid) if has_states else None,
        # An agent never seen in the states (missing, or rejected) has no adherence, not 0.
        "schedule_adherence": _ratio(totals.adhered, totals.scheduled)
        if has_schedule and totals.observed
        else None,
        "cost": cost,
        "cost_per_call": _ratio(cost, handled) if cost is not None else None,
    }


def agent_weights(by: str, calls: Iterable[CallFact], key: str) -> dict[str, float]:
    """Agent -> the share of that agent's time that counts in group ``key`` of ``by``.

    ``agent``: the agent's own group; ``team``: the team of the agent's latest call;
    ``queue``: the agent's share of handled calls in the queue. Day and week groups take
    every agent whole (their window is the day or the week).
    """
    calls = [c for c in calls if c.agent_id]
    if by == "agent":
        return {key: 1.0}
    if by == "team":
        latest: dict[str, CallFact] = {}
        for call in sorted(calls, key=lambda c: c.started_at):
            latest[call.agent_id] = call
        return {agent: 1.0 for agent, call in latest.items() if call.team == key}
    if by == "queue":
        handled = [c for c in calls if not c.abandoned]
        per_agent: dict[str, int] = defaultdict(int)
        in_queue: dict[str, int] = defaultdict(int)
        for call in handled:
            per_agent[call.agent_id] += 1
            in_queue[call.agent_id] += call.queue == key
        return {a: in_queue[a] / n for a, n in per_agent.items() if in_queue[a]}
    raise ValueError(f"no agent weights for grouping {by!r}; choose agent, team or queue")


def combine(totals: Mapping[str, Totals], weights: Mapping[str, float] | None) -> Totals:
    """The sum of agents' totals, each times its weight (``None``: every agent, whole)."""
    out = Totals()
    for agent, agent_total in totals.items():
        weight = 1.0 if weights is None else weights.get(agent, 0.0)
        if weight:
            out.add(agent_total, weight)
    return out


def hourly_cost(workforce: Workforce, window: Window) -> float | None:
    """The cost of one paid agent hour: ``--cost-per-agent-hour``, else the period cost of
    ``window`` over the paid agent hours in it (``None`` when neither is known)."""
    if workforce.rate is not None:
        return workforce.rate
    cost = period_cost(workforce, window)
    paid = combine(agent_totals(workforce, window), None).paid
    return cost / (paid / 3600) if cost is not None and paid else None
