"""Theme reads for the review UI's Themes tab: the live themes (with a suggested name for
each, ``classify.naming``), one theme's member texts, and how the last re-cluster chose k.

Plain functions returning frozen values, like ``qa.store.reads``; the writes (rename,
promote) are ``qa.stages.theme_review.rename_theme`` / ``promote_theme``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from classify.clustering import EIGEN_FLOOR
from classify.naming import suggest_name
from qa.store.schema import Call, Cluster, ThemeFit, ThemeMember


@dataclass(frozen=True)
class ThemeView:
    """A theme as listed: ``label`` is empty until a reviewer names it; ``suggested`` is the
    name made from its keywords and examples, and ``name`` whichever of the two to show."""

    id: int
    label: str
    size: int
    keywords: tuple[str, ...]
    promoted_tag: str | None
    examples: tuple[str, ...]
    suggested: str = ""

    @property
    def name(self) -> str:
        return self.label or self.suggested or f"theme {self.id}"


@dataclass(frozen=True)
class KChoice:
    """How the newest full re-cluster chose its number of themes (``ThemeFit``)."""

    k: int
    chosen: bool
    criterion: str
    min_k: int | None
    max_k: int | None
    texts: int
    curve: tuple[tuple[int, float], ...]
    floor: float = EIGEN_FLOOR  # the eigen-floor criterion's floor


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
            suggested=suggest_name(row.keywords or (), row.examples or (), f"theme {row.id}"),
        )
        for row in session.exec(query)
    ]


def latest_k_choice(*, session: Session) -> KChoice | None:
    """The newest re-cluster's k and its criterion curve; None before the first."""
    row = session.exec(select(ThemeFit).order_by(col(ThemeFit.id).desc()).limit(1)).first()
    if row is None:
        return None
    curve = tuple((int(k), float(v)) for k, v in row.curve or ())
    return KChoice(row.k, row.chosen, row.criterion, row.min_k, row.max_k, row.texts, curve)


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
