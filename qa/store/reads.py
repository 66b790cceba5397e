"""Read side for the review UI and exports: plain functions returning frozen dataclasses.

Rows never leave this module; callers get ``CallRow`` / ``CallDetail`` / ``TagView`` values.
Tag semantics (see ``qa.store.schema.Tag``): machine hits (``rule`` / ``model``) count unless a
human decision for the same tag says ``present=False``; a human ``present=True`` confirms
or adds the tag.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlmodel import Session

from qa.store.schema import Call, CallMetrics, Review, Survey, Tag, Turn

HUMAN = "human"
_V = TypeVar("_V")


class CallNotFound(LookupError):
    """No call has the requested id."""


class _TagLike(Protocol):
    tag: str
    method: str
    present: bool


@dataclass(frozen=True)
class CallRow:
    id: int
    external_id: str
    started_at: datetime
    agent_id: str
    agent_name: str
    team: str
    queue: str
    status: str
    csat: int | None
    tags: tuple[str, ...]
    reviewed: bool


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
    decision: str | None  # "confirmed" | "rejected" | None (no human decision for this tag)
    reviewer: str | None = None


@dataclass(frozen=True)
class ReviewView:
    id: int
    reviewer: str
    scorecard: dict[str, Any]
    notes: str
    created_at: datetime


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

    @property
    def effective_tags(self) -> tuple[str, ...]:
        return tuple(sorted(effective_tags(self.tags)))

    @property
    def reviewed(self) -> bool:
        return bool(self.reviews) or any(t.method == HUMAN for t in self.tags)


def _human_decisions(tags: Iterable[_TagLike]) -> dict[str, bool]:
    """Tag name -> present, from human rows; a later row (iteration order) wins."""
    decisions: dict[str, bool] = {}
    for t in tags:
        if t.method == HUMAN:
            decisions[t.tag] = bool(t.present)
    return decisions


def effective_tags(tags: Iterable[_TagLike]) -> set[str]:
    """The tags a call really has once human decisions are applied."""
    tags = list(tags)
    decisions = _human_decisions(tags)
    machine = {t.tag for t in tags if t.method != HUMAN and t.present}
    return {name for name in machine if decisions.get(name, True)} | {
        name for name, present in decisions.items() if present
    }


def _tag_exists(call_id_col, name: str, *conds):  # type: ignore[no-untyped-def]
    return exists().where(Tag.call_id == call_id_col, Tag.tag == name, *conds)


def _effective_tag_condition(name: str):  # type: ignore[no-untyped-def]
    machine = _tag_exists(Call.id, name, Tag.method != HUMAN, Tag.present.is_(True))
    rejected = _tag_exists(Call.id, name, Tag.method == HUMAN, Tag.present.is_(False))
    confirmed = _tag_exists(Call.id, name, Tag.method == HUMAN, Tag.present.is_(True))
    return or_(confirmed, and_(machine, not_(rejected)))


def _reviewed_condition():  # type: ignore[no-untyped-def]
    return or_(
        exists().where(Review.call_id == Call.id),
        exists().where(Tag.call_id == Call.id, Tag.method == HUMAN),
    )


def list_calls(
    *,
    session: Session,
    agent: str | None = None,
    tag: str | None = None,
    csat_min: int | None = None,
    csat_max: int | None = None,
    reviewed: bool | None = None,
    limit: int = 500,
) -> list[CallRow]:
    """Calls newest first, filtered by agent (id or name), effective tag, CSAT range, review."""
    reviewed_col = _reviewed_condition().label("reviewed")
    stmt = (
        select(Call, Survey.csat, reviewed_col)
        .outerjoin(Survey, Survey.call_external_id == Call.external_id)
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(limit)
    )
    if agent:
        stmt = stmt.where(or_(Call.agent_id == agent, Call.agent_name == agent))
    if tag:
        stmt = stmt.where(_effective_tag_condition(tag))
    if csat_min is not None:
        stmt = stmt.where(Survey.csat >= csat_min)
    if csat_max is not None:
        stmt = stmt.where(Survey.csat <= csat_max)
    if reviewed is not None:
        cond = _reviewed_condition()
        stmt = stmt.where(cond if reviewed else not_(cond))
    rows = session.execute(stmt).all()
    ids = [call.id for call, _, _ in rows]
    by_call: dict[int, list[Tag]] = defaultdict(list)
    if ids:
        for t in session.scalars(select(Tag).where(Tag.call_id.in_(ids)).order_by(Tag.id)):
            by_call[t.call_id].append(t)
    return [
        CallRow(
            id=call.id,
            external_id=call.external_id,
            started_at=call.started_at,
            agent_id=call.agent_id,
            agent_name=call.agent_name,
            team=call.team,
            queue=call.queue,
            status=call.status,
            csat=csat,
            tags=tuple(sorted(effective_tags(by_call[call.id]))),
            reviewed=bool(is_reviewed),
        )
        for call, csat, is_reviewed in rows
    ]


def _view(cls: type[_V], row: Any, **extra: Any) -> _V:
    """Build a view dataclass from the row attributes of the same names (plus ``extra``)."""
    names = [f.name for f in fields(cls) if f.name not in extra]
    return cls(**{name: getattr(row, name) for name in names}, **extra)


def _tag_views(rows: list[Tag]) -> tuple[TagView, ...]:
    decisions = _human_decisions(rows)
    views = []
    for t in rows:
        present = decisions.get(t.tag) if t.method != HUMAN else t.present
        decision = None if present is None else ("confirmed" if present else "rejected")
        views.append(_view(TagView, t, decision=decision))
    return tuple(views)


def call_detail(*, session: Session, call_id: int) -> CallDetail:
    """Everything the review screen shows for one call; raises ``CallNotFound``."""
    call = session.get(Call, call_id)
    if call is None:
        raise CallNotFound(f"no call with id {call_id}")
    turns = session.scalars(select(Turn).where(Turn.call_id == call_id).order_by(Turn.index))
    m = session.get(CallMetrics, call_id)
    s = session.scalars(select(Survey).where(Survey.call_external_id == call.external_id)).first()
    tags = list(session.scalars(select(Tag).where(Tag.call_id == call_id).order_by(Tag.id)))
    reviews = session.scalars(
        select(Review).where(Review.call_id == call_id).order_by(Review.created_at, Review.id)
    )
    return _view(
        CallDetail,
        call,
        turns=tuple(_view(TurnView, t) for t in turns),
        metrics=None if m is None else _view(MetricsView, m),
        survey=None if s is None else _view(SurveyView, s),
        tags=_tag_views(tags),
        reviews=tuple(_view(ReviewView, r, scorecard=dict(r.scorecard or {})) for r in reviews),
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
    """Every tag name stored on any call (machine or human), sorted."""
    return sorted(session.scalars(select(Tag.tag).distinct()))
