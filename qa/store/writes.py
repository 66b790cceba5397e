"""Write side for reviewers: human tag decisions and scorecard reviews.

Human decisions are stored as ``Tag`` rows with method ``human``, one per (call, tag); the
tagger replaces only machine rows, so a decision survives re-tagging. Machine rows are
never deleted here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from qa.store.reads import HUMAN, CallNotFound
from qa.store.schema import Call, Review, Tag

MAX_TAG_LENGTH = 64


def _require_call(session: Session, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise CallNotFound(f"no call with id {call_id}")
    return call


def _clean_tag(tag: str) -> str:
    name = (tag or "").strip()
    if not name:
        raise ValueError("tag name is empty; pass a taxonomy tag name such as 're-explain'")
    if len(name) > MAX_TAG_LENGTH:
        raise ValueError(f"tag name {name[:20]!r}... is longer than {MAX_TAG_LENGTH} characters")
    return name


def record_tag_decision(
    *,
    session: Session,
    call_id: int,
    tag: str,
    present: bool,
    reviewer: str = "reviewer",
    evidence: str = "",
) -> Tag:
    """Store (or update) the single human decision for ``tag`` on a call.

    ``present=False`` rejects the tag (machine hits of it stop counting); ``True`` confirms
    a machine hit or adds a tag the machine missed. Returns the flushed human row.
    """
    _require_call(session, call_id)
    name = _clean_tag(tag)
    existing = list(
        session.scalars(
            select(Tag)
            .where(Tag.call_id == call_id, Tag.tag == name, Tag.method == HUMAN)
            .order_by(Tag.id)
        )
    )
    row = existing[0] if existing else Tag(call_id=call_id, tag=name, method=HUMAN)
    for duplicate in existing[1:]:  # keep the one-decision-per-tag invariant
        session.delete(duplicate)
    row.present = bool(present)
    row.reviewer = reviewer
    row.evidence = evidence
    row.score = 1.0
    row.source = row.source or "transcript"
    row.created_at = datetime.now()
    session.add(row)
    session.flush()
    return row


def add_review(
    *,
    session: Session,
    call_id: int,
    reviewer: str,
    scorecard: dict[str, Any],
    notes: str,
) -> Review:
    """Record a reviewer's pass over a call (scorecard answers and notes)."""
    _require_call(session, call_id)
    if not isinstance(scorecard, dict):
        raise TypeError(f"scorecard must be a dict of answers, got {type(scorecard).__name__}")
    review = Review(call_id=call_id, reviewer=reviewer, scorecard=dict(scorecard), notes=notes)
    session.add(review)
    session.flush()
    return review
