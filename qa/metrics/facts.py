"""Load KPI facts (``qa.metrics.base.CallFact`` / ``SurveyFact``) from the call and survey
tables."""

from __future__ import annotations

from sqlmodel import Session, select

from qa.metrics.base import INBOUND, CallFact, SurveyFact
from qa.metrics.workforce import CostFact, Span, Workforce
from qa.store.schema import AgentState, Call, CostEntry, ScheduleBlock, Survey


def _call_fact(call: Call) -> CallFact:
    return CallFact(
        external_id=call.external_id,
        started_at=call.started_at,
        customer_id=call.customer_id or "",
        agent_id=call.agent_id or "",
        agent_name=call.agent_name or "",
        team=call.team or "",
        queue=call.queue or "",
        wait_seconds=float(call.wait_seconds or 0.0),
        talk_seconds=float(call.talk_seconds or 0.0),
        hold_seconds=float(call.hold_seconds or 0.0),
        acw_seconds=float(call.acw_seconds or 0.0),
        abandoned=bool(call.abandoned),
        transferred=bool(call.transferred),
        # Outbound calls never make a repeat contact (qa.metrics.contacts), so every loader
        # of facts must carry the direction.
        direction=(call.direction or INBOUND).lower(),
    )


def _survey_fact(survey: Survey) -> SurveyFact:
    return SurveyFact(
        call_external_id=survey.call_external_id,
        csat=survey.csat,
        nps=survey.nps,
        ces=survey.ces,
        fcr=survey.fcr,
    )


def load_facts(session: Session) -> tuple[list[CallFact], list[SurveyFact]]:
    """Every call (by start time) and every survey, including surveys whose call has not
    arrived yet (they simply join nothing in ``qa.metrics.kpis``)."""
    calls = session.exec(select(Call).order_by(Call.started_at, Call.id)).all()
    surveys = session.exec(select(Survey).order_by(Survey.id)).all()
    return [_call_fact(call) for call in calls], [_survey_fact(s) for s in surveys]


def load_workforce(session: Session) -> Workforce:
    """Every agent-state interval, schedule block and cost (``qa.metrics.workforce``)."""
    states = session.exec(select(AgentState).order_by(AgentState.agent_id, AgentState.started_at))
    blocks = session.exec(
        select(ScheduleBlock).order_by(ScheduleBlock.agent_id, ScheduleBlock.started_at)
    )
    costs = session.exec(select(CostEntry).order_by(CostEntry.id))
    return Workforce(
        states=tuple(Span(s.agent_id, s.state, s.started_at, s.ended_at) for s in states),
        schedule=tuple(Span(b.agent_id, b.activity, b.started_at, b.ended_at) for b in blocks),
        costs=tuple(
            CostFact(c.basis, c.amount, c.currency or "", c.period_start, c.period_end)
            for c in costs
        ),
    )
