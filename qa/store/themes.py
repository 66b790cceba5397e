"""Theme reads for the review UI's Themes tab: the live themes and one theme's member texts.

Plain functions returning frozen values, like ``qa.store.reads``; the writes (rename,
promote) are ``qa.stages.theme_review.rename_theme`` / ``promote_theme``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from qa.store.schema import Call, Cluster, ThemeMember


@dataclass(frozen=True)
class ThemeView:
    """A theme as listed: ``label`` is empty until a reviewer names it."""

    id: int
    label: str
    size: int
    keywords: tuple[str, ...]
    promoted_tag: str | None
    examples: tuple[str, ...]


@dataclass(frozen=True)
class MemberView:
    """One member text of a theme, with the external id of its call."""

    call_external_id: str
    source: str
    turn_index: int | None
    text: str
    similarity: float


@dataclass(frozen=True)
class ThemeMembers:
    """The closest member texts of a theme (at most the limit asked for) and how many it has."""

    total: int
    members: tuple[MemberView, ...]


def live_themes(*, session: Session) -> list[ThemeView]:
    """Themes that currently have members (ended themes keep a size-0 row), largest first."""
    query = (
        select(Cluster).where(Cluster.size > 0).order_by(col(Cluster.size).desc(), col(Cluster.id))
    )
    return [
        ThemeView(
            id=row.id,  # type: ignore[arg-type]
            label=row.label,
            size=row.size,
            keywords=tuple(row.keywords or ()),
            promoted_tag=row.promoted_tag,
            examples=tuple(row.examples or ()),
        )
        for row in session.exec(query)
    ]


def theme_members(*, session: Session, cluster_id: int, limit: int) -> ThemeMembers:
    """The member texts of theme ``cluster_id``, closest first, at most ``limit`` of them."""
    where = ThemeMember.cluster_id == cluster_id
    total = session.exec(select(func.count()).select_from(ThemeMember).where(where)).one()
    rows = session.exec(
        select(ThemeMember, Call.external_id)
        .join(Call, col(Call.id) == ThemeMember.call_id)
        .where(where)
        .order_by(col(ThemeMember.similarity).desc(), col(ThemeMember.id))
        .limit(limit)
    ).all()
    members = tuple(
        MemberView(external_id, m.source, m.turn_index, m.text, m.similarity)
        for m, external_id in rows
    )
    return ThemeMembers(total, members)
