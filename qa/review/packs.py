"""Coaching packs: a coach's named selection of calls and evidence for an agent.

A pack is hand-picked items (a whole call, or one piece of evidence in it, each with a note),
a saved call-list filter (the URL query of a ``qa.store.callfilter.CallFilter``, whose matches
are read afresh each time), or both. It may be assigned to an agent with a due date, and has
a link into the review UI (``<ui_url>/?pack=<id>``). :func:`pack_detail` builds the
:class:`~qa.review.pack_views.PackView` the UI and the exports (``qa.review.pack_export``)
show. Writers here flush; the caller's session commits.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import parse_qs, urlencode

from sqlalchemy import func, or_, select
from sqlmodel import Session

from qa.review.pack_views import (
    ItemRef,
    PackSummary,
    PackView,
    evidence_items,
    filter_items,
    item_views,
)
from qa.store.callfilter import CallFilter
from qa.store.schema import Call, CoachingPack, PackItem, Tag, Turn
from qa.store.writes import EVIDENCE_SOURCES, Evidence, require_call

__all__ = [
    "PackEntry",
    "PackNotFound",
    "PackSummary",
    "PackView",
    "add_item",
    "archive_pack",
    "create_pack",
    "find_pack",
    "list_packs",
    "pack_detail",
    "parse_filter",
    "remove_item",
    "set_item_note",
    "tag_evidence",
]

MAX_NAME_LENGTH = 128
MAX_NOTE_LENGTH = 2000
DEFAULT_FILTER_LIMIT = 200
"""Most calls a filter pack shows (its newest matches, in the filter's order)."""


@dataclass(frozen=True)
class PackEntry:
    """An item just added to a pack: its id and place."""

    id: int
    pack_id: int
    call_id: int
    position: int


class PackNotFound(LookupError):
    """No pack has that id or name; the message lists the packs there are."""


def parse_filter(query: str) -> CallFilter:
    """A pack's ``filter_query`` (``agent=A02&tag=re-explain&since=2026-11-01``) as a
    ``CallFilter``; a ValueError names an unknown parameter or a bad value."""
    text = (query or "").strip().lstrip("?")
    return CallFilter.from_query(parse_qs(text, keep_blank_values=True), strict=True)


def _clean_note(note: str, what: str = "note") -> str:
    text = (note or "").strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise ValueError(f"{what} is longer than {MAX_NOTE_LENGTH} characters")
    return text


def _resolve_agent(session: Session, agent: str) -> str:
    """The agent id ``agent`` names (an id or a name of an agent with calls); a ValueError
    lists close matches."""
    wanted = agent.strip()
    if session.scalar(select(Call.id).where(Call.agent_id == wanted).limit(1)) is not None:
        return wanted
    ids = list(session.scalars(select(Call.agent_id).where(Call.agent_name == wanted).distinct()))
    if len(ids) == 1:
        return ids[0]
    if len(ids) > 1:
        raise ValueError(f"agent name {wanted!r} is ambiguous; use one of the ids {ids}")
    known = session.execute(select(Call.agent_id, Call.agent_name).distinct()).all()
    names = sorted({n for pair in known for n in pair if n})
    close = difflib.get_close_matches(wanted, names, n=5, cutoff=0.5) or names[:10]
    hint = f"; close matches: {', '.join(close)}" if close else "; no agent has calls yet"
    raise ValueError(f"unknown agent {wanted!r}{hint}")


def create_pack(
    *,
    session: Session,
    name: str,
    created_by: str,
    note: str = "",
    agent: str | None = None,
    due: date | None = None,
    filter_query: str = "",
) -> PackSummary:
    """A new pack named ``name`` (unique), assigned to ``agent`` (an agent id or name) by
    ``due``; ``filter_query`` saves a call-list filter (stored in its normal form). A
    ValueError says what is wrong: no name, a taken name, an unknown agent, a bad filter."""
    clean = (name or "").strip()
    if not clean:
        raise ValueError("pack name is empty; give it a name such as 'Dana: re-explain'")
    if len(clean) > MAX_NAME_LENGTH:
        raise ValueError(f"pack name is longer than {MAX_NAME_LENGTH} characters")
    if not (created_by or "").strip():
        raise ValueError("created_by is empty; say which coach makes the pack")
    taken = session.scalar(select(CoachingPack.id).where(CoachingPack.name == clean))
    if taken is not None:
        raise ValueError(f"a pack named {clean!r} already exists (id {taken}); choose another")
    query = ""
    if (filter_query or "").strip():
        query = urlencode(parse_filter(filter_query).to_query())
    pack = CoachingPack(
        name=clean, note=_clean_note(note), created_by=created_by.strip(),
        agent_id=_resolve_agent(session, agent) if agent and agent.strip() else None,
        due=due, filter_query=query,
    )  # fmt: skip
    session.add(pack)
    session.flush()
    return PackSummary.of(pack, 0)


def find_pack(*, session: Session, pack: int | str) -> CoachingPack:
    """The pack with id ``pack`` or named ``pack`` (a string of digits is tried as an id,
    then as a name); :class:`PackNotFound` lists the packs there are."""
    row = None
    if isinstance(pack, int) or str(pack).strip().isdigit():
        row = session.get(CoachingPack, int(pack))
    if row is None and isinstance(pack, str):
        row = session.scalars(select(CoachingPack).where(CoachingPack.name == pack.strip())).first()
    if row is not None:
        return row
    names = list(session.scalars(select(CoachingPack.name).order_by(CoachingPack.name).limit(20)))
    known = ", ".join(repr(n) for n in names) if names else "(none yet: qa packs create)"
    raise PackNotFound(f"no pack {pack!r}; packs: {known}")


def archive_pack(*, session: Session, pack: int | str, archived: bool = True) -> PackSummary:
    """Archive (hide from :func:`list_packs`) or restore a pack."""
    row = find_pack(session=session, pack=pack)
    row.archived = archived
    session.add(row)
    session.flush()
    count = session.scalar(select(func.count(PackItem.id)).where(PackItem.pack_id == row.id))
    return PackSummary.of(row, count or 0)


def _evidence_text(session: Session, call_id: int, evidence: Evidence) -> str:
    """The evidence's text as given, else the turn's characters at its span (or the turn)."""
    if evidence.text or evidence.source != "transcript" or evidence.turn_index is None:
        return evidence.text
    text = session.scalar(
        select(Turn.text).where(Turn.call_id == call_id, Turn.index == evidence.turn_index)
    )
    if text is None:
        return ""
    if evidence.span_start is not None and evidence.span_end is not None:
        return text[evidence.span_start : evidence.span_end]
    return text


def add_item(
    *,
    session: Session,
    pack_id: int,
    call_id: int,
    evidence: Evidence | None,
    note: str = "",
    added_by: str,
    tag: str | None = None,
) -> PackEntry:
    """Append a call (``evidence`` None) or one piece of its evidence to the pack, last. A
    transcript evidence must name a turn the call has; the same call and scope twice is a
    ValueError, as are an unknown pack or call."""
    pack = find_pack(session=session, pack=pack_id)
    require_call(session, call_id)
    if evidence is not None:
        if evidence.source not in EVIDENCE_SOURCES:
            raise ValueError(
                f"evidence source {evidence.source!r} is not one of: {', '.join(EVIDENCE_SOURCES)}"
            )
        if evidence.source == "transcript":
            _require_turn(session, call_id, evidence.turn_index)
    scope = (
        (None, None, None)
        if evidence is None
        else (evidence.source, evidence.turn_index, evidence.span_start)
    )
    for item in session.scalars(
        select(PackItem).where(PackItem.pack_id == pack.id, PackItem.call_id == call_id)
    ):
        if (item.source, item.turn_index, item.span_start) == scope and item.tag == tag:
            raise ValueError(f"pack {pack.name!r} already holds this (item {item.id})")
    last = session.scalar(select(func.max(PackItem.position)).where(PackItem.pack_id == pack.id))
    row = PackItem(
        pack_id=pack.id, call_id=call_id, tag=(tag or "").strip() or None,
        source=scope[0], turn_index=scope[1], span_start=scope[2],
        span_end=None if evidence is None else evidence.span_end,
        evidence="" if evidence is None else _evidence_text(session, call_id, evidence),
        note=_clean_note(note), position=(last or 0) + 1, added_by=added_by,
        created_at=datetime.now(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    assert row.id is not None and pack.id is not None
    return PackEntry(id=row.id, pack_id=pack.id, call_id=call_id, position=row.position)


def _require_turn(session: Session, call_id: int, turn_index: int | None) -> None:
    indexes = list(session.scalars(select(Turn.index).where(Turn.call_id == call_id)))
    if turn_index in indexes:
        return
    valid = f"0-{max(indexes)}" if indexes else "none: the call has no transcript"
    raise ValueError(f"turn {turn_index} is not a turn of this call (turns: {valid})")


def remove_item(*, session: Session, pack_id: int, item_id: int) -> None:
    """Remove one item from a pack; a ValueError when the pack has no such item."""
    session.delete(_require_item(session, pack_id, item_id))
    session.flush()


def _require_item(session: Session, pack_id: int, item_id: int) -> PackItem:
    item = session.get(PackItem, item_id)
    if item is None or item.pack_id != pack_id:
        ids = list(session.scalars(select(PackItem.id).where(PackItem.pack_id == pack_id)))
        raise ValueError(f"pack {pack_id} has no item {item_id}; its items: {ids or 'none'}")
    return item


def set_item_note(*, session: Session, pack_id: int, item_id: int, note: str) -> None:
    """Replace one item's note; a ValueError when the pack has no such item."""
    item = _require_item(session, pack_id, item_id)
    item.note = _clean_note(note)
    session.add(item)
    session.flush()


def tag_evidence(
    *, session: Session, call_id: int, tag: str, turn_index: int | None = None
) -> Evidence:
    """The evidence of the machine hit of ``tag`` on the call (on turn ``turn_index`` when
    given; else its first hit). A ValueError lists the hits the call has."""
    stmt = select(Tag).where(Tag.call_id == call_id, Tag.present.is_(True))  # type: ignore[attr-defined]
    hits = list(session.scalars(stmt.order_by(Tag.turn_index, Tag.id)))
    for hit in hits:
        if hit.tag == tag and (turn_index is None or hit.turn_index == turn_index):
            return Evidence(hit.source, hit.turn_index, hit.span_start, hit.span_end, hit.evidence)
    where = f" on turn {turn_index}" if turn_index is not None else ""
    have = sorted({f"{h.tag}@{h.source if h.turn_index is None else h.turn_index}" for h in hits})
    raise ValueError(f"no {tag!r} hit{where} on this call; its hits: {', '.join(have) or 'none'}")


def list_packs(
    *, session: Session, agent: str | None = None, archived: bool = False
) -> list[PackSummary]:
    """Packs newest first with their item counts; only ``agent``'s (an id or a name) when
    given; archived packs only with ``archived``."""
    counts = (
        select(PackItem.pack_id, func.count(PackItem.id).label("n"))
        .group_by(PackItem.pack_id)
        .subquery()
    )
    stmt = select(CoachingPack, counts.c.n).outerjoin(counts, counts.c.pack_id == CoachingPack.id)
    if not archived:
        stmt = stmt.where(CoachingPack.archived.is_(False))  # type: ignore[attr-defined]
    if agent and agent.strip():
        named = select(Call.agent_id).where(Call.agent_name == agent.strip())
        stmt = stmt.where(
            or_(CoachingPack.agent_id == agent.strip(), CoachingPack.agent_id.in_(named))  # type: ignore[union-attr]
        )
    stmt = stmt.order_by(CoachingPack.created_at.desc(), CoachingPack.id.desc())  # type: ignore[attr-defined, union-attr]
    return [PackSummary.of(pack, n or 0) for pack, n in session.execute(stmt)]


def pack_detail(
    *, session: Session, pack: int | str, limit: int = DEFAULT_FILTER_LIMIT
) -> PackView:
    """The pack with its items in order: hand-picked ones first, then (for a filter pack) up
    to ``limit`` calls the filter matches now that are not already in it, each with the
    first evidence of the filter's tags. Every item carries its transcript excerpt."""
    row = find_pack(session=session, pack=pack)
    items = session.scalars(
        select(PackItem).where(PackItem.pack_id == row.id).order_by(PackItem.position, PackItem.id)
    )
    picked = evidence_items(items)
    matched: list[ItemRef] = []
    total = None
    if row.filter_query:
        flt = parse_filter(row.filter_query)
        have = {p.call_id for p in picked}
        matched, total = filter_items(session, flt, limit=limit, skip=have)
    views = item_views(session, [*picked, *matched])
    name = ""
    if row.agent_id:
        stmt = select(func.max(Call.agent_name)).where(Call.agent_id == row.agent_id)
        name = session.scalar(stmt) or ""
    return PackView.of(row, items=views, matched_total=total, agent_name=name)
