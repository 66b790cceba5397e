"""The ``CallTag`` table: each call's effective tags, kept pre-computed for list filters.

The tags a call has are defined once, in ``qa.store.effective`` (through
``qa.store.reads.effective_tags``); this module only stores that answer per call so that a
list over a million calls filters with an index instead of re-deciding every call. Whatever
writes ``Tag`` or ``Decision`` rows calls :func:`refresh_call_tags` for the calls it touched
(``qa.store.writes.record_tag_decision``, the tag stage in ``qa.stages.pipeline``), and
``qa.store.upgrade`` fills the table once for a database made before it existed
(:func:`rebuild_call_tags`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlmodel import Session

from qa.store.reads import effective_tags, load_decisions
from qa.store.schema import CallTag, Decision, Tag

CHUNK = 900  # call ids per IN (...): below SQLite's bound-parameter limit
REBUILD_CHUNK = 20_000  # calls computed and written per step of a full rebuild


def _hit_rows(session: Session, call_ids: Sequence[int]) -> dict[int, list[Any]]:
    """Machine hits of the given calls as light rows (the fields ``effective`` reads)."""
    out: dict[int, list[Any]] = defaultdict(list)
    stmt = select(
        Tag.call_id, Tag.tag, Tag.source, Tag.turn_index, Tag.span_start, Tag.span_end
    ).where(Tag.present.is_(True))
    for start in range(0, len(call_ids), CHUNK):
        chunk = call_ids[start : start + CHUNK]
        for row in session.execute(stmt.where(Tag.call_id.in_(chunk))):
            out[row.call_id].append(row)
    return out


def compute_call_tags(session: Session, call_ids: Iterable[int]) -> dict[int, set[str]]:
    """Each given call's effective tags, from its hits and decisions (``effective_tags``)."""
    ids = sorted(set(call_ids))
    hits = _hit_rows(session, ids)
    decisions = load_decisions(session, ids)
    return {i: effective_tags(hits.get(i, ()), decisions.get(i, ())) for i in ids}


def refresh_call_tags(session: Session, call_ids: Iterable[int]) -> int:
    """Rewrite the ``CallTag`` rows of the given calls from their current hits and decisions
    (pending changes in ``session`` included); returns how many rows were written."""
    ids = sorted({int(i) for i in call_ids if i is not None})
    if not ids:
        return 0
    session.flush()
    present = compute_call_tags(session, ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        session.execute(delete(CallTag).where(CallTag.call_id.in_(chunk)))  # type: ignore[attr-defined]
    rows = [{"call_id": i, "tag": t} for i in ids for t in sorted(present[i])]
    if rows:
        session.execute(insert(CallTag), rows)
    return len(rows)


def _tagged_call_ids(session: Session) -> Iterator[list[int]]:
    """Ids of every call with a machine hit or a decision, ascending, in chunks."""
    hit_ids = select(Tag.call_id).distinct()
    decided = select(Decision.call_id).distinct()
    ids = sorted(set(session.scalars(hit_ids)) | set(session.scalars(decided)))
    for start in range(0, len(ids), REBUILD_CHUNK):
        yield ids[start : start + REBUILD_CHUNK]


def rebuild_call_tags(session: Session) -> int:
    """Recompute ``CallTag`` for every call (after an upgrade, or to repair it); returns how
    many rows it holds afterwards."""
    session.execute(delete(CallTag))
    total = 0
    for chunk in _tagged_call_ids(session):
        total += refresh_call_tags(session, chunk)
    return total


def stored_call_tags(session: Session) -> dict[int, set[str]]:
    """The table's content, call id -> tags (for checks and tests)."""
    out: dict[int, set[str]] = defaultdict(set)
    for call_id, tag in session.execute(select(CallTag.call_id, CallTag.tag)):
        out[call_id].add(tag)
    return dict(out)


def stale_call_tags(session: Session) -> dict[int, tuple[set[str], set[str]]]:
    """Calls whose stored tags differ from their effective tags: id -> (stored, effective).
    Empty when the table is right."""
    stored = stored_call_tags(session)
    ids = set(stored)
    for chunk in _tagged_call_ids(session):
        ids.update(chunk)
    computed = compute_call_tags(session, ids)
    return {
        i: (stored.get(i, set()), computed[i])
        for i in sorted(ids)
        if stored.get(i, set()) != computed[i]
    }
