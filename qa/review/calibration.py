"""Calibration rounds and the ratings that agreement is computed from.

A lead picks calls for a round (``create_round``); each reviewer answers them blind (the UI
shows a reviewer only their own decisions and reviews on a round's call; ``call_detail``'s
``blind_for``). ``ratings`` turns what reviewers said into ``qa.review.agreement.Rating``
tables, per tag and per scorecard question:

- a tag: each reviewer's latest decision on (call, tag), whatever its scope; in a round,
  a machine tag the reviewer answered the call without deciding on counts as accepted
  (present), which is what a blind reviewer who leaves it standing says;
- a question: each reviewer's latest review of the call, its answer to the question.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlmodel import Session, col

from qa.review.agreement import Agreement, Rating, agreements
from qa.store.reads import CallNotFound, load_hits
from qa.store.schema import CalibrationRound, Call, Decision, Review

Ratings = dict[tuple[str, str], list[Rating]]


@dataclass(frozen=True)
class Disagreement:
    """One call on which the raters of one tag or question gave different answers."""

    kind: str
    subject: str
    item: str
    answers: dict[str, object]


@dataclass(frozen=True)
class RoundView:
    """A calibration round as listed: who answered how many of its calls."""

    id: int
    name: str
    created_by: str
    calls: tuple[int, ...]
    closed: bool
    answered: dict[str, int]


def create_round(
    *, session: Session, name: str, calls: Sequence[str | int], created_by: str,
    scorecard_id: str | None = None,
) -> CalibrationRound:  # fmt: skip
    """A new open round over ``calls`` (database ids or external ids); unknown ones are a
    ``CallNotFound`` naming them."""
    if not name.strip():
        raise ValueError("a calibration round needs a name, e.g. 'March week 2'")
    by_external = dict(session.execute(select(Call.external_id, Call.id)).all())
    known_ids = set(by_external.values())
    ids, missing = [], []
    for ref in calls:
        text = str(ref).strip()
        cid = by_external.get(text)
        if cid is None and text.isdigit() and int(text) in known_ids:
            cid = int(text)
        (ids.append(cid) if cid is not None else missing.append(text))
    if missing:
        raise CallNotFound(f"no call with id {', '.join(missing)}")
    if len(set(ids)) < 2:
        raise ValueError("a calibration round needs at least two different calls")
    row = CalibrationRound(
        name=name.strip(),
        created_by=created_by,
        call_ids=list(dict.fromkeys(ids)),
        scorecard_id=scorecard_id,
    )
    session.add(row)
    session.flush()
    return row


def list_rounds(*, session: Session) -> list[RoundView]:
    """Every round, newest first, with the calls each reviewer has reviewed in it."""
    out = []
    for rnd in session.scalars(select(CalibrationRound).order_by(col(CalibrationRound.id).desc())):
        answered: dict[str, set[int]] = defaultdict(set)
        for reviewer, call_id in session.execute(
            select(Review.reviewer, Review.call_id).where(Review.round_id == rnd.id)
        ):
            answered[reviewer].add(call_id)
        out.append(
            RoundView(
                rnd.id or 0,
                rnd.name,
                rnd.created_by,
                tuple(rnd.call_ids),
                rnd.closed,
                {r: len(c) for r, c in sorted(answered.items())},
            )
        )
    return out


def open_round_of(*, session: Session, call_id: int) -> int | None:
    """The newest open round that has ``call_id`` (None: the call is in none)."""
    rounds = session.scalars(
        select(CalibrationRound).where(col(CalibrationRound.closed).is_(False))
    )
    found = [r.id for r in rounds if call_id in (r.call_ids or [])]
    return max(found) if found else None  # type: ignore[type-var]


def close_round(*, session: Session, round_id: int) -> None:
    """Stop serving a round's calls (its answers stay)."""
    rnd = session.get(CalibrationRound, round_id)
    if rnd is None:
        raise LookupError(f"no calibration round {round_id}")
    rnd.closed = True
    session.add(rnd)
    session.flush()


def _open_round_ids(session: Session) -> list[int]:
    rounds = select(CalibrationRound.id).where(col(CalibrationRound.closed).is_(False))
    return [i for i in session.scalars(rounds) if i is not None]


def ratings(*, session: Session, round_id: int | None = None, closed_only: bool = False) -> Ratings:
    """(kind, subject) -> ratings, from every decision and review, or a round's only.
    ``closed_only``: leave out what was said in rounds still open (still blind)."""
    names = dict(session.execute(select(Call.id, Call.external_id)).all())
    stmt = select(Decision).order_by(Decision.created_at, Decision.id)
    reviews = select(Review).order_by(Review.created_at, Review.id)
    hidden = _open_round_ids(session) if closed_only else []
    if hidden:
        stmt = stmt.where(
            or_(col(Decision.round_id).is_(None), col(Decision.round_id).not_in(hidden))
        )
        reviews = reviews.where(
            or_(col(Review.round_id).is_(None), col(Review.round_id).not_in(hidden))
        )
    calls: list[int] | None = None
    if round_id is not None:
        rnd = session.get(CalibrationRound, round_id)
        if rnd is None:
            raise LookupError(f"no calibration round {round_id}")
        calls = list(rnd.call_ids)
        stmt = stmt.where(Decision.round_id == round_id)
        reviews = reviews.where(Review.round_id == round_id)
    said: dict[tuple[int, str, str], bool] = {}  # (call, tag, reviewer) -> latest
    for d in session.scalars(stmt):
        said[(d.call_id, d.tag, d.reviewer)] = d.present
    answers: dict[tuple[int, str], dict[str, object]] = {}  # (call, reviewer) -> latest
    for r in session.scalars(reviews):
        answers[(r.call_id, r.reviewer)] = dict(r.scorecard or {})
    if calls is not None:
        # A blind reviewer who answered a call and left a machine tag standing accepts it.
        hits = load_hits(session, calls)
        for call_id, reviewer in answers:
            for tag in {h.tag for h in hits.get(call_id, ())}:
                said.setdefault((call_id, tag, reviewer), True)
    out: Ratings = defaultdict(list)
    for (call_id, tag, reviewer), present in said.items():
        out[("tag", tag)].append(Rating(names[call_id], reviewer, present))
    for (call_id, reviewer), given in answers.items():
        for question, value in given.items():
            if value is not None and value != "":
                out[("question", question)].append(Rating(names[call_id], reviewer, value))  # type: ignore[arg-type]
    return dict(out)


def agreement_report(
    *, session: Session, round_id: int | None = None, closed_only: bool = False
) -> list[Agreement]:
    """Agreement per tag and per question; a question answered with numbers only (a 1-5
    scale) is ordinal, everything else nominal."""
    table = ratings(session=session, round_id=round_id, closed_only=closed_only)
    levels = {
        subject: "ordinal"
        for (kind, subject), rows in table.items()
        if kind == "question" and all(type(r.value) is int for r in rows)
    }
    return agreements(table, levels=levels)


def disagreements(
    *, session: Session, round_id: int | None = None, closed_only: bool = False
) -> list[Disagreement]:
    """Every (tag or question, call) whose raters differ, with each rater's answer; sorted by
    kind, subject and call (the calibration view's "where reviewers disagree")."""
    out = []
    table = ratings(session=session, round_id=round_id, closed_only=closed_only)
    for (kind, subject), rows in table.items():
        by_item: dict[str, dict[str, object]] = defaultdict(dict)
        for r in rows:
            by_item[r.item][r.rater] = r.value
        for item, answers in by_item.items():
            if len(answers) > 1 and len({repr(v) for v in answers.values()}) > 1:
                out.append(Disagreement(kind, subject, item, dict(sorted(answers.items()))))
    return sorted(out, key=lambda d: (d.kind, d.subject, d.item))
