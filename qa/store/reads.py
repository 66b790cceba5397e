"""Read side for the review UI and exports: plain functions returning frozen dataclasses.

Rows never leave this module; callers get ``CallDetail`` / ``TagView`` values.
Which tags a call has, once reviewers' decisions are applied, is ``qa.store.effective``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import exists, func, or_, select
from sqlmodel import Session

from qa.store.effective import Verdict, hit_scope, verdict
from qa.store.schema import Call, CallMetrics, Decision, Review, Survey, Tag, Turn

HUMAN = "human"  # the method shown for a tag that only reviewers' decisions give a call
_V = TypeVar("_V")


class CallNotFound(LookupError):
    """No call has the requested id."""


@dataclass(frozen=True)
class TurnView:
    index: int
    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class MetricsView:
    agent_talk_seconds: float
    customer_talk_seconds: float
    silence_seconds: float
    longest_silence_seconds: float
    overtalk_seconds: float
    agent_wpm: float | None
    customer_wpm: float | None
    extra: dict[str, Any]  # talk ratios, long silences, interruptions, holds (transcribe.metrics)


@dataclass(frozen=True)
class SurveyView:
    csat: int | None
    nps: int | None
    ces: int | None
    fcr: bool | None
    comment: str
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class TagView:
    id: int
    tag: str
    source: str
    turn_index: int | None
    span_start: int | None
    span_end: int | None
    evidence: str
    method: str
    score: float
    present: bool
    decision: str | None  # "confirmed" | "rejected" | None (no decision covers this hit)
    reviewer: str | None = None  # who made the decision that counts
    rule: str | None = None  # the taxonomy pattern that matched (rule hits)


@dataclass(frozen=True)
class DecisionView:
    """One decision in a call's history; ``counts``: it is the winning one for its scope."""

    id: int
    tag: str
    present: bool
    reviewer: str
    role: str
    source: str | None
    turn_index: int | None
    span_start: int | None
    span_end: int | None
    evidence: str
    comment: str
    origin: str
    round_id: int | None
    created_at: datetime
    counts: bool = False

    @property
    def scope_label(self) -> str:
        """ "whole call", "comment" or "turn 3" (where the decision applies)."""
        if self.source is None:
            return "whole call"
        return self.source if self.turn_index is None else f"turn {self.turn_index}"


@dataclass(frozen=True)
class ReviewView:
    id: int
    reviewer: str
    scorecard: dict[str, Any]
    notes: str
    created_at: datetime
    scorecard_ref: str | None = None
    score: float | None = None
    auto_failed: bool | None = None
    round_id: int | None = None


@dataclass(frozen=True)
class AgentRow:
    agent_id: str
    agent_name: str
    team: str
    calls: int


@dataclass(frozen=True)
class CallDetail:
    id: int
    external_id: str
    started_at: datetime
    agent_id: str
    agent_name: str
    team: str
    queue: str
    customer_id: str
    direction: str
    status: str
    error: str | None
    recording_path: str | None
    duration_seconds: float | None
    wait_seconds: float
    talk_seconds: float
    hold_seconds: float
    abandoned: bool
    transferred: bool
    turns: tuple[TurnView, ...]
    metrics: MetricsView | None
    survey: SurveyView | None
    tags: tuple[TagView, ...]
    reviews: tuple[ReviewView, ...]
    decisions: tuple[DecisionView, ...] = ()
    present_tags: frozenset[str] = frozenset()

    @property
    def effective_tags(self) -> tuple[str, ...]:
        return tuple(sorted(self.present_tags))

    @property
    def reviewed(self) -> bool:
        return bool(self.reviews) or bool(self.decisions)


def effective_tags(hits: Iterable[Any], decisions: Iterable[Any] = ()) -> set[str]:
    """The tags a call really has: its machine hits with its decisions applied
    (``qa.store.effective.verdict``)."""
    return set(verdict(hits, decisions).tags)


_CHUNK = 900  # ids per IN (...): below SQLite's bound-parameter limit


def _by_call(session: Session, stmt: Any, call_id: Any, ids: Iterable[int]) -> dict[int, list[Any]]:
    """Rows of ``stmt`` whose ``call_id`` column is in ``ids`` (chunked), by call, in the
    statement's order."""
    ids = list(ids)
    out: dict[int, list[Any]] = defaultdict(list)
    for start in range(0, len(ids), _CHUNK):
        for row in session.scalars(stmt.where(call_id.in_(ids[start : start + _CHUNK]))):
            out[row.call_id].append(row)
    return out


def load_decisions(session: Session, call_ids: Iterable[int]) -> dict[int, list[Decision]]:
    """Every decision on the given calls, oldest first, by call."""
    stmt = select(Decision).order_by(Decision.created_at, Decision.id)
    return _by_call(session, stmt, Decision.call_id, call_ids)


def load_hits(session: Session, call_ids: Iterable[int]) -> dict[int, list[Tag]]:
    """Every machine hit on the given calls, in id order, by call (a row stored with
    ``present`` False is no hit)."""
    stmt = select(Tag).where(Tag.present.is_(True)).order_by(Tag.id)
    return _by_call(session, stmt, Tag.call_id, call_ids)


def reviewed_condition():  # type: ignore[no-untyped-def]
    """SQL condition on ``Call``: it has a review or a decision (the one meaning of
    "reviewed" for lists)."""
    return or_(
        exists().where(Review.call_id == Call.id),
        exists().where(Decision.call_id == Call.id),
    )


def _view(cls: type[_V], row: Any, **extra: Any) -> _V:
    """Build a view dataclass from the row attributes of the same names (plus ``extra``)."""
    names = [f.name for f in fields(cls) if f.name not in extra]
    return cls(**{name: getattr(row, name) for name in names}, **extra)


def _decided(decision: Any) -> str | None:
    if decision is None:
        return None
    return "confirmed" if decision.present else "rejected"


def _tag_views(hits: list[Tag], outcome: Verdict) -> tuple[TagView, ...]:
    """A view per machine hit (with the decision that covers it), then one per tag that only
    decisions give the call (method ``human``)."""
    views = []
    for t in hits:
        decision = outcome.decision_for(t.tag, hit_scope(t)) or outcome.decision_for(t.tag)
        state = _decided(decision)
        if state is None and t.tag not in outcome.tags:
            state = "rejected"  # its parent was rejected for the whole call
        reviewer = getattr(decision, "reviewer", None)
        views.append(_view(TagView, t, decision=state, reviewer=reviewer))
    machine = {t.tag for t in hits}
    for (name, _scope), d in sorted(outcome.winners.items(), key=lambda kv: kv[1].id or 0):
        if name in machine or not d.present or name not in outcome.tags:
            continue
        machine.add(name)
        views.append(
            TagView(
                id=d.id or 0, tag=name, source=d.source or "review", turn_index=d.turn_index,
                span_start=d.span_start, span_end=d.span_end, evidence=d.evidence,
                method=HUMAN, score=1.0, present=True, decision="confirmed", reviewer=d.reviewer,
            )
        )  # fmt: skip
    return tuple(views)


def _decision_views(decisions: list[Decision], outcome: Verdict) -> tuple[DecisionView, ...]:
    counting = {id(d) for d in outcome.winners.values()}
    return tuple(_view(DecisionView, d, counts=id(d) in counting) for d in decisions)


def call_detail(*, session: Session, call_id: int, blind_for: str | None = None) -> CallDetail:
    """Everything the review screen shows for one call; raises ``CallNotFound``.

    ``blind_for``: a reviewer answering a calibration round: other reviewers' decisions and
    reviews are left out (and do not count in the tags shown), so the answer is their own.
    """
    call = session.get(Call, call_id)
    if call is None:
        raise CallNotFound(f"no call with id {call_id}")
    turns = session.scalars(select(Turn).where(Turn.call_id == call_id).order_by(Turn.index))
    m = session.get(CallMetrics, call_id)
    s = session.scalars(select(Survey).where(Survey.call_external_id == call.external_id)).first()
    hits = load_hits(session, [call_id]).get(call_id, [])
    decisions = load_decisions(session, [call_id]).get(call_id, [])
    reviews = list(
        session.scalars(
            select(Review).where(Review.call_id == call_id).order_by(Review.created_at, Review.id)
        )
    )
    if blind_for is not None:
        decisions = [d for d in decisions if d.reviewer == blind_for]
        reviews = [r for r in reviews if r.reviewer == blind_for]
    outcome = verdict(hits, decisions)
    return _view(
        CallDetail,
        call,
        turns=tuple(_view(TurnView, t) for t in turns),
        metrics=None if m is None else _view(MetricsView, m),
        survey=None if s is None else _view(SurveyView, s),
        tags=_tag_views(hits, outcome),
        reviews=tuple(_view(ReviewView, r, scorecard=dict(r.scorecard or {})) for r in reviews),
        decisions=_decision_views(decisions, outcome),
        present_tags=outcome.tags,
    )


def list_agents(*, session: Session) -> list[AgentRow]:
    """Agents that have calls, by name, with their call counts."""
    stmt = (
        select(Call.agent_id, func.max(Call.agent_name), func.max(Call.team), func.count(Call.id))
        .where(Call.agent_id != "")
        .group_by(Call.agent_id)
    )
    rows = [AgentRow(a, n or "", t or "", c) for a, n, t, c in session.execute(stmt)]
    return sorted(rows, key=lambda r: (r.agent_name.lower() or r.agent_id, r.agent_id))


def list_tag_names(*, session: Session) -> list[str]:
    """Every tag name stored on any call (machine hits and decisions), sorted."""
    names = set(session.scalars(select(Tag.tag).distinct()))
    return sorted(names | set(session.scalars(select(Decision.tag).distinct())))


def list_teams_and_queues(*, session: Session) -> tuple[list[str], list[str]]:
    """Every team and every queue that has a call, sorted (the call list's choices)."""
    teams = session.scalars(select(Call.team).where(Call.team != "").distinct())
    queues = session.scalars(select(Call.queue).where(Call.queue != "").distinct())
    return sorted(teams), sorted(queues)
