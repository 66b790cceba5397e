"""Repeat contacts and first contacts: the ONE definition every number uses.

``qa kpis``, ``qa why``, ``qa report``, the Insights tab and the triggers all get their
``repeat_contact_rate``, ``fcr_rate`` and per-call repeat flags from ``link_contacts`` here
(``contact_flags`` is its per-row view); nothing else links calls into contacts.

Definitions (``W`` = the repeat window, default 48 h):

* A *contact* is one call row plus any *transfer legs* an export writes as separate rows:
  a row of the same customer that starts at the same instant as the previous leg, or while
  a transferred leg is still in progress (``start <= leg start + wait + talk + hold +
  TRANSFER_GAP_SECONDS``). A transferred call is one contact, never a repeat of itself. The
  contact is its first leg (its id, start, agent, team, queue, day); it is *handled* when
  any leg was.
* Only calls of a non-blank customer link; *outbound* calls (the center calling the
  customer: a kept callback, a reminder) are not the customer coming back, so they are left
  out of the linking. Both kinds stand alone, outside both rates.
* A contact is a *repeat* when the same customer had another contact that started at most
  W earlier; it links to that *previous* contact and to the *first* contact of the chain (the
  latest contact with no contact W before it). A chain A -> B -> C (each within W of the one
  before) links C to B and to A. A *first contact* is a handled contact that is no repeat.
* A handled contact is *repeated* when another contact (abandoned or not) of the customer
  starts within W after it: ``start < next.start <= start + W``.
* A contact is *observable* when its window has fully elapsed, ``start + W <=`` the latest
  call start in the whole history: contacts too recent to know are left out of the rates
  instead of counting as resolved.
* ``repeat_contact_rate`` = repeated / observable handled contacts; ``fcr_rate`` = observable
  first contacts not repeated / observable first contacts.

The variants are named options: ``merge_transfer_legs=False`` makes every row its own contact
(rows of one customer at the same instant still merge: a customer cannot call twice at
once), ``outbound_repeats=True`` links outbound calls like inbound ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter

from qa.metrics.base import DEFAULT_WINDOW_HOURS, INBOUND, OUTBOUND, CallFact, validate_window

TRANSFER_GAP_SECONDS = 60.0


@dataclass(frozen=True)
class ContactFlags:
    """The repeat flags of one call row: those of the contact it belongs to."""

    repeated: bool
    """The contact is handled, and the customer has another contact within W after it."""
    first_contact: bool
    """The contact is handled, and the customer had no contact within W before it."""
    observable: bool
    """Linkable, and the contact's W-window ends by the last call in the data."""
    counted: bool
    """The row stands for a handled, linkable contact (its first leg): the rows the repeat and
    FCR rates count. False for transfer legs after the first, so a contact counts once."""


# The sixteen possible flag values, built once (creating a frozen dataclass per call is slow).
_FLAGS = {
    bits: ContactFlags(*bits)
    for bits in (
        (r, f, o, c) for r in (False, True) for f in (False, True) for o in (False, True)
        for c in (False, True)
    )
}  # fmt: skip


def _flags(
    handled: bool, linked: bool, is_repeat: bool, repeated: bool, observable: bool
) -> ContactFlags:
    """A contact's flags from what the linking found (one place for both views of it)."""
    counted = handled and linked
    return _FLAGS[repeated, counted and not is_repeat, observable, counted]


@dataclass(frozen=True)
class ContactCounts:
    """The repeat and FCR counts of a set of contacts, and the two rates."""

    contacts: int  # handled, linkable contacts
    observable: int  # of which observable: the repeat-rate denominator
    repeated: int
    first_contacts: int  # observable first contacts: the FCR denominator
    resolved: int  # observable first contacts not repeated

    @property
    def repeat_rate(self) -> float | None:
        """``repeat_contact_rate``: repeated / observable (None when nothing is observable)."""
        return self.repeated / self.observable if self.observable else None

    @property
    def fcr_rate(self) -> float | None:
        """``fcr_rate``: resolved / observable first contacts (None when there are none)."""
        return self.resolved / self.first_contacts if self.first_contacts else None


def count_contacts(flags: Iterable[ContactFlags]) -> ContactCounts:
    """Count the ``counted`` entries of ``flags`` (one per row or per contact; legs after the
    first are not counted, so a contact counts once)."""
    counted = [flag for flag in flags if flag.counted]
    observable = [flag for flag in counted if flag.observable]
    first = [flag for flag in observable if flag.first_contact]
    return ContactCounts(
        contacts=len(counted),
        observable=len(observable),
        repeated=len([flag for flag in observable if flag.repeated]),
        first_contacts=len(first),
        resolved=len([flag for flag in first if not flag.repeated]),
    )


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
    def counted(self) -> bool:
        """Handled and linkable: a contact the repeat and FCR rates count (when observable)."""
        return self.handled and self.first_call_id is not None

    @property
    def flags(self) -> ContactFlags:
        """The contact's flags, as its first leg's row carries them (``contact_flags``)."""
        linked = self.first_call_id is not None
        return _flags(self.handled, linked, self.is_repeat, self.repeated, self.observable)

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


def _end(call: CallFact) -> datetime:
    seconds = call.wait_seconds + call.talk_seconds + call.hold_seconds + TRANSFER_GAP_SECONDS
    return call.started_at + timedelta(seconds=seconds)


def _group_legs(calls: Sequence[CallFact], merge_transfer_legs: bool) -> list[list[CallFact]]:
    """One customer's calls (time order) grouped into contacts (transfer legs merged)."""
    contacts: list[list[CallFact]] = []
    for call in calls:
        if contacts:
            last = contacts[-1][-1]
            same_instant = call.started_at == last.started_at
            leg = merge_transfer_legs and last.transferred and call.started_at <= _end(last)
            if same_instant or leg:
                contacts[-1].append(call)
                continue
        contacts.append([call])
    return contacts


_Contact = tuple[
    list[CallFact],  # legs: the rows of the contact, first leg first
    str | None,  # first contact of the chain; None: unlinkable
    tuple[str, timedelta] | None,  # previous: (the contact this one repeats, time since it)
    bool,  # handled
    bool,  # repeated: handled, and another contact follows within the window
    bool,  # observable: linkable, and the window has fully elapsed
]
"""One contact as the linking finds it. A plain tuple, not a class, because ``contact_flags``
makes one per call of the whole history (``ContactLink`` is built only by ``link_contacts``)."""


def _direction(call: CallFact, directions: Mapping[str, str] | None) -> str:
    direction = directions.get(call.external_id, call.direction) if directions else call.direction
    return direction or INBOUND


_ORDER = attrgetter("started_at", "external_id")


def _contacts(
    calls: Iterable[CallFact],
    window: timedelta,
    directions: Mapping[str, str] | None,
    merge_transfer_legs: bool,
    outbound_repeats: bool,
) -> Iterator[_Contact]:
    """The linking itself (the module docstring's rules), in no particular order.

    Written for the whole history of a large center (a million calls): one pass to split by
    customer, one sort per customer, one tuple per contact.
    """
    calls = list(calls)
    if not calls:
        return
    # A contact is observable when start + W <= the data end, i.e. start <= data end - W.
    observable_until = max(call.started_at for call in calls) - window
    by_customer: dict[str, list[CallFact]] = defaultdict(list)
    for call in calls:
        outbound = not outbound_repeats and _direction(call, directions) == OUTBOUND
        if call.customer_id.strip() and not outbound:
            by_customer[call.customer_id].append(call)
        else:  # nothing to link it with: its own contact, outside every rate
            yield [call], None, None, not call.abandoned, False, False
    for customer_calls in by_customer.values():
        if len(customer_calls) == 1:  # most customers: a first contact, never repeated
            call = customer_calls[0]
            handled, observable = not call.abandoned, call.started_at <= observable_until
            yield customer_calls, call.external_id, None, handled, False, observable
            continue
        customer_calls.sort(key=_ORDER)
        contacts = _group_legs(customer_calls, merge_transfer_legs)
        starts = [legs[0].started_at for legs in contacts]
        window_ends = [start + window for start in starts]
        last = len(contacts) - 1
        first = ""
        for i, legs in enumerate(contacts):
            start = starts[i]
            previous = None
            if i and start <= window_ends[i - 1]:
                previous = (contacts[i - 1][0].external_id, start - starts[i - 1])
            first = first if previous else legs[0].external_id
            handled = not legs[0].abandoned or any(not leg.abandoned for leg in legs)
            repeated = handled and i < last and starts[i + 1] <= window_ends[i]
            yield legs, first, previous, handled, repeated, start <= observable_until


def _link(contact: _Contact, directions: Mapping[str, str] | None) -> ContactLink:
    legs, first, previous, handled, repeated, observable = contact
    head = legs[0]
    return ContactLink(
        call_id=head.external_id,
        customer_id=head.customer_id,
        started_at=head.started_at,
        legs=tuple(leg.external_id for leg in legs),
        handled=handled,
        direction=_direction(head, directions),
        first_call_id=first,
        previous_call_id=previous[0] if previous else None,
        repeated=repeated,
        observable=observable,
        gap_hours=previous[1].total_seconds() / 3600 if previous else None,
    )


def link_contacts(
    calls: Iterable[CallFact],
    window_hours: float = DEFAULT_WINDOW_HOURS,
    directions: Mapping[str, str] | None = None,
    *,
    merge_transfer_legs: bool = True,
    outbound_repeats: bool = False,
) -> list[ContactLink]:
    """Every contact in ``calls`` (the whole history), linked to its first contact, by start.

    ``window_hours`` must be 24-72 (``validate_window``). ``directions`` (external id ->
    ``inbound`` / ``outbound``) overrides ``CallFact.direction``, for facts built without it.
    ``merge_transfer_legs`` / ``outbound_repeats``: the variants in the module docstring.
    """
    window = timedelta(hours=validate_window(window_hours))
    contacts = _contacts(calls, window, directions, merge_transfer_legs, outbound_repeats)
    links = [_link(contact, directions) for contact in contacts]
    return sorted(links, key=lambda link: (link.started_at, link.call_id))


def contact_flags(
    history: Iterable[CallFact],
    window_hours: float = DEFAULT_WINDOW_HOURS,
    *,
    merge_transfer_legs: bool = True,
    outbound_repeats: bool = False,
) -> dict[str, ContactFlags]:
    """The flags of every call row in ``history`` (external id -> ``ContactFlags``): those of
    its contact in ``link_contacts`` (``ContactLink.flags``), with ``counted`` only on a
    handled, linkable contact's first leg.

    Unlike ``link_contacts`` the window is not range-checked here, as before the two were
    one: ``KpiOptions`` (``qa kpis --window-hours``) accepts any positive window.
    """
    window = timedelta(hours=window_hours)
    flags: dict[str, ContactFlags] = {}
    contacts = _contacts(history, window, None, merge_transfer_legs, outbound_repeats)
    for legs, first, previous, handled, repeated, observable in contacts:
        head = _flags(handled, first is not None, previous is not None, repeated, observable)
        flags[legs[0].external_id] = head
        if len(legs) > 1:  # later legs: the contact's flags, not counted again
            leg_flags = _FLAGS[head.repeated, head.first_contact, head.observable, False]
            flags.update(dict.fromkeys((leg.external_id for leg in legs[1:]), leg_flags))
    return flags
