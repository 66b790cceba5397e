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
* ``repeat_contact_rate`` — repeated / observable, over handled calls, where:

  - a handled call is *repeated* when the same customer has any later call row
    (abandoned or not, any direction) with ``start < later.start <= start + W``;
  - a call is *observable* when ``start + W <=`` the latest call start in the whole
    data, i.e. its repeat window has fully elapsed, so "not repeated" is known.

* ``fcr_rate`` (first-contact resolution, behavioural) — among observable *first
  contacts*, the share not repeated. A first contact is a handled call with no earlier
  call row of the same customer with ``start - W <= earlier.start < start``. (So a call
  B is a repeat of A exactly when A stops B being a first contact.)
* ``fcr_survey_rate`` — surveys answering FCR "yes" / surveys answering FCR at all.
* ``csat_pct`` — CSAT answers of 4 or 5 / CSAT answers.
* ``csat_mean`` — mean CSAT answer.
* ``nps`` — 100 x (promoters 9-10 - detractors 0-6) / NPS answers; ranges -100..100.
* ``ces_mean`` — mean CES answer.

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
  counts, and "latest call start" is that of the whole history.
* Two calls link only when they carry the same non-blank ``customer_id``. A call with a
  blank customer id can be neither repeated nor a first contact, so it is left out of
  both ``repeat_contact_rate`` and ``fcr_rate`` (whether it was repeated is unknowable).
  Calls of one customer starting at the same instant do not link either.
* Day and ISO-week groups use ``started_at`` as stored (the export's clock).
"""

from __future__ import annotations

import io
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

from qa.safecsv import SafeDictWriter

KPI_KEYS: tuple[str, ...] = (
    "calls_offered",
    "calls_handled",
    "aht_seconds",
    "asa_seconds",
    "service_level",
    "abandonment_rate",
    "transfer_rate",
    "repeat_contact_rate",
    "fcr_rate",
    "fcr_survey_rate",
    "csat_pct",
    "csat_mean",
    "nps",
    "ces_mean",
)
"""The keys of ``compute_kpis``' result, in order."""

RATE_KEYS: frozenset[str] = frozenset(
    {
        "service_level",
        "abandonment_rate",
        "transfer_rate",
        "repeat_contact_rate",
        "fcr_rate",
        "fcr_survey_rate",
        "csat_pct",
    }
)
"""KPIs that are fractions 0-1 (shown as percentages)."""

Kpis = dict[str, float | int | None]


@dataclass(frozen=True)
class CallFact:
    """One call row, as the KPIs see it."""

    external_id: str
    started_at: datetime
    customer_id: str
    agent_id: str
    agent_name: str
    team: str
    queue: str
    wait_seconds: float
    talk_seconds: float
    hold_seconds: float
    acw_seconds: float
    abandoned: bool
    transferred: bool


@dataclass(frozen=True)
class SurveyFact:
    """One survey answer; each score is ``None`` when the customer skipped it."""

    call_external_id: str
    csat: int | None
    nps: int | None
    ces: int | None
    fcr: bool | None


@dataclass(frozen=True)
class KpiOptions:
    """Tunable KPI parameters: repeat window ``W`` and service-level threshold ``T``."""

    window_hours: float = 48.0
    service_level_seconds: float = 20.0


@dataclass(frozen=True)
class ContactFlags:
    """Repeat-contact flags of one call, computed against the whole history."""

    repeated: bool
    """Handled, and the same customer calls again within W after it."""
    first_contact: bool
    """Handled, and the same customer did not call within W before it."""
    observable: bool
    """Linkable (non-blank customer) and its W-window ends by the last call in the data."""


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


# The eight possible flag values, built once (creating a frozen dataclass per call is slow).
_FLAGS = {
    (r, f, o): ContactFlags(r, f, o)
    for r in (False, True)
    for f in (False, True)
    for o in (False, True)
}


def contact_flags(
    history: Iterable[CallFact], window_hours: float = KpiOptions.window_hours
) -> dict[str, ContactFlags]:
    """Repeat / first-contact / observable flags of every call in ``history``, by external id."""
    history = list(history)
    window = timedelta(hours=window_hours)
    if not history:
        return {}
    data_end = max(call.started_at for call in history)

    starts_by_customer: dict[str, list[datetime]] = defaultdict(list)
    for call in history:
        if call.customer_id.strip():
            starts_by_customer[call.customer_id].append(call.started_at)
    for starts in starts_by_customer.values():
        starts.sort()

    flags: dict[str, ContactFlags] = {}
    for call in history:
        starts = starts_by_customer.get(call.customer_id)  # None: blank, unlinkable
        if starts is None:
            flags[call.external_id] = _FLAGS[False, False, False]
            continue
        start = call.started_at
        handled = not call.abandoned
        # Next strictly-later start of this customer, and the earliest start at/after start - W.
        after = bisect_right(starts, start)
        repeated = after < len(starts) and starts[after] <= start + window
        before = bisect_left(starts, start - window)
        earlier = before < len(starts) and starts[before] < start
        flags[call.external_id] = _FLAGS[
            handled and repeated, handled and not earlier, start + window <= data_end
        ]
    return flags


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

    observable = [flags[call.external_id] for call in handled if flags[call.external_id].observable]
    first = [flag for flag in observable if flag.first_contact]

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
        "repeat_contact_rate": _ratio(sum(1 for f in observable if f.repeated), len(observable)),
        "fcr_rate": _ratio(sum(1 for f in first if not f.repeated), len(first)),
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
    flags = contact_flags(pool.values(), options.window_hours)
    surveys_by_call: dict[str, list[SurveyFact]] = defaultdict(list)
    for survey in surveys:
        surveys_by_call[survey.call_external_id].append(survey)
    return calls, surveys_by_call, flags


def compute_kpis(
    calls: Iterable[CallFact],
    surveys: Iterable[SurveyFact],
    options: KpiOptions = KpiOptions(),
    history: Iterable[CallFact] | None = None,
) -> Kpis:
    """The KPIs (``KPI_KEYS``) of ``calls``; repeat flags are computed over ``history``.

    ``history`` defaults to ``calls``. Pass every call (unfiltered) when ``calls`` is a
    date range, so repeats and the data end outside the range still count.
    """
    calls, surveys_by_call, flags = _prepare(calls, surveys, options, history)
    return _compute(calls, surveys_by_call, flags, options)


def compute_kpis_by(
    calls: Iterable[CallFact],
    surveys: Iterable[SurveyFact],
    by: str,
    options: KpiOptions = KpiOptions(),
    history: Iterable[CallFact] | None = None,
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
    return [
        {"group": group, **extras(members), **_compute(members, surveys_by_call, flags, options)}
        for group, members in sorted(groups.items())
    ]


# --- display -----------------------------------------------------------------------------

MISSING = "\u2013"  # en dash


def _format_value(key: str, value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, int | str):
        return str(value)
    if key in RATE_KEYS:
        return f"{value * 100:.1f}%"
    if key.endswith("_mean"):
        return f"{value:.2f}"
    return f"{value:.1f}"


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A fixed-width text table: rates as percentages (``73.3%``), ``None`` as an en dash.

    Text columns are left-aligned, numeric ones right-aligned; one row per dict, columns
    in first-seen key order.
    """
    if not rows:
        return "(no rows)"
    columns = _columns(rows)
    cells = [[_format_value(col, row.get(col)) for col in columns] for row in rows]
    numeric = [
        all(row.get(col) is None or not isinstance(row.get(col), str) for row in rows)
        for col in columns
    ]
    widths = [max(len(col), *(len(line[i]) for line in cells)) for i, col in enumerate(columns)]

    def render(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if is_num else value.ljust(width)
            for value, width, is_num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    lines = [render(columns), "  ".join("-" * width for width in widths)]
    lines.extend(render(line) for line in cells)
    return "\n".join(lines)


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV with a header row; values unrounded, ``None`` as an empty cell, formula-like text
    escaped (:mod:`qa.safecsv`)."""
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = SafeDictWriter(buffer, _columns(rows), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: ("" if value is None else value) for key, value in row.items()})
    return buffer.getvalue()
