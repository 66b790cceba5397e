"""Rows of the demo ``calls.csv``: the record type and the draws both periods share.

A :class:`CallRecord` is one row of the telephony export plus what the generator knows and
the export does not say: the phenomena on the call (``tags``, taxonomy names plus ``hold``
and ``callback-promised``), whether the issue was resolved, and the script of a recorded call.
The survey model (``qa.demo.surveys``) scores those phenomena; the export only shows their
traces (``transferred``, ``wait_seconds``, ``hold_seconds``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from qa.demo.dialogues import AGENTS, Agent, Dialogue

DEFAULT_SEED = 7

CALL_COLUMNS = (
    "call_id",
    "started_at",
    "agent_id",
    "agent_name",
    "team",
    "queue",
    "customer_id",
    "direction",
    "wait_seconds",
    "talk_seconds",
    "hold_seconds",
    "acw_seconds",
    "abandoned",
    "transferred",
    "recording",
)

OPEN_HOUR, CLOSE_HOUR = 8, 18
LONG_WAIT_SECONDS = 180  # a queue wait this long is a "long-wait" call
LONG_HOLD_SECONDS = 120  # a hold this long is a "hold" call


@dataclass(frozen=True)
class AgentStyle:
    """How often an agent's calls show praise, rushing and rudeness (ground truth)."""

    praise: float
    rushed: float
    rude: float


AGENT_STYLE: dict[str, AgentStyle] = {
    "A01": AgentStyle(praise=0.42, rushed=0.03, rude=0.01),  # Maria Lopez
    "A02": AgentStyle(praise=0.32, rushed=0.04, rude=0.01),  # James Carter
    "A03": AgentStyle(praise=0.38, rushed=0.03, rude=0.01),  # Priya Shah
    "A04": AgentStyle(praise=0.15, rushed=0.14, rude=0.05),  # Tom Becker
    "A05": AgentStyle(praise=0.32, rushed=0.04, rude=0.01),  # Grace Kim
}
P_RE_EXPLAIN = 0.07
RE_EXPLAIN_REPEAT = 0.40  # added on a repeat contact: nobody has the history
RE_EXPLAIN_TRANSFER = 0.20  # added after a transfer: the next agent asks again
RE_EXPLAIN_TALK = 60  # seconds more talk on a re-explain call (history)
RE_EXPLAIN_ACW = 600  # seconds more after-call work: writing up the history nobody had
P_UNRESOLVED = {"billing": 0.07, "technical": 0.12, "sales": 0.04}


@dataclass
class CallRecord:
    """One row of ``calls.csv`` plus what the generator knows about the call."""

    started_at: datetime
    key: str
    queue: str
    customer_id: str
    direction: str = "inbound"
    agent: Agent | None = None
    wait_seconds: int = 0
    talk_seconds: int = 0
    hold_seconds: int = 0
    acw_seconds: int = 0
    abandoned: bool = False
    transferred: bool = False
    tags: tuple[str, ...] = ()
    resolved: bool = True
    dialogue: Dialogue | None = None
    call_id: str = ""

    @property
    def recording(self) -> str:
        return f"recordings/{self.call_id}.ogg" if self.dialogue is not None else ""

    @property
    def ended_at(self) -> datetime:
        seconds = self.wait_seconds + self.talk_seconds + self.hold_seconds
        return self.started_at + timedelta(seconds=seconds)

    @property
    def phenomena(self) -> tuple[str, ...]:
        """``tags``, plus ``unresolved`` when the issue was not resolved (what the survey
        model scores: a customer whose problem remains is unhappy even if they do not say so)."""
        if self.resolved or "unresolved" in self.tags:
            return self.tags
        return (*self.tags, "unresolved")

    def row(self) -> list[str]:
        agent = self.agent
        return [
            self.call_id,
            self.started_at.isoformat(timespec="seconds"),
            agent.agent_id if agent else "",
            agent.name if agent else "",
            agent.team if agent else "",
            self.queue,
            self.customer_id,
            self.direction,
            str(self.wait_seconds),
            str(self.talk_seconds),
            str(self.hold_seconds),
            str(self.acw_seconds),
            yes_no(self.abandoned),
            yes_no(self.transferred),
            self.recording,
        ]


def draw_experience(
    rng: random.Random,
    agent: Agent,
    *,
    transferred: bool,
    repeat: bool,
    p_unresolved: float,
    re_explain_extra: float = 0.0,
) -> tuple[list[str], bool]:
    """The hidden side of a handled call: ``(tags, unresolved)``, tags from re-explain,
    rushed, agent-rude, agent-praise (praise is rarer on a troubled call, never on a rude or
    rushed one).  One model for the history and the fortnight's unrecorded calls."""
    style = AGENT_STYLE[agent.agent_id]
    tags = []
    p_re_explain = P_RE_EXPLAIN + RE_EXPLAIN_REPEAT * repeat + RE_EXPLAIN_TRANSFER * transferred
    if rng.random() < p_re_explain + re_explain_extra:
        tags.append("re-explain")
    unresolved = rng.random() < p_unresolved
    if rng.random() < style.rushed:
        tags.append("rushed")
    if rng.random() < style.rude:
        tags.append("agent-rude")
    troubled = unresolved or repeat or "re-explain" in tags
    calm = not {"rushed", "agent-rude"} & set(tags)
    if calm and rng.random() < style.praise * (0.6 if troubled else 1.0):
        tags.append("agent-praise")
    return tags, unresolved


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def weekdays(first: date, last: date) -> list[date]:
    """Monday-to-Friday dates from ``first`` to ``last`` inclusive."""
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def draw_wait(rng: random.Random) -> int:
    """Queue wait: mostly answered within 20 s, a tail up to about 400 s."""
    r = rng.random()
    if r < 0.55:
        return rng.randint(0, 20)
    if r < 0.85:
        return rng.randint(21, 120)
    return rng.randint(121, 400)


def draw_time(rng: random.Random, day: date, earliest_hour: int = OPEN_HOUR) -> datetime:
    """A start time on ``day`` between ``earliest_hour`` and half an hour before closing."""
    opening = datetime(day.year, day.month, day.day, earliest_hour)
    span = (CLOSE_HOUR - earliest_hour) * 3600 - 30 * 60
    return opening + timedelta(seconds=rng.randrange(span))


def agent_for(rng: random.Random, queue: str) -> Agent:
    """Any agent who works ``queue``, uniformly."""
    return rng.choice([a for a in AGENTS if queue in a.queues])


def assign_ids(calls: list[CallRecord], prefix: str) -> list[CallRecord]:
    """Sort ``calls`` by start and number them ``<prefix>0001``, ``<prefix>0002``, ..."""
    calls.sort(key=lambda c: (c.started_at, c.key))
    for n, call in enumerate(calls, start=1):
        call.call_id = f"{prefix}{n:04d}"
    return calls
