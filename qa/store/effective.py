"""How machine hits and reviewers' decisions combine into the tags a call has: one
definition, used by the review UI, the KPIs, the why and training.

A decision's *scope* is the whole call (``source`` None) or one piece of evidence: the
``(source, turn_index, span_start, span_end)`` of a machine hit. Per tag and scope the
*winning* decision is the latest by a lead (``LEAD_ROLES``), else the latest; everything
else is history. A tag is present on a call when

1. a whole-call decision wins for it: that decision says so; else
2. a machine hit of it is not rejected by an evidence decision, or an evidence decision
   confirms it.

Parents and children (``transfer`` / ``transfer:<reason>``) stay consistent: a child counts
only while its parent is not rejected for the whole call by a decision newer than every
decision on the child, and a present child makes its parent present.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

LEAD_ROLES = frozenset({"lead", "admin"})
CHILD_SEPARATOR = ":"

Scope = tuple[str, int | None, int | None, int | None] | None
"""None: the whole call; else (source, turn_index, span_start, span_end) of the evidence."""


class HitLike(Protocol):
    """A machine hit (``qa.store.schema.Tag`` or a view of it)."""

    tag: str
    source: str
    turn_index: int | None
    span_start: int | None
    span_end: int | None


class DecisionLike(Protocol):
    """A reviewer decision (``qa.store.schema.Decision`` or a view of it)."""

    id: int | None
    tag: str
    present: bool
    role: str
    source: str | None
    turn_index: int | None
    span_start: int | None
    span_end: int | None
    created_at: datetime


@dataclass(frozen=True)
class Verdict:
    """Where a call stands on its tags: the present ones and the winning decisions."""

    tags: frozenset[str]
    winners: dict[tuple[str, Scope], DecisionLike]

    def decision_for(self, tag: str, scope: Scope = None) -> DecisionLike | None:
        """The winning decision on ``tag`` at ``scope`` (None: no decision there)."""
        return self.winners.get((tag, scope))


def hit_scope(hit: HitLike) -> Scope:
    """The evidence scope a machine hit defines."""
    return (hit.source, hit.turn_index, hit.span_start, hit.span_end)


def decision_scope(decision: DecisionLike) -> Scope:
    """A decision's scope: None for the whole call."""
    if decision.source is None:
        return None
    return (decision.source, decision.turn_index, decision.span_start, decision.span_end)


def parent_of(tag: str) -> str | None:
    """``transfer`` for ``transfer:technical``; None for a tag without a parent."""
    parent, sep, _ = tag.partition(CHILD_SEPARATOR)
    return parent if sep and parent else None


def _order(decision: DecisionLike) -> tuple[datetime, int]:
    return decision.created_at, decision.id or 0


def winning(decisions: Iterable[DecisionLike]) -> dict[tuple[str, Scope], DecisionLike]:
    """(tag, scope) -> the decision that counts there: the latest lead's, else the latest."""
    groups: dict[tuple[str, Scope], list[DecisionLike]] = defaultdict(list)
    for d in decisions:
        groups[(d.tag, decision_scope(d))].append(d)
    winners = {}
    for key, group in groups.items():
        leads = [d for d in group if d.role in LEAD_ROLES]
        winners[key] = max(leads or group, key=_order)
    return winners


def verdict(hits: Iterable[HitLike], decisions: Iterable[DecisionLike]) -> Verdict:
    """The tags a call has, from its machine hits and every decision on it."""
    decisions = list(decisions)
    winners = winning(decisions)
    latest: dict[str, tuple[datetime, int]] = {}
    for d in decisions:
        latest[d.tag] = max(latest.get(d.tag, _order(d)), _order(d))
    by_tag: dict[str, list[HitLike]] = defaultdict(list)
    for hit in hits:
        by_tag[hit.tag].append(hit)
    names = set(by_tag) | {tag for tag, _ in winners}
    present = set()
    for name in names:
        whole = winners.get((name, None))
        if whole is not None:
            if whole.present:
                present.add(name)
            continue
        kept = [h for h in by_tag[name] if _not_rejected(winners.get((name, hit_scope(h))))]
        confirmed = any(d.present for (t, s), d in winners.items() if t == name and s is not None)
        if kept or confirmed:
            present.add(name)
    for name in list(present):
        parent = parent_of(name)
        rejection = winners.get((parent, None)) if parent else None
        rejected = rejection is not None and not rejection.present
        if rejected and _order(rejection) >= latest.get(name, (datetime.min, 0)):  # type: ignore[arg-type]
            present.discard(name)
    present |= {p for p in map(parent_of, present) if p}
    return Verdict(frozenset(present), winners)


def _not_rejected(decision: DecisionLike | None) -> bool:
    return decision is None or decision.present
