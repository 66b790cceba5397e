"""What a coaching pack shows: its summary, its items with call facts and transcript excerpts.

Frozen values built by ``qa.review.packs.pack_detail`` and read by the review UI and the
exports (``qa.review.pack_export``). Transcript text is ``Turn.text`` and the comment is the
stored survey comment, both redacted when they were stored (unless redaction is off).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from qa.store.callfilter import CallFilter, call_url, pack_url
from qa.store.calllist import count_calls, iter_calls
from qa.store.schema import Call, CoachingPack, PackItem, Survey, Tag, Turn

CONTEXT_TURNS = 2
"""Turns shown either side of the evidence's turn."""
CLIP_RADIUS = 10.0
"""Seconds of audio either side of the evidence in an exported clip."""


@dataclass(frozen=True)
class PackSummary:
    """One pack in a list: who made it, for whom, by when, and how many items it holds."""

    id: int
    name: str
    note: str
    created_by: str
    created_at: datetime
    agent_id: str | None
    due: date | None
    filter_query: str
    archived: bool
    items: int

    @classmethod
    def of(cls, pack: CoachingPack, items: int) -> PackSummary:
        """The summary of a stored pack."""
        assert pack.id is not None
        return cls(
            id=pack.id, name=pack.name, note=pack.note, created_by=pack.created_by,
            created_at=pack.created_at, agent_id=pack.agent_id, due=pack.due,
            filter_query=pack.filter_query, archived=pack.archived, items=items,
        )  # fmt: skip

    def link(self, ui_url: str) -> str:
        """The pack's page in the review UI."""
        return pack_url(ui_url, self.id)


@dataclass(frozen=True)
class ItemRef:
    """An item before its call facts are loaded: a stored ``PackItem`` or a filter match
    (``item_id`` None)."""

    call_id: int
    item_id: int | None = None
    tag: str | None = None
    source: str | None = None
    turn_index: int | None = None
    span_start: int | None = None
    span_end: int | None = None
    evidence: str = ""
    note: str = ""
    added_by: str = ""


@dataclass(frozen=True)
class ExcerptLine:
    """One line of an excerpt: a transcript turn or the survey comment (``turn_index``
    None). ``mark`` is the evidence's character span in ``text``; ``is_evidence`` flags the
    evidence's own line."""

    turn_index: int | None
    speaker: str
    start: float | None
    end: float | None
    text: str
    is_evidence: bool = False
    mark: tuple[int, int] | None = None

    def parts(self) -> tuple[str, str, str]:
        """``text`` split into before, the marked evidence and after ("" when unmarked)."""
        if self.mark is None:
            return self.text, "", ""
        a, b = self.mark
        return self.text[:a], self.text[a:b], self.text[b:]


@dataclass(frozen=True)
class PackItemView:
    """One item as shown: the call's facts, the evidence and note, and the excerpt around
    it. ``evidence_at``: about where in the recording the evidence is said (seconds)."""

    position: int
    item_id: int | None
    call_id: int
    external_id: str
    agent_id: str
    agent_name: str
    team: str
    started_at: datetime
    has_recording: bool
    tag: str | None
    source: str | None
    turn_index: int | None
    span_start: int | None
    span_end: int | None
    evidence: str
    note: str
    added_by: str
    excerpt: tuple[ExcerptLine, ...]
    evidence_at: float | None

    @property
    def scope(self) -> str:
        """``call`` (the whole call), ``comment`` or ``transcript``."""
        return self.source or "call"

    def link(self, ui_url: str) -> str:
        """The call's page in the review UI."""
        return call_url(ui_url, self.external_id)


def clip_window(item: PackItemView) -> tuple[float, float] | None:
    """The seconds of the recording an item's clip covers (before clamping to the
    recording's end): ±:data:`CLIP_RADIUS` around its evidence; None without a turn."""
    if item.evidence_at is None:
        return None
    start = max(0.0, item.evidence_at - CLIP_RADIUS)
    return start, item.evidence_at + CLIP_RADIUS


@dataclass(frozen=True)
class PackView:
    """A pack and its items in order (hand-picked first, then the filter's matches, of which
    there are ``matched_total`` in all; None for a hand-picked pack)."""

    id: int
    name: str
    note: str
    created_by: str
    created_at: datetime
    agent_id: str | None
    agent_name: str
    due: date | None
    filter_query: str
    archived: bool
    items: tuple[PackItemView, ...]
    matched_total: int | None = None

    @classmethod
    def of(
        cls, pack: CoachingPack, *, items: Sequence[PackItemView], matched_total: int | None,
        agent_name: str = "",
    ) -> PackView:  # fmt: skip
        """The view of a stored pack with its built items."""
        assert pack.id is not None
        return cls(
            id=pack.id, name=pack.name, note=pack.note, created_by=pack.created_by,
            created_at=pack.created_at, agent_id=pack.agent_id, agent_name=agent_name,
            due=pack.due, filter_query=pack.filter_query, archived=pack.archived,
            items=tuple(items), matched_total=matched_total,
        )  # fmt: skip

    def link(self, ui_url: str) -> str:
        """The pack's page in the review UI."""
        return pack_url(ui_url, self.id)


def evidence_items(rows: Iterable[PackItem]) -> list[ItemRef]:
    """Stored items as :class:`ItemRef` values, in the order given."""
    return [
        ItemRef(
            call_id=r.call_id,
            item_id=r.id,
            tag=r.tag,
            source=r.source,
            turn_index=r.turn_index,
            span_start=r.span_start,
            span_end=r.span_end,
            evidence=r.evidence,
            note=r.note,
            added_by=r.added_by,
        )
        for r in rows
    ]


def filter_items(
    session: Session, flt: CallFilter, *, limit: int, skip: set[int]
) -> tuple[list[ItemRef], int]:
    """Up to ``limit`` calls ``flt`` matches (in its order, leaving out ``skip``), each with
    the first machine hit of the filter's tags as evidence; and how many match in all."""
    rows = [r for r in iter_calls(session=session, flt=flt, limit=limit + len(skip))]
    ids = [r.id for r in rows if r.id not in skip][:limit]
    tags = tuple(dict.fromkeys((*flt.tags_any, *flt.tags_all)))
    first: dict[int, Tag] = {}
    if tags and ids:
        hits = session.scalars(
            select(Tag)
            .where(Tag.call_id.in_(ids), Tag.tag.in_(tags), Tag.present.is_(True))  # type: ignore[attr-defined]
            .order_by(Tag.call_id, Tag.turn_index, Tag.id)
        )
        for hit in hits:
            first.setdefault(hit.call_id, hit)
    refs = []
    for call_id in ids:
        hit = first.get(call_id)
        if hit is None:
            refs.append(ItemRef(call_id=call_id, tag=tags[0] if tags else None))
            continue
        refs.append(
            ItemRef(
                call_id=call_id,
                tag=hit.tag,
                source=hit.source,
                turn_index=hit.turn_index,
                span_start=hit.span_start,
                span_end=hit.span_end,
                evidence=hit.evidence,
            )
        )
    return refs, count_calls(session, flt)


def _mark(text: str, ref: ItemRef) -> tuple[int, int] | None:
    """Where the evidence is in ``text``: its span when that holds the evidence, else the
    evidence's first occurrence (any case), else None."""
    s, e = ref.span_start, ref.span_end
    spanned = s is not None and e is not None and 0 <= s < e <= len(text)
    if spanned and (not ref.evidence or text[s:e].lower() == ref.evidence.lower()):
        return s, e  # type: ignore[return-value]
    if ref.evidence:
        found = text.lower().find(ref.evidence.lower())
        if found >= 0:
            return found, found + len(ref.evidence)
    return None


def _turn_excerpt(session: Session, ref: ItemRef) -> tuple[tuple[ExcerptLine, ...], float | None]:
    assert ref.turn_index is not None
    turns = session.scalars(
        select(Turn)
        .where(
            Turn.call_id == ref.call_id,
            Turn.index >= ref.turn_index - CONTEXT_TURNS,
            Turn.index <= ref.turn_index + CONTEXT_TURNS,
        )
        .order_by(Turn.index)
    )
    lines, at = [], None
    for t in turns:
        own = t.index == ref.turn_index
        mark = _mark(t.text, ref) if own else None
        if own:
            middle = (mark[0] + mark[1]) / 2 / len(t.text) if mark and t.text else 0.5
            at = t.start + middle * max(0.0, t.end - t.start)
        lines.append(ExcerptLine(t.index, t.speaker, t.start, t.end, t.text, own, mark))
    return tuple(lines), at


def _excerpt(
    session: Session, ref: ItemRef, comment: str | None
) -> tuple[tuple[ExcerptLine, ...], float | None]:
    """The evidence turn ±``CONTEXT_TURNS`` turns; for a comment, the comment."""
    if ref.source == "transcript" and ref.turn_index is not None:
        return _turn_excerpt(session, ref)
    if ref.source == "comment" and comment:
        return (ExcerptLine(None, "comment", None, None, comment, True, _mark(comment, ref)),), None
    return (), None


def item_views(session: Session, refs: Sequence[ItemRef]) -> tuple[PackItemView, ...]:
    """Each ref with its call's facts and its excerpt, numbered from 1."""
    ids = sorted({r.call_id for r in refs})
    calls = {c.id: c for c in session.scalars(select(Call).where(Call.id.in_(ids)))}  # type: ignore[union-attr]
    externals = [c.external_id for c in calls.values()]
    comments = dict(
        session.execute(
            select(Survey.call_external_id, Survey.comment).where(
                Survey.call_external_id.in_(externals)  # type: ignore[attr-defined]
            )
        ).all()
    )
    views = []
    for position, ref in enumerate(refs, start=1):
        call = calls[ref.call_id]
        excerpt, at = _excerpt(session, ref, comments.get(call.external_id))
        views.append(
            PackItemView(
                position=position,
                item_id=ref.item_id,
                call_id=ref.call_id,
                external_id=call.external_id,
                agent_id=call.agent_id,
                agent_name=call.agent_name,
                team=call.team,
                started_at=call.started_at,
                has_recording=bool(call.recording_path),
                tag=ref.tag,
                source=ref.source,
                turn_index=ref.turn_index,
                span_start=ref.span_start,
                span_end=ref.span_end,
                evidence=ref.evidence,
                note=ref.note,
                added_by=ref.added_by,
                excerpt=excerpt,
                evidence_at=at,
            )
        )
    return tuple(views)
