"""The review queue: which call a reviewer should look at next, and who has it now.

Four queues (``QUEUES``):

- ``uncertain``: calls whose model hits are nearest their cut-off (uncertainty sampling).
  A hit is stored only when its score clears its tag's cut-off, so the lowest-scoring
  undecided model hits are the ones the model is least sure of;
- ``worst``: lowest CSAT first, among calls with a machine tag nobody has decided on;
- ``coverage``: the QA-team habit of N calls per agent per week: in the newest week with
  calls, agents with the fewest reviewed calls that week go first, a seeded random pick of
  their unreviewed calls;
- ``calibration``: the calls of an open calibration round the reviewer has not answered.

A served call is leased to its reviewer (``QueueLease``) for ``LEASE_MINUTES`` so nobody
else is served it at the same time; taking the next call releases the previous lease.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from qa.store.schema import CalibrationRound, Call, Decision, QueueLease, Review, Survey, Tag

QUEUES = ("uncertain", "worst", "coverage", "calibration")
LEASE_MINUTES = 20
COVERAGE_PER_AGENT = 2


@dataclass(frozen=True)
class QueueItem:
    """A call served by a queue, and why it was chosen."""

    call_id: int
    queue: str
    reason: str
    round_id: int | None = None


def check_queue(queue: str) -> str:
    """``queue`` if it is one of :data:`QUEUES`; else a ValueError listing them."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; choose one of: {', '.join(QUEUES)}")
    return queue


def _taken(session: Session, reviewer: str, now: datetime) -> set[int]:
    """Calls leased to someone else and not yet expired."""
    stmt = select(QueueLease.call_id).where(
        QueueLease.reviewer != reviewer, QueueLease.expires_at > now
    )
    return set(session.scalars(stmt))


def _decided(session: Session) -> set[tuple[int, str]]:
    return set(session.execute(select(Decision.call_id, Decision.tag).distinct()).all())


def _uncertain(session: Session, skip: set[int]) -> QueueItem | None:
    decided = _decided(session)
    # Each tag has its own cut-off, so the model is least sure where score - cutoff is
    # smallest (hits stored before cut-offs were kept rank by their raw score).
    margin = Tag.score - func.coalesce(Tag.cutoff, 0.0)
    stmt = select(Tag.call_id, Tag.tag, Tag.score, Tag.cutoff).where(Tag.method == "model")
    for call_id, tag, score, cutoff in session.execute(stmt.order_by(margin, Tag.id)):
        if call_id not in skip and (call_id, tag) not in decided:
            cut = "" if cutoff is None else f" (cut-off {cutoff:.2f})"
            return QueueItem(call_id, "uncertain", f"model hit {tag} at {score:.2f}{cut}")
    return None


def _worst(session: Session, skip: set[int]) -> QueueItem | None:
    decided = _decided(session)
    machine = defaultdict(set)
    for call_id, tag in session.execute(select(Tag.call_id, Tag.tag).distinct()):
        machine[call_id].add(tag)
    stmt = (
        select(Call.id, Survey.csat)
        .join(Survey, Survey.call_external_id == Call.external_id)
        .where(col(Survey.csat).is_not(None))
        .order_by(Survey.csat, col(Call.started_at).desc())
    )
    for call_id, csat in session.execute(stmt):
        open_tags = sorted(t for t in machine.get(call_id, ()) if (call_id, t) not in decided)
        if call_id not in skip and open_tags:
            return QueueItem(call_id, "worst", f"CSAT {csat}; undecided: {', '.join(open_tags)}")
    return None


def _week(when: datetime) -> tuple[int, int]:
    iso = when.isocalendar()
    return iso.year, iso.week


def _coverage(session: Session, skip: set[int], per_agent: int) -> QueueItem | None:
    newest = session.scalar(select(func.max(Call.started_at)).where(Call.agent_id != ""))
    if newest is None:
        return None
    week = _week(newest)
    start = newest - timedelta(days=newest.weekday())
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = session.execute(
        select(Call.id, Call.agent_id).where(Call.agent_id != "", Call.started_at >= start)
    ).all()
    reviewed = set(session.scalars(select(Review.call_id))) | {c for c, _ in _decided(session)}
    by_agent: dict[str, list[int]] = defaultdict(list)
    for call_id, agent in rows:
        by_agent[agent].append(call_id)
    done = {a: sum(c in reviewed for c in calls) for a, calls in by_agent.items()}
    for agent in sorted(by_agent, key=lambda a: (done[a], a)):
        if done[agent] >= per_agent:
            break
        pool = sorted(c for c in by_agent[agent] if c not in reviewed and c not in skip)
        if pool:
            pick = random.Random(f"{agent}:{week}").choice(pool)  # same pick for everyone
            reason = f"agent {agent}: {done[agent]}/{per_agent} reviewed in week {week[1]}"
            return QueueItem(pick, "coverage", reason)
    return None


def _calibration(session: Session, skip: set[int], reviewer: str) -> QueueItem | None:
    rounds = session.scalars(
        select(CalibrationRound).where(col(CalibrationRound.closed).is_(False))
    )
    for rnd in sorted(rounds, key=lambda r: r.id or 0):
        answered = set(
            session.scalars(
                select(Review.call_id).where(Review.round_id == rnd.id, Review.reviewer == reviewer)
            )
        )
        for call_id in rnd.call_ids:
            if call_id not in answered and call_id not in skip:
                return QueueItem(call_id, "calibration", f"round {rnd.name!r}", rnd.id)
    return None


def next_call(
    *,
    session: Session,
    queue: str,
    reviewer: str,
    now: datetime | None = None,
    exclude: tuple[int, ...] = (),
    per_agent: int = COVERAGE_PER_AGENT,
) -> QueueItem | None:
    """The next call of ``queue`` for ``reviewer``, leased to them; None when the queue is
    empty. ``exclude``: calls to pass over (the one on screen)."""
    check_queue(queue)
    now = now or datetime.now()
    skip = _taken(session, reviewer, now) | set(exclude)
    if queue == "calibration":
        # A round is answered by everyone: leases don't keep other reviewers out.
        item = _calibration(session, set(exclude), reviewer)
    elif queue == "uncertain":
        item = _uncertain(session, skip)
    elif queue == "worst":
        item = _worst(session, skip)
    else:
        item = _coverage(session, skip, per_agent)
    session.execute(delete(QueueLease).where(col(QueueLease.reviewer) == reviewer))
    if item is not None and queue != "calibration":
        session.execute(delete(QueueLease).where(col(QueueLease.call_id) == item.call_id))
        session.add(
            QueueLease(
                call_id=item.call_id,
                reviewer=reviewer,
                queue=queue,
                expires_at=now + timedelta(minutes=LEASE_MINUTES),
            )
        )
    session.flush()
    return item
