"""Each call's transcript tags: the tags a call has from what was said on it, never from its
survey comment.

The survey-bias check (``qa.metrics.bias``) and the response model (``qa.metrics.response``)
compare respondents with everyone else, so they may only use what exists for both: a
comment, and so a comment tag, exists only on a call whose survey was answered. A tag counts
here when a machine hit on a transcript turn carries it and no reviewer decision on that
evidence rejected it, or a reviewer confirmed it on a transcript turn
(``qa.store.effective.verdict`` over the transcript hits and transcript-scoped decisions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel import Session

TRANSCRIPT = "transcript"


def load_transcript_tags(session: Session) -> dict[str, set[str]]:
    """Call external id -> its transcript tags (calls without any are left out)."""
    from sqlmodel import select

    from qa.store.reads import effective_tags, load_decisions, load_hits
    from qa.store.schema import Call, Decision, Tag

    ids = dict(session.exec(select(Call.id, Call.external_id)).all())
    tagged = set(session.exec(select(Tag.call_id).where(Tag.source == TRANSCRIPT).distinct()))
    tagged |= set(
        session.exec(select(Decision.call_id).where(Decision.source == TRANSCRIPT).distinct())
    )
    hits, decisions = load_hits(session, tagged), load_decisions(session, tagged)
    out = {}
    for call_id in tagged:
        said = [h for h in hits.get(call_id, ()) if h.source == TRANSCRIPT]
        judged = [d for d in decisions.get(call_id, ()) if d.source == TRANSCRIPT]
        tags = effective_tags(said, judged)
        if tags and call_id in ids:
            out[ids[call_id]] = tags
    return out
