"""The nightly report and the UI's Insights tab: gather every "why" number for one period.

``build_insights(engine, since=..., until=...)`` loads the database once and returns an
``Insights`` value (KPIs, daily trend rows, drivers, themes, triggers, survey bias, repeat
contacts); ``build_report(engine, ...)`` renders it as one self-contained HTML page
(``qa.report.html``). The Insights tab renders the same value with the same pieces.

Periods: ``[since, until)`` on call start. With ``since`` given, the previous period is the
same length just before it (KPI deltas, NPS-drop and AHT-paradox triggers). Without
``since`` the report covers all the data, and the change triggers compare the last
``compare_days`` days of data with the ``compare_days`` before them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.config import DEFAULT_UI_URL
from qa.metrics.base import (
    DEFAULT_WINDOW_HOURS,
    CallFact,
    KpiOptions,
    SurveyFact,
    validate_window,
)
from qa.metrics.bias import survey_bias
from qa.metrics.kpis import compute_kpis, compute_kpis_by, filter_calls
from qa.metrics.repeats import analyse_repeats
from qa.metrics.transcript_tags import load_transcript_tags
from qa.metrics.triggers import SCOPES, Trigger, TriggerThresholds, evaluate_triggers
from qa.report.model import DriverSection, Insights, Theme

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from qa.metrics.weighted import SurveyWeighting
    from qa.metrics.workforce import Workforce

DRIVER_OUTCOMES = ("csat", "repeat")
MAX_THEMES = 8


def _periods(
    since: datetime | None,
    until: datetime | None,
    data_end: datetime | None,
    compare_days: int,
) -> tuple[tuple[datetime | None, datetime | None], tuple[datetime, datetime] | None, str]:
    """(current change window, previous change window, label) for deltas / change triggers."""
    if data_end is None:
        return (since, until), None, ""
    end = until or datetime.combine(data_end.date() + timedelta(days=1), datetime.min.time())
    if since is not None:
        span = end - since
        return (since, until), (since - span, since), f"vs the previous {_span_words(span)}"
    start = end - timedelta(days=compare_days)
    previous = (start - timedelta(days=compare_days), start)
    return (start, end), previous, f"last {compare_days} days vs the {compare_days} before"


def _span_words(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    return f"{days:g} days" if days != 1 else "day"


def load_themes(session: Session, limit: int = MAX_THEMES) -> tuple[Theme, ...]:
    """The largest themes in the ``cluster`` table (empty until clustering has run)."""
    from sqlmodel import col, select

    from classify.naming import suggest_name
    from qa.store.schema import Cluster

    live = select(Cluster).where(Cluster.size > 0)  # ended themes keep their row at size 0
    rows = session.exec(live.order_by(col(Cluster.size).desc()).limit(limit))
    return tuple(
        Theme(
            r.label or suggest_name(r.keywords or (), r.examples or (), f"theme {r.id}"),
            tuple(r.keywords or ()),
            r.size,
        )
        for r in rows
    )


def call_db_ids(session: Session) -> dict[str, int]:
    """Call external id -> database id (the review UI opens calls by either)."""
    from sqlmodel import select

    from qa.store.schema import Call

    return {eid: cid for eid, cid in session.exec(select(Call.external_id, Call.id))}


def resolve_call_ref(session: Session, ref: str | int | None) -> int | None:
    """The database id of a call given its external id or its database id (in that order)."""
    from sqlmodel import select

    from qa.store.schema import Call

    text = str(ref or "").strip()
    if not text:
        return None
    found = session.exec(select(Call.id).where(Call.external_id == text)).first()
    if found is None and text.isdigit() and session.get(Call, int(text)) is not None:
        found = int(text)
    return found


def _drivers(
    session: Session,
    outcomes: Sequence[str],
    period: tuple[datetime | None, datetime | None],
    window_hours: float,
    repeat_flags: Mapping[str, bool | None],
) -> tuple[DriverSection, ...]:
    from qa.why.drivers import why

    sections = []
    for outcome in outcomes:
        # The repeat outcome reuses the repeat section's flags: the same contacts as the KPI
        # tiles (qa.metrics.contacts), without linking the whole history a second time.
        flags = repeat_flags if outcome == "repeat" else None
        try:
            analysis = why(
                session,
                outcome=outcome,
                since=period[0],
                until=period[1],
                window_hours=window_hours,
                repeat_flags=flags,
            )
        except Exception as exc:  # a failed fit must not cost the whole nightly report
            sections.append(DriverSection(outcome, None, f"{type(exc).__name__}: {exc}"))
        else:
            sections.append(DriverSection(outcome, analysis))
    return tuple(sections)


_LEVEL_METRICS = frozenset(
    {"csat_mean", "fcr_rate", "fcr_survey_rate", "abandonment_rate", "occupancy",
     "schedule_adherence"}
)  # fmt: skip


def _triggers(
    calls: Sequence[CallFact],
    current: Sequence[CallFact],
    before: Sequence[CallFact],
    surveys: Sequence[SurveyFact],
    history: Sequence[CallFact],
    tags: Mapping[str, set[str]],
    thresholds: TriggerThresholds,
    options: KpiOptions,
    workforce: Workforce,
) -> list[Trigger]:
    """Level triggers on the whole period; change triggers on the comparison windows."""
    fired = evaluate_triggers(calls, surveys, history=history, tags=tags, thresholds=thresholds,
                              options=options, workforce=workforce)  # fmt: skip
    if before:
        changes = evaluate_triggers(current, surveys, previous=before, history=history, tags=tags,
                                    thresholds=thresholds, options=options,
                                    workforce=workforce)  # fmt: skip
        fired += [t for t in changes if t.metric not in _LEVEL_METRICS]
    order = {scope: i for i, scope in enumerate(SCOPES)}
    return sorted(fired, key=lambda t: (order[t.scope], t.group))


def _weighting(
    calls: Sequence[CallFact],
    surveys: Sequence[SurveyFact],
    said: Mapping[str, set[str]],
    kpis: Mapping[str, Any],
) -> SurveyWeighting | None:
    """Survey KPIs weighted for who answers (``qa.metrics.weighted``); None when the fit
    fails, which must not cost the whole report."""
    from qa.metrics.weighted import weigh_survey_kpis

    try:
        return weigh_survey_kpis(calls, surveys, said, kpis)
    except (ValueError, ArithmeticError):
        return None


def build_insights(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    window_hours: float = DEFAULT_WINDOW_HOURS,
    thresholds: TriggerThresholds = TriggerThresholds(),
    outcomes: Sequence[str] = DRIVER_OUTCOMES,
    compare_days: int = 7,
) -> Insights:
    """Load the database once and compute every section for ``[since, until)``."""
    from sqlmodel import Session

    from qa.metrics.facts import load_facts, load_workforce
    from qa.why.data import load_call_tags

    window_hours = validate_window(window_hours)
    if since is not None and until is not None and until <= since:
        raise ValueError(
            f"--until {until:%Y-%m-%d %H:%M} must be after --since {since:%Y-%m-%d %H:%M}"
        )
    options = KpiOptions(window_hours=window_hours)
    with Session(engine) as session:
        history, surveys = load_facts(session)
        workforce = load_workforce(session)
        tags = load_call_tags(session)
        said = load_transcript_tags(session)  # what both survey groups have (never comments)
        # The facts carry each call's direction, so the repeat section links contacts exactly
        # as compute_kpis does: its rates are the KPI tiles' (no override needed).
        repeats = analyse_repeats(
            history, tags, window_hours=window_hours, since=since, until=until, min_n=3
        )
        drivers = _drivers(session, outcomes, (since, until), window_hours, repeats.flags)
        themes, ids = load_themes(session), call_db_ids(session)
    calls = filter_calls(history, since, until)
    data_end = history[-1].started_at if history else None
    (c_since, c_until), previous, comparison = _periods(since, until, data_end, compare_days)
    current = filter_calls(history, c_since, c_until)
    before = filter_calls(history, *previous) if previous else []
    kpis = compute_kpis(
        calls, surveys, options, history=history, workforce=workforce, window=(since, until)
    )
    weighting = _weighting(calls, surveys, said, kpis)
    previous_kpis = None
    if since is not None and before and previous:
        previous_kpis = compute_kpis(
            before, surveys, options, history=history, workforce=workforce, window=previous
        )
    return Insights(
        since=since,
        until=until,
        data_start=history[0].started_at if history else None,
        data_end=data_end,
        kpis={**kpis, **(weighting.kpis if weighting else {})},
        previous_kpis=previous_kpis,
        comparison=comparison if before else "",
        daily=tuple(
            compute_kpis_by(
                calls,
                surveys,
                "day",
                options,
                history=history,
                workforce=workforce,
                window=(since, until),
            )
        ),
        drivers=drivers,
        themes=themes,
        triggers=tuple(
            _triggers(
                calls, current, before, surveys, history, tags, thresholds, options, workforce
            )
        ),
        bias=survey_bias(calls, surveys, said),
        repeats=repeats,
        call_ids=ids,
        weighting=weighting,
    )


def build_report(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    ui_url: str = DEFAULT_UI_URL,
    window_hours: float = DEFAULT_WINDOW_HOURS,
    thresholds: TriggerThresholds = TriggerThresholds(),
    title: str = "callqa report",
) -> str:
    """The self-contained HTML report (inline CSS and PNG charts; links only to ``ui_url``)."""
    from qa.report.html import render_report

    insights = build_insights(
        engine, since=since, until=until, window_hours=window_hours, thresholds=thresholds
    )
    return render_report(insights, ui_url=ui_url, title=title)


def write_report(engine: Engine, path: str | Path, **options: Any) -> Insights:
    """Build the report and write it to ``path`` (parent folders created); returns what it
    showed. ``options``: those of ``build_insights`` plus ``ui_url`` and ``title``."""
    from qa.report.html import render_report

    render = {k: options.pop(k) for k in ("ui_url", "title") if k in options}
    render.setdefault("ui_url", DEFAULT_UI_URL)
    insights = build_insights(engine, **options)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(insights, **render), encoding="utf-8")
    return insights
