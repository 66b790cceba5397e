"""Contact-center KPIs: pure computation over call and survey facts (no database, no I/O).

Definitions
-----------
Every KPI below is computed over a *set of calls* (all calls, a ``--since``/``--until``
range, or one group of ``compute_kpis_by``). ``T`` is the service-level threshold
(``KpiOptions.service_level_seconds``, default 20 s) and ``W`` the repeat window
(``KpiOptions.window_hours``, default 48 h).

* ``calls_offered`` — every call row in the set (abandoned or not).
* ``calls_handled`` — offered minus abandoned.
* ``aht_seconds`` (average handle time) — mean of talk + hold + after-call work over
  handled calls.
* ``asa_seconds`` (average speed of answer) — mean wait over handled calls.
* ``service_level`` — handled calls with wait ≤ T, divided by offered calls (abandoned
  calls count against it however quickly they were abandoned).
* ``abandonment_rate`` — abandoned / offered.
* ``transfer_rate`` — handled calls flagged transferred / handled.
* ``repeat_contact_rate`` — repeated / observable, over handled *contacts*; and
* ``fcr_rate`` (first-contact resolution, behavioural) — among observable *first
  contacts*, the share not repeated. Contacts, repeats, first contacts and observability
  are defined once, in ``qa.metrics.contacts`` (transfer legs merged into one contact,
  outbound calls not linked, so a kept callback is no repeat), for every command.
* ``fcr_survey_rate`` — surveys answering FCR "yes" / surveys answering FCR at all.
* ``csat_pct`` — CSAT answers of 4 or 5 / CSAT answers.
* ``csat_mean`` — mean CSAT answer.
* ``nps`` — 100 x (promoters 9-10 - detractors 0-6) / NPS answers; ranges -100..100.
* ``ces_mean`` — mean CES answer.
* ``occupancy``, ``utilization``, ``schedule_adherence``, ``cost``, ``cost_per_call`` —
  from the agent states, schedule and costs (``qa.metrics.workforce``, where they are
  defined); ``None`` when no ``Workforce`` is passed or it lacks what they need.

Rules shared by all of them:

* Rates are fractions 0-1 (``nps`` is the exception, -100..100). Nothing is rounded
  here; rounding is for display only (``format_table``).
* A KPI with nothing to measure (no calls, no handled calls, no answered score, zero
  denominator) is ``None`` — never 0. Only ``calls_offered``/``calls_handled`` are 0.
* Means and shares of survey scores are over *answered* scores only: a survey with a
  blank NPS still counts for its CSAT.
* Surveys join to calls by ``call_external_id``; only surveys whose call is in the set
  count, abandoned calls' included (a survey whose call has not arrived joins nothing).
* The repeat, first-contact and observable flags are computed over the whole *history*
  (by default the calls passed in; the CLI should pass every call in the database). A repeat
  that falls outside a ``--since``/``--until`` range, or into another group, still
  counts, and "latest call start" is that of the whole history. A contact counts in the
  range and group of its first leg.
* Calls with a blank ``customer_id`` and outbound calls are left out of both
  ``repeat_contact_rate`` and ``fcr_rate`` (whether they were repeated is unknowable, or
  not the customer's doing).
* Day and ISO-week groups use ``started_at`` as stored (the export's clock).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

from qa.metrics.base import WORKFORCE_KEYS, CallFact, KpiOptions, Kpis, SurveyFact
from qa.metrics.contacts import ContactFlags, contact_flags, count_contacts
from qa.metrics.workforce import (
    Totals,
    Window,
    Workforce,
    agent_totals,
    agent_weights,
    combine,
    default_window,
    period_cost,
    workforce_kpis,
)

# Re-exported: callers outside qa.metrics (qa.commands, qa.stages, qa.why, qa.demo) import the
# KPI types and the display helpers from here; their homes are qa.metrics.base and
# qa.metrics.display.
__all__ = ["GROUPINGS", "GROUP_EXTRAS", "compute_kpis", "compute_kpis_by", "filter_calls"]


def _iso_week(call: CallFact) -> str:
    year, week, _ = call.started_at.isocalendar()
    return f"{year}-W{week:02d}"


GROUPINGS: dict[str, Callable[[CallFact], str]] = {
    "agent": lambda call: call.agent_id,
    "team": lambda call: call.team,
    "queue": lambda call: call.queue,
    "day": lambda call: call.started_at.date().isoformat(),
    "week": _iso_week,
}
"""``compute_kpis_by`` groupings: name -> the group key of a call."""


def _agent_name(calls: Sequence[CallFact]) -> dict[str, Any]:
    # An agent renamed mid-period shows the name on their latest call that has one.
    named = [call for call in calls if call.agent_name]
    latest = max(named, key=lambda call: call.started_at, default=None)
    return {"agent_name": latest.agent_name if latest else ""}


GROUP_EXTRAS: dict[str, Callable[[Sequence[CallFact]], dict[str, Any]]] = {
    "agent": _agent_name,
}
"""Extra descriptive columns a grouping adds after ``group`` (e.g. the agent's name)."""


def filter_calls(
    calls: Iterable[CallFact], since: datetime | None = None, until: datetime | None = None
) -> list[CallFact]:
    """Calls with ``since <= started_at < until`` (either bound may be ``None``: open)."""
    return [
        call
        for call in calls
        if (since is None or call.started_at >= since)
        and (until is None or call.started_at < until)
    ]


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _mean(values: Sequence[float]) -> float | None:
    return fmean(values) if values else None


def _compute(
    calls: Sequence[CallFact],
    surveys_by_call: Mapping[str, Sequence[SurveyFact]],
    flags: Mapping[str, ContactFlags],
    options: KpiOptions,
) -> Kpis:
    handled = [call for call in calls if not call.abandoned]
    offered_n = len(calls)
    handled_n = len(handled)

    # Each contact counts once, on its first leg's row (qa.metrics.contacts).
    contacts = count_contacts(flags[call.external_id] for call in calls)

    surveys = [s for call in calls for s in surveys_by_call.get(call.external_id, ())]
    csat = [s.csat for s in surveys if s.csat is not None]
    nps = [s.nps for s in surveys if s.nps is not None]
    ces = [s.ces for s in surveys if s.ces is not None]
    fcr = [s.fcr for s in surveys if s.fcr is not None]
    promoters = sum(1 for score in nps if score >= 9)
    detractors = sum(1 for score in nps if score <= 6)

    return {
        "calls_offered": offered_n,
        "calls_handled": handled_n,
        "aht_seconds": _mean([c.talk_seconds + c.hold_seconds + c.acw_seconds for c in handled]),
        "asa_seconds": _mean([c.wait_seconds for c in handled]),
        "service_level": _ratio(
            sum(1 for c in handled if c.wait_seconds <= options.service_level_seconds),
            offered_n,
        ),
        "abandonment_rate": _ratio(offered_n - handled_n, offered_n),
        "transfer_rate": _ratio(sum(1 for c in handled if c.transferred), handled_n),
        "repeat_contact_rate": contacts.repeat_rate,
        "fcr_rate": contacts.fcr_rate,
        "fcr_survey_rate": _ratio(sum(1 for answer in fcr if answer), len(fcr)),
        "csat_pct": _ratio(sum(1 for score in csat if score >= 4), len(csat)),
        "csat_mean": _mean(csat),
        "nps": _ratio(100 * (promoters - detractors), len(nps)),
        "ces_mean": _mean(ces),
    }


def _prepare(
    calls: Iterable[CallFact],
    surveys: Iterable[SurveyFact],
    options: KpiOptions,
    history: Iterable[CallFact] | None,
) -> tuple[list[CallFact], dict[str, list[SurveyFact]], dict[str, ContactFlags]]:
    calls = list(calls)
    pool = {call.external_id: call for call in (calls if history is None else history)}
    # A call missing from an explicit history still gets flags (against history + itself).
    for call in calls:
        pool.setdefault(call.external_id, call)
    flags = contact_flags(
        pool.values(),
        options.window_hours,
        merge_transfer_legs=options.merge_transfer_legs,
        outbound_repeats=options.outbound_repeats,
    )
    surveys_by_call: dict[str, list[SurveyFact]] = defaultdict(list)
    for survey in surveys:
        surveys_by_call[survey.call_external_id].append(survey)
    return calls, surveys_by_call, flags


def compute_kpis(
    calls: Iterable[CallFact],
    surveys: Iterable[SurveyFact],
    options: KpiOptions = KpiOptions(),
    history: Iterable[CallFact] | None = None,
    workforce: Workforce | None = None,
    window: tuple[datetime | None, datetime | None] | None = None,
) -> Kpis:
    """The KPIs (``KPI_KEYS``) of ``calls``; repeat flags are computed over ``history``.

    ``history`` defaults to ``calls``. Pass every call (unfiltered) when ``calls`` is a
    date range, so repeats and the data end outside the range still count. ``workforce``
    feeds the workforce KPIs over ``window`` (``--since/--until``; an open end is taken
    from the calls' whole days).
    """
    calls, surveys_by_call, flags = _prepare(calls, surveys, options, history)
    kpis = _compute(calls, surveys_by_call, flags, options)
    return {**kpis, **_Staffing(calls, workforce, window).kpis(calls)}


def compute_kpis_by(
    calls: Iterable[CallFact],
    surveys: Iterable[SurveyFact],
    by: str,
    options: KpiOptions = KpiOptions(),
    history: Iterable[CallFact] | None = None,
    workforce: Workforce | None = None,
    window: tuple[datetime | None, datetime | None] | None = None,
) -> list[dict[str, Any]]:
    """KPIs per group of ``calls`` (one of ``GROUPINGS``), sorted by group.

    Each row is ``{"group": key, **extras, **kpis}``; ``by="agent"`` adds
    ``agent_name``. Repeat flags are computed once over ``history`` (default ``calls``),
    so a repeat handled by another agent, team or day still counts.
    """
    key = GROUPINGS.get(by)
    if key is None:
        raise ValueError(f"unknown grouping {by!r}; choose one of: {', '.join(GROUPINGS)}")
    calls, surveys_by_call, flags = _prepare(calls, surveys, options, history)
    groups: dict[str, list[CallFact]] = defaultdict(list)
    for call in calls:
        groups[key(call)].append(call)
    extras = GROUP_EXTRAS.get(by, lambda _calls: {})
    staffing = _Staffing(calls, workforce, window)
    return [
        {
            "group": group,
            **extras(members),
            **_compute(members, surveys_by_call, flags, options),
            **staffing.kpis(members, by, group),
        }
        for group, members in sorted(groups.items())
    ]


def _bucket(by: str, key: str) -> Window | None:
    """The window of a day (``2026-11-02``) or ISO week (``2026-W45``) group."""
    if by == "day":
        start = datetime.fromisoformat(key)
        return start, start + timedelta(days=1)
    if by == "week":
        year, week = key.split("-W")
        start = datetime.fromisocalendar(int(year), int(week), 1)
        return start, start + timedelta(days=7)
    return None


class _Staffing:
    """The workforce KPIs of a set of calls and of its groups (``qa.metrics.workforce``);
    agent totals are computed once per window."""

    def __init__(
        self,
        calls: Sequence[CallFact],
        workforce: Workforce | None,
        window: tuple[datetime | None, datetime | None] | None,
    ) -> None:
        self.calls, self.workforce = calls, workforce
        lo, hi = window or (None, None)
        span = default_window(calls)
        self.window: Window | None = None
        if span is not None:
            self.window = (lo or span[0], hi or span[1])
        self._totals: dict[Window, dict[str, Totals]] = {}

    def _agent_totals(self, window: Window) -> dict[str, Totals]:
        assert self.workforce is not None
        if window not in self._totals:
            self._totals[window] = agent_totals(self.workforce, window)
        return self._totals[window]

    def kpis(self, members: Sequence[CallFact], by: str = "", key: str = "") -> Kpis:
        """The five workforce KPIs of ``members`` (group ``key`` of ``by``; '' for all)."""
        workforce, window = self.workforce, self.window
        if workforce is None or window is None:
            return dict.fromkeys(WORKFORCE_KEYS)
        bucket = _bucket(by, key)
        if bucket is not None:
            window = (max(window[0], bucket[0]), min(window[1], bucket[1]))
        totals = self._agent_totals(window)
        everyone = combine(totals, None)
        weights = agent_weights(by, self.calls, key) if by and bucket is None else None
        group = combine(totals, weights)
        handled = sum(1 for c in members if not c.abandoned)
        share: float | None = 1.0
        if weights is not None:
            if workforce.states:  # a group never seen in the states costs unknown, not 0
                share = group.paid / everyone.paid if everyone.paid and group.paid else None
            else:
                all_handled = sum(1 for c in self.calls if not c.abandoned)
                share = handled / all_handled if all_handled else None
        return workforce_kpis(
            group,
            handled=handled,
            window_cost=period_cost(workforce, window),
            cost_share=share,
            rate=workforce.rate,
            has_states=bool(workforce.states),
            has_schedule=bool(workforce.schedule),
        )
