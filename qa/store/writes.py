"""Write side for reviewers: tag decisions and scorecard reviews, appended and never edited.

Every call here adds a row: a second reviewer's decision on the same tag is a second
``Decision``, a re-saved scorecard a second ``Review``. Which one counts is decided when
reading (``qa.store.effective``). Machine hits (``Tag``) are never touched here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from qa.store.calltags import refresh_call_tags
from qa.store.reads import CallNotFound
from qa.store.schema import Call, Decision, Review, Tag

MAX_TAG_LENGTH = 64
MAX_COMMENT_LENGTH = 2000
EVIDENCE_SOURCES = ("comment", "transcript")


@dataclass(frozen=True)
class Evidence:
    """The piece of evidence a decision is about (a machine hit's place); None: whole call."""

    source: str
    turn_index: int | None = None
    span_start: int | None = None
    span_end: int | None = None
    text: str = ""


def require_call(session: Session, call_id: int) -> Call:
    """The call with ``call_id``; :class:`CallNotFound` when there is none."""
    call = session.get(Call, call_id)
    if call is None:
        raise CallNotFound(f"no call with id {call_id}")
    return call


def clean_tag(tag: str) -> str:
    """``tag`` stripped; a ValueError when it is empty or too long."""
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
    role: str = "reviewer",
    evidence: Evidence | None = None,
    comment: str = "",
    origin: str = "ui",
    round_id: int | None = None,
    created_at: datetime | None = None,
) -> Decision:
    """Append one decision: ``tag`` is present (confirmed or added) or absent (rejected) on
    the call, for the whole call or for one piece of ``evidence``. Returns the flushed row."""
    require_call(session, call_id)
    name = clean_tag(tag)
    if evidence is not None and evidence.source not in EVIDENCE_SOURCES:
        raise ValueError(
            f"evidence source {evidence.source!r} is not one of: {', '.join(EVIDENCE_SOURCES)}"
        )
    if len(comment or "") > MAX_COMMENT_LENGTH:
        raise ValueError(f"comment is longer than {MAX_COMMENT_LENGTH} characters")
    row = Decision(
        call_id=call_id,
        tag=name,
        present=bool(present),
        reviewer=reviewer,
        role=role,
        source=None if evidence is None else evidence.source,
        turn_index=None if evidence is None else evidence.turn_index,
        span_start=None if evidence is None else evidence.span_start,
        span_end=None if evidence is None else evidence.span_end,
        evidence=_evidence_text(session, call_id, name, evidence),
        comment=comment or "",
        origin=origin,
        round_id=round_id,
        created_at=created_at or datetime.now(),
    )
    session.add(row)
    session.flush()
    refresh_call_tags(session, [call_id])
    return row


def _evidence_text(session: Session, call_id: int, tag: str, evidence: Evidence | None) -> str:
    """The evidence's text as given, else the text of the machine hit at that place."""
    if evidence is None:
        return ""
    if evidence.text:
        return evidence.text
    hit = session.exec(
        select(Tag.evidence).where(
            Tag.call_id == call_id, Tag.tag == tag, Tag.source == evidence.source,
            Tag.turn_index == evidence.turn_index, Tag.span_start == evidence.span_start,
        )
    ).first()  # fmt: skip
    return hit or ""


def add_review(
    *,
    session: Session,
    call_id: int,
    reviewer: str,
    scorecard: dict[str, Any],
    notes: str,
    scorecard_ref: str | None = None,
    score: float | None = None,
    auto_failed: bool | None = None,
    round_id: int | None = None,
) -> Review:
    """Append a reviewer's pass over a call (scorecard answers, their score, notes)."""
    require_call(session, call_id)
    if not isinstance(scorecard, dict):
        raise TypeError(f"scorecard must be a dict of answers, got {type(scorecard).__name__}")
    review = Review(
        call_id=call_id, reviewer=reviewer, scorecard=dict(scorecard), notes=notes,
        scorecard_ref=scorecard_ref, score=score, auto_failed=auto_failed, round_id=round_id,
    )  # fmt: skip
    session.add(review)
    session.flush()
    return review
