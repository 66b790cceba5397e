"""Structured drivers: 0/1 features the phone system recorded, from ``CallFact`` fields.

A comment tag says what the customer or agent *said*; these say what the telephony export
*recorded*, so they need no tagger and miss nothing. ``qa why`` analyses them beside the tags
(``Driver.kind == "recorded"``) and puts them in the adjusted regression, so that a tag that
only rides along with a recorded cause (long-wait with transfers) is not blamed for it.

Features (``CallDriverOptions`` sets the thresholds; names carry them):

* ``call:transferred`` - ``CallFact.transferred``;
* ``call:wait>{S}s`` - waited longer than the service-level threshold S (``wait > S``);
  ``call:wait>{L}s`` - longer than the long-wait threshold L;
* ``call:hold>{H}s`` - held longer than H;
* ``call:after-abandon`` - the same customer abandoned an earlier contact that started at
  most W (the repeat window) before this contact;
* ``call:repeat`` - this contact is itself a repeat: the customer had a *handled* contact
  that started at most W before it.

The last two come from ``qa.metrics.contacts.link_contacts``, the one contact-linking
definition: the earlier contacts within W are exactly the chain of ``previous_call_id``
links walked back while within W of this contact (consecutive contacts of a customer link
when within W). So a counted contact is a repeat in ``qa.metrics.contacts`` exactly when it
has ``call:repeat`` or ``call:after-abandon``. Every leg of a contact carries its flags;
calls that do not link (no customer id, outbound) carry neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from qa.metrics.base import DEFAULT_WINDOW_HOURS, CallFact, KpiOptions
from qa.metrics.contacts import ContactLink, link_contacts

CALL_PREFIX = "call:"
TRANSFERRED = "call:transferred"
AFTER_ABANDON = "call:after-abandon"
REPEAT = "call:repeat"


@dataclass(frozen=True)
class CallDriverOptions:
    """Thresholds of the structured drivers, in seconds (``qa why --long-wait-seconds``,
    ``--hold-seconds``; S is the service-level threshold ``KpiOptions.service_level_seconds``)."""

    service_level_seconds: float = KpiOptions.service_level_seconds
    long_wait_seconds: float = 120.0
    hold_seconds: float = 120.0

    def __post_init__(self) -> None:
        for name in ("service_level_seconds", "long_wait_seconds", "hold_seconds"):
            value = getattr(self, name)
            if not value >= 0:  # also rejects NaN
                raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")


def _seconds(value: float) -> str:
    return f"{value:g}s"


def call_feature_names(options: CallDriverOptions) -> tuple[str, ...]:
    """Every structured feature name for ``options``, in display order (duplicates merged:
    a long-wait threshold equal to the service level is one feature)."""
    names = (
        TRANSFERRED,
        f"call:wait>{_seconds(options.service_level_seconds)}",
        f"call:wait>{_seconds(options.long_wait_seconds)}",
        f"call:hold>{_seconds(options.hold_seconds)}",
        AFTER_ABANDON,
        REPEAT,
    )
    return tuple(dict.fromkeys(names))


def _earlier(links: Sequence[ContactLink], window: timedelta) -> dict[str, tuple[bool, bool]]:
    """External id of every leg -> (after a handled contact, after an abandoned one), both
    within ``window`` before its contact's start."""
    by_id = {link.call_id: link for link in links}
    flags: dict[str, tuple[bool, bool]] = {}
    for link in links:
        handled = abandoned = False
        earlier = by_id.get(link.previous_call_id) if link.previous_call_id else None
        while earlier is not None and earlier.started_at >= link.started_at - window:
            handled |= earlier.handled
            abandoned |= not earlier.handled
            nxt = earlier.previous_call_id
            earlier = by_id.get(nxt) if nxt else None
        if handled or abandoned:
            flags.update(dict.fromkeys(link.legs, (handled, abandoned)))
    return flags


def call_features(
    calls: Sequence[CallFact],
    history: Sequence[CallFact],
    options: CallDriverOptions,
    window_hours: float = DEFAULT_WINDOW_HOURS,
) -> dict[str, set[str]]:
    """Feature name -> external ids of ``calls`` that have it (see the module docstring).

    ``history`` is every call (earlier contacts may lie before ``calls``' period);
    ``window_hours`` must be 24-72 (``qa.metrics.base.validate_window``).
    """
    names = call_feature_names(options)
    members: dict[str, set[str]] = {name: set() for name in names}
    wait_over = {f"call:wait>{_seconds(s)}": s
                 for s in (options.service_level_seconds, options.long_wait_seconds)}  # fmt: skip
    hold_name = f"call:hold>{_seconds(options.hold_seconds)}"
    for call in calls:
        if call.transferred:
            members[TRANSFERRED].add(call.external_id)
        for name, threshold in wait_over.items():
            if call.wait_seconds > threshold:
                members[name].add(call.external_id)
        if call.hold_seconds > options.hold_seconds:
            members[hold_name].add(call.external_id)
    earlier = _earlier(link_contacts(history, window_hours), timedelta(hours=window_hours))
    for call in calls:
        after_handled, after_abandoned = earlier.get(call.external_id, (False, False))
        if after_handled:
            members[REPEAT].add(call.external_id)
        if after_abandoned:
            members[AFTER_ABANDON].add(call.external_id)
    return members
