"""The call list: calls matching a ``CallFilter``, sorted and paged, with the total count.

The one query behind the review UI's call list and ``qa calls list``. Everything happens in
SQL: filters on indexed columns, effective tags from the pre-computed ``CallTag`` table
(``qa.store.calltags``), free text through ``qa.store.textsearch``; only the rows of the
requested page are loaded, then their tags and matched fields in one query each.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from qa.store.callfilter import CallFilter, call_url
from qa.store.reads import reviewed_condition
from qa.store.schema import Call, CallTag, Decision, Review, Survey
from qa.store.textsearch import matched_fields, parse_search, search_condition

DETAIL_CHUNK = 900  # ids per IN (...) when loading rows: below SQLite's parameter limit


@dataclass(frozen=True)
class CallListRow:
    """One call in a list. ``handle_seconds``: talk + hold + after-call work (the AHT
    definition); ``score``: the latest scorecard review's; ``tags``: effective tags;
    ``matched``: which of ``transcript`` / ``comment`` the search matched."""

    id: int
    external_id: str
    started_at: datetime
    agent_id: str
    agent_name: str
    team: str
    queue: str
    handle_seconds: float
    csat: int | None
    nps: int | None
    ces: int | None
    fcr: bool | None
    transferred: bool
    reviewed: bool
    score: float | None
    tags: tuple[str, ...]
    matched: tuple[str, ...] = ()

    def link(self, ui_url: str) -> str:
        """The call's page in the review UI (``<ui_url>/?call=<external id>``)."""
        return call_url(ui_url, self.external_id)


@dataclass(frozen=True)
class CallPage:
    """One page of a list, the filter that made it and how many calls match in all."""

    rows: tuple[CallListRow, ...]
    total: int
    filter: CallFilter

    @property
    def pages(self) -> int:
        """Pages the whole result spans (at least 1)."""
        return max(1, -(-self.total // self.filter.page_size))

    @property
    def first(self) -> int:
        """1-based position of the page's first row (0 when it is empty)."""
        return self.filter.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """1-based position of the page's last row (0 when it is empty)."""
        return self.filter.offset + len(self.rows)


def _latest_review() -> Any:
    """``SELECT call_id, score FROM review`` of each call's latest review only."""
    newer = aliased(Review)
    later = or_(
        newer.created_at > Review.created_at,
        and_(newer.created_at == Review.created_at, newer.id > Review.id),  # type: ignore[operator]
    )
    return select(Review.call_id, Review.score).where(
        ~exists().where(newer.call_id == Review.call_id, later)
    )


def _score_expr() -> Any:
    return (
        select(Review.score)
        .where(Review.call_id == Call.id)
        .order_by(Review.created_at.desc(), Review.id.desc())  # type: ignore[attr-defined,union-attr]
        .limit(1)
        .scalar_subquery()
    )


def _handle_expr() -> Any:
    return Call.talk_seconds + Call.hold_seconds + Call.acw_seconds


def _agent_ids(session: Session, agent: str) -> list[str]:
    """The ids an ``agent`` filter means: itself, and the ids of agents with that name."""
    named = session.scalars(select(Call.agent_id).where(Call.agent_name == agent).distinct())
    return sorted({agent, *named})


def _tag_set(tags: Sequence[str]) -> Any:
    return select(CallTag.call_id).where(CallTag.tag.in_(tags))  # type: ignore[attr-defined]


def _has_tag(tag: str) -> Any:
    return exists().where(CallTag.call_id == Call.id, CallTag.tag == tag)


def _range(column: Any, low: float | None, high: float | None) -> list[Any]:
    out = []
    if low is not None:
        out.append(column >= low)
    if high is not None:
        out.append(column <= high)
    return out


def _survey_conditions(flt: CallFilter) -> list[Any]:
    out = _range(Survey.csat, flt.csat_min, flt.csat_max)
    out += _range(Survey.nps, flt.nps_min, flt.nps_max)
    out += _range(Survey.ces, flt.ces_min, flt.ces_max)
    if flt.fcr is not None:
        out.append(Survey.fcr.is_(flt.fcr))  # type: ignore[union-attr]
    return out


def _common(session: Session, flt: CallFilter) -> list[Any]:
    """The clauses that read the same in the page query and in the count."""
    out: list[Any] = _survey_conditions(flt)
    if flt.since is not None:
        out.append(Call.started_at >= flt.since)
    if flt.until is not None:
        out.append(Call.started_at < flt.until)
    for name in ("team", "queue"):
        value = getattr(flt, name)
        if value:
            out.append(getattr(Call, name) == value)
    if flt.agent:
        out.append(Call.agent_id.in_(_agent_ids(session, flt.agent)))  # type: ignore[attr-defined]
    if flt.transferred is not None:
        out.append(Call.transferred.is_(flt.transferred))  # type: ignore[attr-defined]
    if flt.score_min is not None or flt.score_max is not None:
        latest = _latest_review().subquery()
        scored = select(latest.c.call_id).where(
            *_range(latest.c.score, flt.score_min, flt.score_max)
        )
        out.append(Call.id.in_(scored))  # type: ignore[union-attr]
    if flt.search:
        out.append(search_condition(session.get_bind().dialect.name, parse_search(flt.search)))
    return out


def conditions(session: Session, flt: CallFilter) -> list[Any]:
    """The ``WHERE`` clauses of ``flt`` on ``Call`` (survey ones need the survey join), in
    the form that lets the page query walk an index in sort order and stop after a page:
    tags and reviews as correlated ``EXISTS``."""
    out = _common(session, flt)
    if flt.tags_any:
        out.append(exists().where(CallTag.call_id == Call.id, CallTag.tag.in_(flt.tags_any)))  # type: ignore[attr-defined]
    out += [_has_tag(t) for t in flt.tags_all]
    if flt.tags_none:
        out.append(~exists().where(CallTag.call_id == Call.id, CallTag.tag.in_(flt.tags_none)))  # type: ignore[attr-defined]
    if flt.reviewed is not None:
        out.append(reviewed_condition() if flt.reviewed else not_(reviewed_condition()))
    return out


def _reviewed_set() -> Any:
    return select(Review.call_id).union(select(Decision.call_id))


def _any_tag(tags: Sequence[str], as_set: bool) -> Any:
    """The call has one of ``tags``: as membership in the set of such calls (built once:
    best when nothing else narrows the calls down) or as a probe per call."""
    if as_set:
        return Call.id.in_(_tag_set(tags))  # type: ignore[union-attr]
    return exists().where(CallTag.call_id == Call.id, CallTag.tag.in_(tags))  # type: ignore[attr-defined]


def _count_where(flt: CallFilter, subtract: Sequence[str]) -> list[Any]:
    """The tag and review clauses of one count, ``subtract`` naming the negated filters
    (``tags_none``, ``unreviewed``) counted in their positive form."""
    narrow = bool(flt.agent or flt.search or flt.reviewed or "unreviewed" in subtract)
    narrow = narrow or flt.score_min is not None or flt.score_max is not None
    out = []
    if flt.tags_any:
        out.append(_any_tag(flt.tags_any, not narrow))
    out += [_any_tag((t,), not narrow) for t in flt.tags_all]
    if flt.reviewed or "unreviewed" in subtract:
        out.append(Call.id.in_(_reviewed_set()))  # type: ignore[union-attr]
    if "tags_none" in subtract:
        out.append(_any_tag(flt.tags_none, not narrow))
    return out


def _sort_key(name: str) -> tuple[Any, bool]:
    """The sort expression and whether it can be NULL."""
    keys: dict[str, tuple[Any, bool]] = {
        "started_at": (Call.started_at, False),
        "external_id": (Call.external_id, False),
        "agent": (Call.agent_name, False),
        "team": (Call.team, False),
        "queue": (Call.queue, False),
        "handle": (_handle_expr(), False),
        "csat": (Survey.csat, True),
        "nps": (Survey.nps, True),
        "ces": (Survey.ces, True),
        "fcr": (Survey.fcr, True),
        "transferred": (Call.transferred, False),
        "reviewed": (reviewed_condition(), False),
        "score": (_score_expr(), True),
    }
    return keys[name]


def _needs_survey(flt: CallFilter) -> bool:
    return bool(_survey_conditions(flt)) or flt.sort in ("csat", "nps", "ces", "fcr")


def _from(stmt: Any, flt: CallFilter) -> Any:
    if _needs_survey(flt):
        return stmt.outerjoin(Survey, Survey.call_external_id == Call.external_id)
    return stmt


def ordered_ids(session: Session, flt: CallFilter, where: list[Any]) -> Any:
    """``SELECT call.id`` of the matching calls in the filter's order (no paging)."""
    key, nullable = _sort_key(flt.sort)
    order = key.desc() if flt.desc else key.asc()
    if nullable:
        order = order.nulls_last()
    tiebreak = Call.id.desc() if flt.desc else Call.id.asc()  # type: ignore[union-attr]
    return _from(select(Call.id), flt).where(*where).order_by(order, tiebreak)


def count_calls(session: Session, flt: CallFilter) -> int:
    """How many calls match ``flt`` (all of them: no cap).

    "Not these tags" and "not reviewed" are counted by inclusion-exclusion
    (``count(A and not N) = count(A) - count(A and N)``): testing every one of a million
    calls for not being in a set costs seconds, counting the calls in it does not."""
    base = _common(session, flt)
    negated = [n for n, on in (("tags_none", bool(flt.tags_none)),
                               ("unreviewed", flt.reviewed is False)) if on]  # fmt: skip
    total = 0
    for k in range(len(negated) + 1):
        for subset in itertools.combinations(negated, k):
            stmt = _from(select(func.count()).select_from(Call), flt)
            where = [*base, *_count_where(flt, subset)]
            total += (-1) ** k * int(session.scalar(stmt.where(*where)) or 0)
    return total


def load_rows(session: Session, ids: Sequence[int], *, search: str = "") -> tuple[CallListRow, ...]:
    """The list rows of the calls ``ids``, in that order."""
    ids = list(ids)
    found: dict[int, Any] = {}
    tags: dict[int, list[str]] = defaultdict(list)
    stmt = select(
        Call.id, Call.external_id, Call.started_at, Call.agent_id, Call.agent_name, Call.team,
        Call.queue, _handle_expr().label("handle"), Survey.csat, Survey.nps, Survey.ces,
        Survey.fcr, Call.transferred, reviewed_condition().label("reviewed"),
        _score_expr().label("score"),
    ).outerjoin(Survey, Survey.call_external_id == Call.external_id)  # fmt: skip
    for start in range(0, len(ids), DETAIL_CHUNK):
        chunk = ids[start : start + DETAIL_CHUNK]
        for row in session.execute(stmt.where(Call.id.in_(chunk))):  # type: ignore[union-attr]
            found[row.id] = row
        tag_rows = select(CallTag.call_id, CallTag.tag).where(CallTag.call_id.in_(chunk))  # type: ignore[attr-defined]
        for call_id, tag in session.execute(tag_rows.order_by(CallTag.call_id, CallTag.tag)):
            tags[call_id].append(tag)
    phrases = parse_search(search)
    matched = matched_fields(session, [(i, found[i].external_id) for i in ids], phrases)
    return tuple(
        CallListRow(
            id=r.id,
            external_id=r.external_id,
            started_at=r.started_at,
            agent_id=r.agent_id,
            agent_name=r.agent_name,
            team=r.team,
            queue=r.queue,
            handle_seconds=float(r.handle),
            csat=r.csat,
            nps=r.nps,
            ces=r.ces,
            fcr=r.fcr,
            transferred=bool(r.transferred),
            reviewed=bool(r.reviewed),
            score=r.score,
            tags=tuple(tags.get(r.id, ())),
            matched=matched.get(r.id, ()),
        )
        for r in (found[i] for i in ids)
    )


def list_calls_page(*, session: Session, flt: CallFilter) -> CallPage:
    """One page of the calls matching ``flt``, in its order, and the total that match."""
    where = conditions(session, flt)
    ordered = ordered_ids(session, flt, where)
    total: int | None = None
    if flt.search:
        # A search's matches are gathered and sorted anyway: count them in the same pass
        # rather than running the search twice.
        counted = ordered.add_columns(func.count().over())
        found = session.execute(counted.limit(flt.page_size).offset(flt.offset)).all()
        ids = [row[0] for row in found]
        total = int(found[0][1]) if found else None
    else:
        ids = list(session.scalars(ordered.limit(flt.page_size).offset(flt.offset)))
    if total is None:
        total = count_calls(session, flt)
    return CallPage(rows=load_rows(session, ids, search=flt.search), total=total, filter=flt)


def iter_calls(
    *, session: Session, flt: CallFilter, limit: int | None = None, batch: int = 500
) -> Iterator[CallListRow]:
    """Every call matching ``flt`` in its order (ignoring its page), up to ``limit``: for
    exports, which would otherwise page with ever larger offsets."""
    stmt = ordered_ids(session, flt, conditions(session, flt))
    if limit is not None:
        stmt = stmt.limit(limit)
    ids = list(session.scalars(stmt))
    for start in range(0, len(ids), batch):
        yield from load_rows(session, ids[start : start + batch], search=flt.search)
