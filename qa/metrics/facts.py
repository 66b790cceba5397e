"""Load KPI facts (``qa.metrics.base.CallFact`` / ``SurveyFact``) from the call and survey
tables."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from qa.metrics.base import INBOUND, CallFact, SurveyFact
from qa.metrics.workforce import CostFact, Span, Workforce
from qa.store.schema import AgentState, Call, CostEntry, ScheduleBlock, Survey

_CALL_COLUMNS = (
    Call.external_id, Call.started_at, Call.customer_id, Call.agent_id, Call.agent_name,
    Call.team, Call.queue, Call.wait_seconds, Call.talk_seconds, Call.hold_seconds,
    Call.acw_seconds, Call.abandoned, Call.transferred, Call.direction,
)  # fmt: skip


def _call_fact(row: tuple) -> CallFact:  # type: ignore[type-arg]
    (external_id, started_at, customer_id, agent_id, agent_name, team, queue, wait, talk, hold,
     acw, abandoned, transferred, direction) = row  # fmt: skip
    return CallFact(
        external_id=external_id,
        started_at=started_at,
        customer_id=customer_id or "",
        agent_id=agent_id or "",
        agent_name=agent_name or "",
        team=team or "",
        queue=queue or "",
        wait_seconds=float(wait or 0.0),
        talk_seconds=float(talk or 0.0),
        hold_seconds=float(hold or 0.0),
        acw_seconds=float(acw or 0.0),
        abandoned=bool(abandoned),
        transferred=bool(transferred),
        # Outbound calls never make a repeat contact (qa.metrics.contacts), so every loader
        # of facts must carry the direction.
        direction=(direction or INBOUND).lower(),
    )


def load_facts(session: Session) -> tuple[list[CallFact], list[SurveyFact]]:
    """Every call (by start time) and every survey, including surveys whose call has not
    arrived yet (they simply join nothing in ``qa.metrics.kpis``). Plain column rows, not
    ORM objects: at a million calls building entities took most of ``qa kpis``' time."""
    calls = session.execute(select(*_CALL_COLUMNS).order_by(Call.started_at, Call.id))
    surveys = session.execute(
        select(Survey.call_external_id, Survey.csat, Survey.nps, Survey.ces, Survey.fcr).order_by(
            Survey.id
        )
    )
    return [_call_fact(tuple(row)) for row in calls], [SurveyFact(*row) for row in surveys]


def load_workforce(session: Session) -> Workforce:
    """Every agent-state interval, schedule block and cost (``qa.metrics.workforce``)."""
    states = session.scalars(
        select(AgentState).order_by(AgentState.agent_id, AgentState.started_at)
    )
    blocks = session.scalars(
        select(ScheduleBlock).order_by(ScheduleBlock.agent_id, ScheduleBlock.started_at)
    )
    costs = session.scalars(select(CostEntry).order_by(CostEntry.id))
    return Workforce(
        states=tuple(Span(s.agent_id, s.state, s.started_at, s.ended_at) for s in states),
        schedule=tuple(Span(b.agent_id, b.activity, b.started_at, b.ended_at) for b in blocks),
        costs=tuple(
            CostFact(c.basis, c.amount, c.currency or "", c.period_start, c.period_end)
            for c in costs
        ),
    )
