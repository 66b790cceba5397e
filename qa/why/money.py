"""The why in money: what each driver costs a month in extra repeat calls and handle time.

For every driver whose *adjusted* effect on the repeat-contact rate or on handle time is
significant and harmful (95 % interval above 0; ``qa.why.stats``), per month:

* extra calls = prevalence (repeat analysis) x repeat effect x handled calls;
* extra agent-hours = prevalence (handle-time analysis) x extra seconds x handled calls / 3600;
* cost = (extra calls x the period's AHT / 3600 + extra agent-hours) x cost per agent hour.

Prevalence and effect are those of the *event* the driver marks. What the phone system
recorded (``call:`` features) is the event: its prevalence and adjusted effect as measured. A
"said" tag is a noisy measure of it, seen only where a comment or transcript says so: it is
measured on the calls with words to tag, and corrected for mis-tagging with the tag's recall
and precision (measured from reviewer decisions, else recall assumed, ``assume_recall``;
``qa.why.sensitivity``): event prevalence = tagged rate x precision / recall, effect =
adjusted effect / attenuation factor. Uncorrected, a tag that catches 70 % of the calls with
the event would price it at about two thirds of its cost (fewer calls, a diluted effect).

An extra call is priced at what it takes, its handle time at the cost of an agent hour (the
same price as a longer call's extra minutes), not at the cost per call: that KPI spreads
every paid hour, idle ones included, over the calls, which prices the capacity, not the
extra work. Without a cost per agent hour the cost per call is used (and the line says so).

A month is 30.44 days at the period's own volume. The cost of an agent hour is
``--cost-per-agent-hour``, else a period cost over the paid agent hours
(``qa.metrics.workforce``). An effect that is not significant counts as 0; a price that is
unknown leaves its part out (and the line says so). Each line states its assumptions,
because each is an estimate, not an invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from qa.why.results import DEFAULT_ASSUME_RECALL, OK, SAID, Driver, DriverAnalysis

if TYPE_CHECKING:
    from sqlmodel import Session

    from qa.why.structured import CallDriverOptions

MONTH_DAYS = 30.44


@dataclass(frozen=True)
class Prices:
    """What the money lines assume: the period's volume, handle time and prices."""

    period_days: float
    handled_calls: int
    cost_per_call: float | None
    cost_per_agent_hour: float | None
    currency: str = ""
    aht_seconds: float | None = None

    @property
    def handled_per_month(self) -> float:
        """Handled calls in a 30.44-day month at the period's rate."""
        return self.handled_calls * MONTH_DAYS / self.period_days if self.period_days else 0.0

    @property
    def cost_per_extra_call(self) -> float | None:
        """What one more call costs: the period's AHT at the cost of an agent hour; the cost
        per call when an agent hour has no price (or the AHT is unknown)."""
        if self.aht_seconds is not None and self.cost_per_agent_hour is not None:
            return self.aht_seconds / 3600 * self.cost_per_agent_hour
        return self.cost_per_call


@dataclass(frozen=True)
class MoneyLine:
    """What one driver costs a month, and the sentence that says so."""

    tag: str
    kind: str
    # The event's (see the module docstring: a "said" tag's corrected for mis-tagging).
    repeat_effect: float | None  # significant: extra repeat contacts per call with it
    repeat_prevalence: float | None
    handle_effect_seconds: float | None  # significant: extra handle seconds per call
    handle_prevalence: float | None
    extra_calls: float
    extra_agent_hours: float
    cost: float | None
    line: str

    def to_dict(self) -> dict[str, Any]:
        """The ``qa why --outcome cost --format json`` row."""
        return asdict(self)


def _harmful(driver: Driver | None) -> float | None:
    """The adjusted effect when it is significant and harmful (interval above 0)."""
    if driver is None or driver.status != OK or driver.adjusted_effect is None:
        return None
    low = driver.adjusted_ci_low
    return driver.adjusted_effect if low is not None and low > 0 else None


def event(driver: Driver, effect: float) -> tuple[float, float, str]:
    """``(prevalence, effect, how)`` of the event a driver with a significant ``effect``
    marks (module docstring); ``how`` says how a "said" tag's numbers were read."""
    tagged = driver.prevalence or 0.0
    if driver.kind != SAID:
        return tagged, effect, ""
    read = f"{tagged:.1%} tagged among the {driver.n_with + driver.n_without:,} calls with words"
    s = driver.sensitivity
    if s is None or s.factor is None or s.effect is None:
        return tagged, effect, f" ({read}; too noisy to correct for mis-tagging: a low estimate)"
    how = f" ({read}; recall {s.recall:.2f} {s.source}, precision {s.precision:.2f})"
    return tagged * s.precision / s.recall, s.effect, how


def _money(value: float, currency: str) -> str:
    return (
        f"{value:,.0f} {currency}".rstrip() if value >= 100 else f"{value:,.2f} {currency}".rstrip()
    )


def _sentence(tag: str, calls: float, hours: float, cost: float | None, why: list[str],
              prices: Prices) -> str:  # fmt: skip
    money = (
        f"about {_money(cost, prices.currency)} per month"
        if cost is not None
        else "cost unknown (no cost per call or agent hour)"
    )
    volume = f"{prices.handled_per_month:,.0f} handled calls a month"
    parts = [f"{calls:,.0f} extra calls"] if calls else []
    parts += [f"{hours:,.1f} agent-hours"] if hours else []
    return (
        f"{tag}: about {' and '.join(parts)} a month, {money} (assumes {'; '.join([*why, volume])})"
    )


def price_line(repeat: Driver | None, handle: Driver | None, prices: Prices) -> MoneyLine | None:
    """The money line of one driver from its repeat and handle-time rows (``None`` when
    neither effect is significant and harmful)."""
    sr, sa = _harmful(repeat), _harmful(handle)
    if sr is None and sa is None:
        return None
    month = prices.handled_per_month
    pr = dr = pa = da = None
    why = []
    if repeat is not None and sr is not None:
        pr, dr, how = event(repeat, sr)
        why.append(f"{pr:.1%} of calls{how} x {dr * 100:+.1f} pp repeat contacts")
        why.append(_call_price(prices))
    if handle is not None and sa is not None:
        pa, da, how = event(handle, sa)
        why.append(f"{pa:.1%} of calls{how} x {da / 60:+.1f} min handle time")
    calls = (pr or 0.0) * (dr or 0.0) * month
    hours = (pa or 0.0) * (da or 0.0) * month / 3600
    cost: float | None = None
    cur = prices.currency
    if dr is not None and prices.cost_per_extra_call is not None:
        cost = calls * prices.cost_per_extra_call
    if da is not None:
        if prices.cost_per_agent_hour is not None:
            cost = (cost or 0.0) + hours * prices.cost_per_agent_hour
            rate = _money(prices.cost_per_agent_hour, cur)
            why.append(f"an agent hour costs {rate}")
        else:
            why.append("handle time not priced (no cost per agent hour)")
    source = repeat or handle
    assert source is not None
    return MoneyLine(
        tag=source.tag,
        kind=source.kind,
        repeat_effect=dr,
        repeat_prevalence=pr,
        handle_effect_seconds=da,
        handle_prevalence=pa,
        extra_calls=calls,
        extra_agent_hours=hours,
        cost=cost,
        line=_sentence(source.tag, calls, hours, cost, why, prices),
    )


def _call_price(prices: Prices) -> str:
    """How an extra call is priced, in words."""
    price, cur = prices.cost_per_extra_call, prices.currency
    if price is None:
        return "extra calls not priced (no cost per agent hour or per call)"
    if prices.aht_seconds is None or prices.cost_per_agent_hour is None:
        return f"an extra call costs the cost per call, {_money(price, cur)} (no agent-hour price)"
    aht = prices.aht_seconds / 60
    return f"an extra call takes the AHT, {aht:.1f} min of an agent, {_money(price, cur)}"


def price_drivers(
    repeat: DriverAnalysis, handle: DriverAnalysis, prices: Prices
) -> list[MoneyLine]:
    """Money lines of every driver with a significant harmful effect, costliest first."""
    by_repeat = {d.tag: d for d in repeat.drivers}
    by_handle = {d.tag: d for d in handle.drivers}
    tags = list(dict.fromkeys([*by_repeat, *by_handle]))
    lines = [price_line(by_repeat.get(t), by_handle.get(t), prices) for t in tags]
    found = [line for line in lines if line is not None]
    return sorted(found, key=lambda m: (-(m.cost or 0.0), -m.extra_agent_hours, m.tag))


def _period(calls: Sequence[Any], since: datetime | None, until: datetime | None) -> float:
    if not calls:
        return 0.0
    first = min(c.started_at for c in calls)
    last = max(c.started_at for c in calls)
    start = since or datetime.combine(first.date(), datetime.min.time())
    end = until or datetime.combine(last.date() + timedelta(days=1), datetime.min.time())
    return (end - start).total_seconds() / 86400


def cost_of_drivers(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    window_hours: float = 48.0,
    min_n: int = 10,
    controls: Sequence[str] = ("queue", "team", "call_seconds"),
    call_drivers: CallDriverOptions | None = None,
    assume_recall: float = DEFAULT_ASSUME_RECALL,
) -> tuple[list[MoneyLine], Prices]:
    """The money lines of ``[since, until)`` and the prices they assume (``qa why
    --outcome cost``): the repeat and handle-time driver analyses, priced. ``assume_recall``:
    the recall of a "said" tag without reviewer decisions that measure it."""
    from qa.metrics.base import KpiOptions
    from qa.metrics.facts import load_facts, load_workforce
    from qa.metrics.kpis import compute_kpis, filter_calls
    from qa.metrics.workforce import hourly_cost
    from qa.why.data import load_driver_data
    from qa.why.drivers import analyse
    from qa.why.quality import load_tag_quality
    from qa.why.structured import CallDriverOptions

    history, surveys = load_facts(session)
    workforce = load_workforce(session)
    calls = filter_calls(history, since, until)
    kpis = compute_kpis(calls, surveys, KpiOptions(window_hours), history=history,
                        workforce=workforce, window=(since, until))  # fmt: skip
    days = _period(calls, since, until)
    window = None
    if calls:
        start = datetime.combine(min(c.started_at for c in calls).date(), datetime.min.time())
        window = (since or start, (since or start) + timedelta(days=days))
    prices = Prices(
        period_days=days,
        handled_calls=int(kpis["calls_handled"] or 0),
        cost_per_call=kpis["cost_per_call"],
        cost_per_agent_hour=hourly_cost(workforce, window) if window else None,
        currency=workforce.currency,
        aht_seconds=kpis["aht_seconds"],
    )
    drivers = call_drivers if call_drivers is not None else CallDriverOptions()
    readable = calls_with_text(session)
    quality = load_tag_quality(session)
    analyses = []
    for outcome in ("repeat", "aht"):
        data = load_driver_data(session, outcome=outcome, since=since, until=until,
                                window_hours=window_hours, call_drivers=drivers)  # fmt: skip
        everyone = analyse(data, controls=controls, min_n=min_n, quality=quality,
                           assume_recall=assume_recall)  # fmt: skip
        # A tag can only be on a call whose words the tagger read (a survey comment or a
        # transcript): measured over every call, its prevalence and effect are diluted by
        # the calls nobody could tag. So "said" tags are measured on the readable calls and
        # their rate assumed for all; what the phone system recorded is measured on all.
        read = data.subset(data.frame["external_id"].isin(readable))
        said = analyse(read, controls=controls, min_n=min_n, quality=quality,
                       assume_recall=assume_recall)  # fmt: skip
        kept = [d for d in everyone.drivers if d.kind != SAID]
        kept += [d for d in said.drivers if d.kind == SAID]
        analyses.append(replace(everyone, drivers=tuple(kept)))
    lines = price_drivers(analyses[0], analyses[1], prices)
    return lines, prices


def calls_with_text(session: Session) -> set[str]:
    """External ids of the calls the tagger could read: a survey comment or a transcript."""
    from sqlmodel import select

    from qa.store.schema import Call, Survey, Turn

    ids = set(session.exec(select(Survey.call_external_id).where(Survey.comment != "")))
    transcribed = select(Call.external_id).join(Turn, Turn.call_id == Call.id).distinct()
    return ids | set(session.exec(transcribed))
