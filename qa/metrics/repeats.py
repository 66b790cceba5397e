"""Repeat contacts: link each repeat contact to the first contact of its chain.

Definitions (those of ``qa.metrics.kpis``, except that transfer legs written as rows are merged and
outbound calls are not repeats):

* A *contact* is one call row, plus any *transfer legs* an export writes as separate rows:
  a row of the same customer that starts at the same instant as the previous leg, or
  while a transferred leg is still in progress (``start <= leg start + wait + talk + hold
  + TRANSFER_GAP_SECONDS``). A transferred call is one contact, never a repeat of itself.
* A contact is a *repeat* when the same (non-blank) customer had another contact that
  started at most ``W`` hours earlier; it links to that *previous* contact and to the
  *first* contact of the chain (the latest contact with no contact W hours before it).
  A chain A -> B -> C (each within W of the one before) links C to B and to A.
* A handled contact is *repeated* when another contact follows within W. It is
  *observable* when its window has fully elapsed (``start + W <= `` the latest call start
  in the data); contacts that are not yet observable are excluded from the rates instead
  of counting as resolved.
* Outbound calls (the center calling the customer: a kept callback, a reminder) are not
  linked at all by default, so keeping a callback promise never counts as a repeat;
  ``outbound_repeats=True`` links every direction as ``qa.metrics.kpis.contact_flags`` does.

The window is 24-72 h (default 48 h): shorter windows inflate FCR, longer ones blame a
contact for unrelated later calls.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from qa.metrics.kpis import CallFact

if TYPE_CHECKING:
    from qa.metrics.callbacks import CallbackPromise

DEFAULT_WINDOW_HOURS = 48.0
MIN_WINDOW_HOURS, MAX_WINDOW_HOURS = 24.0, 72.0
TRANSFER_GAP_SECONDS = 60.0
OUTBOUND = "outbound"


def validate_window(hours: float) -> float:
    """``hours`` as a float when it is a valid repeat window (24-72 h), else ``ValueError``."""
    try:
        value = float(hours)
    except (TypeError, ValueError):
        value = math.nan
    if not MIN_WINDOW_HOURS <= value <= MAX_WINDOW_HOURS:  # also rejects NaN
        raise ValueError(
            f"repeat-contact window {hours!r} h is out of range: choose {MIN_WINDOW_HOURS:g}"
            f" to {MAX_WINDOW_HOURS:g} hours (default {DEFAULT_WINDOW_HOURS:g})"
        )
    return value


@dataclass(frozen=True)
class ContactLink:
    """One contact and how it links to the customer's other contacts."""

    call_id: str  # external id of the contact's first leg: the contact's id
    customer_id: str
    started_at: datetime
    legs: tuple[str, ...]  # external ids of every row (transfer legs), call_id first
    handled: bool
    direction: str
    first_call_id: str | None  # first contact of the chain (itself if first); None: unlinkable
    previous_call_id: str | None  # the contact this one repeats; None for a first contact
    repeated: bool  # handled, and another contact of the customer follows within the window
    observable: bool  # linkable, and the window after it has fully elapsed in the data
    gap_hours: float | None = None  # hours since previous_call_id started

    @property
    def is_repeat(self) -> bool:
        return self.previous_call_id is not None

    @property
    def outcome(self) -> str:
        """``outbound``, ``unlinkable``, ``abandoned``, ``not-observable``, ``repeated`` or
        ``not-repeated``."""
        if self.first_call_id is None:
            return "outbound" if self.direction == OUTBOUND else "unlinkable"
        if not self.handled:
            return "abandoned"
        if not self.observable:
            return "not-observable"
        return "repeated" if self.repeated else "not-repeated"


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


def _end(call: CallFact) -> datetime:
    seconds = call.wait_seconds + call.talk_seconds + call.hold_seconds + TRANSFER_GAP_SECONDS
    return call.started_at + timedelta(seconds=seconds)


def _group_legs(calls: Sequence[CallFact]) -> list[list[CallFact]]:
    """One customer's calls (time order) grouped into contacts (transfer legs merged)."""
    contacts: list[list[CallFact]] = []
    for call in calls:
        if contacts:
            last = contacts[-1][-1]
            same_instant = call.started_at == last.started_at
            if same_instant or (last.transferred and call.started_at <= _end(last)):
                contacts[-1].append(call)
                continue
        contacts.append([call])
    return contacts


def link_contacts(
    calls: Iterable[CallFact],
    window_hours: float = DEFAULT_WINDOW_HOURS,
    directions: Mapping[str, str] | None = None,
    *,
    outbound_repeats: bool = False,
) -> list[ContactLink]:
    """Every contact in ``calls`` (the whole history), linked to its first contact, by start.

    Outbound calls (``directions``) are the center calling the customer, not the customer
    coming back, so by default they are left out of the linking (outcome ``outbound``): a
    kept callback promise must not count as a repeat. ``outbound_repeats=True`` links every
    direction, as ``qa.metrics.kpis.contact_flags`` does.
    """
    window = timedelta(hours=validate_window(window_hours))
    calls = sorted(calls, key=lambda c: (c.started_at, c.external_id))
    if not calls:
        return []
    directions = directions or {}
    data_end = calls[-1].started_at
    by_customer: dict[str, list[CallFact]] = defaultdict(list)
    links: list[ContactLink] = []
    for call in calls:
        outbound = directions.get(call.external_id) == OUTBOUND and not outbound_repeats
        if call.customer_id.strip() and not outbound:
            by_customer[call.customer_id].append(call)
        else:  # nothing to link it with: its own contact, outside every rate
            links.append(_link([call], directions, None, False))
    for customer_calls in by_customer.values():
        contacts = _group_legs(customer_calls)
        starts = [legs[0].started_at for legs in contacts] + [None]
        first = ""
        for i, legs in enumerate(contacts):
            start, following = starts[i], starts[i + 1]
            gap = start - starts[i - 1] if i else None
            is_repeat = gap is not None and gap <= window
            first = first if is_repeat else legs[0].external_id
            link = _link(legs, directions, first, start + window <= data_end)
            if is_repeat and gap is not None:
                link = replace(
                    link,
                    previous_call_id=contacts[i - 1][0].external_id,
                    gap_hours=gap.total_seconds() / 3600,
                )
            repeated = following is not None and following - start <= window
            links.append(replace(link, repeated=link.handled and repeated))
    return sorted(links, key=lambda link: (link.started_at, link.call_id))


def _link(
    legs: Sequence[CallFact], directions: Mapping[str, str], first: str | None, observable: bool
) -> ContactLink:
    head = legs[0]
    return ContactLink(
        call_id=head.external_id,
        customer_id=head.customer_id,
        started_at=head.started_at,
        legs=tuple(leg.external_id for leg in legs),
        handled=any(not leg.abandoned for leg in legs),
        direction=directions.get(head.external_id, "inbound"),
        first_call_id=first,
        previous_call_id=None,
        repeated=False,
        observable=observable and first is not None,
    )


def _in_period(when: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or when >= since) and (until is None or when < until)


def summarise(
    links: Sequence[ContactLink],
    window_hours: float,
    data_end: datetime | None = None,
) -> RepeatSummary:
    """Counts and rates over ``links`` (already restricted to a period)."""
    counted = [lk for lk in links if lk.handled and lk.first_call_id is not None]
    observable = [lk for lk in counted if lk.observable]
    first = [lk for lk in observable if not lk.is_repeat]
    repeated = sum(1 for lk in observable if lk.repeated)
    return RepeatSummary(
        window_hours=window_hours,
        data_end=data_end,
        contacts=len(counted),
        observable=len(observable),
        not_observable=len(counted) - len(observable),
        repeated=repeated,
        repeat_rate=repeated / len(observable) if observable else None,
        first_contacts=len(first),
        fcr_rate=sum(1 for lk in first if not lk.repeated) / len(first) if first else None,
        repeat_contacts=sum(1 for lk in links if lk.is_repeat),
    )


def repeat_flags(links: Iterable[ContactLink]) -> dict[str, bool | None]:
    """Contact id -> repeated, or None when not yet observable (handled, linkable only)."""
    return {
        lk.call_id: (lk.repeated if lk.observable else None)
        for lk in links
        if lk.handled and lk.first_call_id is not None
    }


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

    population = [lk for lk in links if lk.handled and lk.observable and not lk.is_repeat]
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
    outbound_repeats: bool = False,
) -> RepeatReport:
    """Link over the whole history ``calls``; summarise the contacts starting in the period."""
    from qa.metrics.callbacks import callback_promises

    window_hours = validate_window(window_hours)
    directions = directions or {}
    links = link_contacts(calls, window_hours, directions, outbound_repeats=outbound_repeats)
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
