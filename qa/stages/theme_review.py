"""Reviewers' edits of themes: name a theme, or promote it to a tag (a human tag decision on
every call with a member text in it). The nightly theme stage is ``qa.stages.themes``.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, col, select

from qa.store.schema import Cluster, Decision, ThemeMember

TAG_NAME = re.compile(r"^[a-z0-9][a-z0-9:_-]{0,63}$")


def _require_cluster(session: Session, cluster_id: int) -> Cluster:
    row = session.get(Cluster, cluster_id)
    if row is None:
        ids = sorted(c for c in session.exec(select(Cluster.id).where(Cluster.size > 0)))
        shown = ", ".join(map(str, ids[:20])) + (" ..." if len(ids) > 20 else "")
        raise LookupError(f"no theme with id {cluster_id}; current themes: {shown or 'none'}")
    return row


def rename_theme(*, session: Session, cluster_id: int, label: str) -> Cluster:
    """Give a theme a reviewer's name; re-clustering keeps it while the theme continues."""
    name = (label or "").strip()
    if not name:
        raise ValueError("theme label is empty; pass a short name such as 'billing errors'")
    if len(name) > 256:
        raise ValueError(f"theme label {name[:20]!r}... is longer than 256 characters")
    row = _require_cluster(session, cluster_id)
    row.label, row.updated_at = name, datetime.now()
    session.add(row)
    session.flush()
    return row


def promote_theme(
    *, session: Session, cluster_id: int, tag_name: str, reviewer: str = "reviewer"
) -> int:
    """Turn a theme into a tag: a human ``tag_name`` decision (present) on every call with a
    member text in the theme, that text as evidence. Calls where a reviewer already decided
    on ``tag_name`` are left alone. Returns the number of calls tagged.

    Human tags rather than taxonomy examples: they count in KPIs and drivers at once, the
    review UI shows them like any reviewer decision (and a reviewer can reject one), and the
    learned tagger trains on human decisions, so the new tag is learned from the theme.
    """
    from qa.store.writes import Evidence, record_tag_decision

    name = (tag_name or "").strip()
    if not TAG_NAME.match(name):
        raise ValueError(
            f"tag name {tag_name!r} is not valid: use 1-64 lower-case letters, digits, '-', "
            "'_' or ':', starting with a letter or digit (e.g. 'billing-error')"
        )
    row = _require_cluster(session, cluster_id)
    decided = set(session.exec(select(Decision.call_id).where(Decision.tag == name)))
    members = session.exec(
        select(ThemeMember)
        .where(ThemeMember.cluster_id == cluster_id)
        .order_by(col(ThemeMember.similarity).desc())
    )
    tagged = 0
    for member in members:
        if member.call_id in decided:
            continue
        decided.add(member.call_id)
        evidence = Evidence(member.source, member.turn_index, 0, len(member.text), member.text)
        # A bulk decision carries no lead authority, whoever promoted: a reviewer who looks
        # at one of these calls later can still reject the tag there.
        record_tag_decision(
            session=session, call_id=member.call_id, tag=name, present=True,
            reviewer=reviewer, evidence=evidence, origin="theme",
        )  # fmt: skip
        tagged += 1
    row.promoted_tag = name
    if not row.label:
        row.label = name
    row.updated_at = datetime.now()
    session.add(row)
    session.flush()
    return tagged
