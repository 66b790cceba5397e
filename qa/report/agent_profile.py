"""An agent's profile for coaching: tag rates against the team, scores over time, best and
worst calls.

- **Tag rates**: the share of the agent's calls with each effective tag (``CallTag``, the
  call list's pre-computed effective tags), with a 95 % Wilson interval, beside the same rate
  over the rest of the agent's team (the team without the agent, so the comparison is not
  with itself). ``differs`` marks a tag whose two intervals do not overlap: a conservative
  "this agent really is different" that a coach can act on.
- **Scores**: ``qa.review.reviews.score_trend`` for this agent (mean 0-100 scorecard score
  per ISO week of the call).
- **Best and worst calls**: the call list (``qa.store.calllist``) sorted by CSAT (a call is
  in one of the two lists only), so each row can be added to a coaching pack in one click.

Everything is counted in SQL; ``since`` / ``until`` narrow the calls as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from qa.review.reviews import ScoreTrend, score_trend
from qa.store.callfilter import CallFilter
from qa.store.calllist import CallListRow, list_calls_page
from qa.store.reads import CallNotFound
from qa.store.schema import Call, CallTag
from qa.why.stats import wilson_interval

BEST_WORST = 5


@dataclass(frozen=True)
class TagRate:
    """One tag's rate on the agent's calls and on the rest of the team's, with intervals."""

    tag: str
    agent_calls: int
    agent_rate: float
    agent_ci: tuple[float, float]
    team_calls: int
    team_rate: float | None
    team_ci: tuple[float, float] | None

    @property
    def differs(self) -> bool:
        """The two 95 % intervals do not overlap."""
        if self.team_ci is None:
            return False
        return self.agent_ci[0] > self.team_ci[1] or self.agent_ci[1] < self.team_ci[0]


@dataclass(frozen=True)
class AgentProfile:
    """What a coach looks at before sitting down with one agent."""

    agent_id: str
    agent_name: str
    team: str
    calls: int
    team_calls: int
    tag_rates: tuple[TagRate, ...]
    scores: tuple[ScoreTrend, ...]
    worst: tuple[CallListRow, ...]
    best: tuple[CallListRow, ...]


def _period(stmt: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        stmt = stmt.where(Call.started_at >= since)
    if until is not None:
        stmt = stmt.where(Call.started_at < until)
    return stmt


def _tag_counts(session: Session, where: list[Any], period: tuple[Any, Any]) -> dict[str, int]:
    stmt = select(CallTag.tag, func.count()).join(Call, Call.id == CallTag.call_id).where(*where)
    return dict(session.execute(_period(stmt, *period).group_by(CallTag.tag)).all())  # type: ignore[arg-type]


def _count(session: Session, where: list[Any], period: tuple[Any, Any]) -> int:
    stmt = _period(select(func.count(Call.id)).where(*where), *period)
    return int(session.scalar(stmt) or 0)


def agent_profile(
    *, session: Session, agent: str, since: datetime | None = None, until: datetime | None = None
) -> AgentProfile:
    """The profile of ``agent`` (an agent id or name); ``CallNotFound`` lists close names."""
    row = session.execute(
        select(Call.agent_id, func.max(Call.agent_name), func.max(Call.team))
        .where((Call.agent_id == agent) | (Call.agent_name == agent))
        .group_by(Call.agent_id)
    ).first()
    if row is None:
        import difflib

        known = session.scalars(select(Call.agent_name).distinct()).all()
        close = difflib.get_close_matches(agent, [k for k in known if k], n=3, cutoff=0.5)
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        raise CallNotFound(f"no agent {agent!r} has calls{hint}")
    agent_id, name, team = row
    period = (since, until)
    mine = [Call.agent_id == agent_id]
    rest = [Call.team == team, Call.agent_id != agent_id]
    n_mine, n_rest = _count(session, mine, period), _count(session, rest, period)
    tags_mine, tags_rest = _tag_counts(session, mine, period), _tag_counts(session, rest, period)
    rates = []
    for tag in sorted(set(tags_mine) | set(tags_rest)):
        k, j = tags_mine.get(tag, 0), tags_rest.get(tag, 0)
        if not n_mine:
            continue
        team_rate = j / n_rest if n_rest else None
        team_ci = wilson_interval(j, n_rest) if n_rest else None
        rates.append(TagRate(tag, k, k / n_mine, wilson_interval(k, n_mine), j, team_rate, team_ci))
    rates.sort(key=lambda r: (not r.differs, -(r.agent_rate - (r.team_rate or 0.0)), r.tag))
    trend = tuple(score_trend(session=session, by="agent", agent_id=agent_id, since=since,
                              until=until))  # fmt: skip
    base = CallFilter(agent=agent_id, since=since, until=until, page_size=BEST_WORST)
    worst = list_calls_page(session=session, flt=base.with_(sort="csat", desc=False, csat_max=5))
    best = list_calls_page(session=session, flt=base.with_(sort="csat", desc=True, csat_min=1))
    shown = {r.id for r in worst.rows}  # a call is in one list only (few surveyed calls)
    return AgentProfile(
        agent_id, name or "", team or "", n_mine, n_rest, tuple(rates), trend,
        worst.rows, tuple(r for r in best.rows if r.id not in shown),
    )  # fmt: skip
