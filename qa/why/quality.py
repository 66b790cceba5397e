"""Tag quality measured from reviewer decisions: each tag's precision and recall.

A reviewer decision is a ``Decision`` row on a call (``present=True`` confirms the tag or
adds it, ``False`` rejects it); per call and tag, what the reviewers said is whether the call
has the tag once decisions are applied (``qa.store.effective``: a lead's over the latest). A
*machine hit* is a ``Tag`` row for the same call and tag. Per tag, over the decided calls:

* ``confirmed`` = machine hit and the reviewer said present (a true positive);
* ``rejected`` = machine hit and the reviewer said absent (a false positive);
* ``added`` = no machine hit and the reviewer said present (a miss the reviewer added);
* a decision "absent" where the machine found nothing measures neither rate.

precision = confirmed / (confirmed + rejected); recall = confirmed / (confirmed + added);
each with a Wilson 95 % interval, ``None`` when its denominator is 0.

Caveat: reviewers see the calls they choose (often the machine-tagged ones), so recall from
decisions is only as good as the reviewers' search for misses; it is the best measure in the
database, and ``qa why`` says how many decisions it rests on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from qa.why.results import TagQuality
from qa.why.stats import wilson_interval

if TYPE_CHECKING:
    from sqlmodel import Session

Decision = tuple[int | str, str, bool, bool]
"""(call, tag, reviewer said present, the machine had hit it) - one per call and tag."""


def tag_quality(decisions: Iterable[Decision]) -> dict[str, TagQuality]:
    """Tag -> ``TagQuality`` from decisions; a repeated (call, tag) keeps the last one."""
    latest: dict[tuple[int | str, str], tuple[bool, bool]] = {}
    for call, tag, present, machine in decisions:
        latest[(call, tag)] = (bool(present), bool(machine))
    counts: dict[str, list[int]] = {}  # tag -> [confirmed, rejected, added]
    for (_, tag), (present, machine) in latest.items():
        row = counts.setdefault(tag, [0, 0, 0])
        if machine:
            row[0 if present else 1] += 1
        elif present:
            row[2] += 1
    return {tag: _quality(tag, *row) for tag, row in sorted(counts.items())}


def _quality(tag: str, confirmed: int, rejected: int, added: int) -> TagQuality:
    precision = _rate(confirmed, confirmed + rejected)
    recall = _rate(confirmed, confirmed + added)
    return TagQuality(tag, confirmed, rejected, added, *precision, *recall)


def _rate(hits: int, n: int) -> tuple[float | None, float | None, float | None]:
    if n <= 0:
        return None, None, None
    low, high = wilson_interval(hits, n)
    return hits / n, low, high


def load_tag_quality(session: Session) -> dict[str, TagQuality]:
    """``tag_quality`` over every decided (call, tag) in the database: the reviewer says
    present when the call has the tag once decisions are applied (``qa.store.effective``)."""
    from sqlalchemy import select

    from qa.store.effective import verdict
    from qa.store.reads import load_decisions, load_hits
    from qa.store.schema import Decision

    ids = list(session.scalars(select(Decision.call_id).distinct()))
    hits, decisions = load_hits(session, ids), load_decisions(session, ids)
    rows = []
    for call_id in ids:
        outcome = verdict(hits.get(call_id, ()), decisions[call_id])
        machine = {h.tag for h in hits.get(call_id, ())}
        for tag in dict.fromkeys(tag for tag, _ in outcome.winners):
            rows.append((call_id, tag, tag in outcome.tags, tag in machine))
    return tag_quality(rows)
