"""Tag quality measured from reviewer decisions: each tag's precision and recall.

A reviewer decision is a ``Tag`` row with method ``human`` on a call (``present=True``
confirms the tag or adds it, ``False`` rejects it; one per call and tag, a later row wins as
in ``qa.store.reads.effective_tags``). A *machine hit* is a ``Tag`` row of any other method,
``present=True``, for the same call and tag. Per tag, over the decided calls:

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
    """``tag_quality`` over every reviewer decision in the database (one query)."""
    from sqlalchemy import exists, select
    from sqlalchemy.orm import aliased

    from qa.store.reads import HUMAN
    from qa.store.schema import Tag

    machine = aliased(Tag)
    hit = exists().where(
        machine.call_id == Tag.call_id,
        machine.tag == Tag.tag,
        machine.method != HUMAN,
        machine.present.is_(True),
    )
    stmt = (
        select(Tag.call_id, Tag.tag, Tag.present, hit.label("machine"))
        .where(Tag.method == HUMAN)
        .order_by(Tag.id)
    )
    return tag_quality((c, t, bool(p), bool(m)) for c, t, p, m in session.execute(stmt))
