"""Repeat contacts for the report and the UI: period summary, repeat flags for driver
analysis, which first-call tags predict a repeat, and callback promises.

The contacts and their links come from ``qa.metrics.contacts.link_contacts``, the one
definition of a repeat contact and a first contact that ``qa kpis`` uses too, so the rates
here are ``compute_kpis``' ``repeat_contact_rate`` and ``fcr_rate`` for the same period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from qa.metrics.base import DEFAULT_WINDOW_HOURS, CallFact, validate_window
from qa.metrics.callbacks import CallbackPromise, callback_promises
from qa.metrics.contacts import ContactLink, count_contacts, link_contacts


@dataclass(frozen=True)
class RepeatSummary:
    """Repeat-contact counts over the contacts of a period (handled, linkable)."""

    window_hours: float
    data_end: datetime | None
    contacts: int
    observable: int
    not_observable: int
    repeated: int
    repeat_rate: float | None  # repeated / observable
    first_contacts: int  # observable first contacts: the FCR denominator
    fcr_rate: float | None  # observable first contacts not repeated / first_contacts
    repeat_contacts: int  # contacts in the period that repeat an earlier one


@dataclass(frozen=True)
class TagRepeatRow:
    """Does a tag on a first contact predict a repeat? Rates among observable first contacts."""

    tag: str
    n_with: int
    n_without: int
    rate_with: float | None
    rate_without: float | None
    difference: float | None
    p_value: float | None  # Fisher's exact test, two-sided


@dataclass(frozen=True)
class RepeatReport:
    """Everything the report and the UI show about repeat contacts for one period."""

    summary: RepeatSummary
    repeats: tuple[ContactLink, ...]
    predictors: tuple[TagRepeatRow, ...]
    promises: tuple[CallbackPromise, ...]
    flags: Mapping[str, bool | None] = field(default_factory=dict)
    """Contact id -> repeated (None: not yet observable), handled linkable contacts of the
    period: ``qa.why.drivers.why(repeat_flags=...)`` takes it for the ``repeat`` outcome."""

    @property
    def broken_promises(self) -> tuple[CallbackPromise, ...]:
        return tuple(p for p in self.promises if p.status == "broken")


def _in_period(when: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or when >= since) and (until is None or when < until)


def summarise(
    links: Sequence[ContactLink],
    window_hours: float,
    data_end: datetime | None = None,
) -> RepeatSummary:
    """Counts and rates over ``links`` (already restricted to a period)."""
    counts = count_contacts(lk.flags for lk in links)
    return RepeatSummary(
        window_hours=window_hours,
        data_end=data_end,
        contacts=counts.contacts,
        observable=counts.observable,
        not_observable=counts.contacts - counts.observable,
        repeated=counts.repeated,
        repeat_rate=counts.repeat_rate,
        first_contacts=counts.first_contacts,
        fcr_rate=counts.fcr_rate,
        repeat_contacts=sum(1 for lk in links if lk.is_repeat),
    )


def repeat_flags(links: Iterable[ContactLink]) -> dict[str, bool | None]:
    """Contact id -> repeated, or None when not yet observable (handled, linkable only)."""
    return {lk.call_id: (lk.repeated if lk.observable else None) for lk in links if lk.counted}


def contact_tags(link: ContactLink, tags: Mapping[str, set[str]]) -> set[str]:
    """The union of the tags of every leg of a contact."""
    return set().union(*(tags.get(leg, set()) for leg in link.legs))


def repeat_predictors(
    links: Sequence[ContactLink], tags: Mapping[str, set[str]], min_n: int = 1
) -> list[TagRepeatRow]:
    """Per tag on observable handled first contacts: repeat rate with vs without the tag.

    Tags seen on fewer than ``min_n`` such contacts are left out. Sorted by difference,
    most repeat-prone first.
    """
    from scipy.stats import fisher_exact

    population = [lk for lk in links if lk.counted and lk.observable and not lk.is_repeat]
    tag_sets = [contact_tags(lk, tags) for lk in population]
    names = sorted(set().union(*tag_sets)) if tag_sets else []
    rows = []
    for name in names:
        has = [name in ts for ts in tag_sets]
        with_ = [lk.repeated for lk, h in zip(population, has, strict=True) if h]
        without = [lk.repeated for lk, h in zip(population, has, strict=True) if not h]
        if len(with_) < min_n:
            continue
        k_with, k_without = sum(with_), sum(without)
        rate_without = k_without / len(without) if without else None
        p_value = None
        if without:
            table = [[k_with, len(with_) - k_with], [k_without, len(without) - k_without]]
            p_value = float(fisher_exact(table).pvalue)
        rate_with = k_with / len(with_)
        diff = None if rate_without is None else rate_with - rate_without
        rows.append(
            TagRepeatRow(name, len(with_), len(without), rate_with, rate_without, diff, p_value)
        )
    return sorted(rows, key=lambda r: (r.difference is None, -(r.difference or 0.0), r.tag))


def analyse_repeats(
    calls: Sequence[CallFact],
    tags: Mapping[str, set[str]],
    directions: Mapping[str, str] | None = None,
    *,
    window_hours: float = DEFAULT_WINDOW_HOURS,
    since: datetime | None = None,
    until: datetime | None = None,
    min_n: int = 1,
    merge_transfer_legs: bool = True,
    outbound_repeats: bool = False,
) -> RepeatReport:
    """Link over the whole history ``calls``; summarise the contacts starting in the period.

    ``directions`` overrides ``CallFact.direction``; ``merge_transfer_legs`` and
    ``outbound_repeats`` are ``link_contacts``' variants (defaults: the KPIs' definition).
    """
    window_hours = validate_window(window_hours)
    links = link_contacts(
        calls,
        window_hours,
        directions,
        merge_transfer_legs=merge_transfer_legs,
        outbound_repeats=outbound_repeats,
    )
    data_end = max((c.started_at for c in calls), default=None)
    period = [lk for lk in links if _in_period(lk.started_at, since, until)]
    promises = callback_promises(calls, tags, directions, window_hours)
    return RepeatReport(
        summary=summarise(period, window_hours, data_end),
        flags=repeat_flags(period),
        repeats=tuple(lk for lk in period if lk.is_repeat),
        predictors=tuple(repeat_predictors(period, tags, min_n)),
        promises=tuple(p for p in promises if _in_period(p.promised_at, since, until)),
    )
