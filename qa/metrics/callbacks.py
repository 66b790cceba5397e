"""Callback promises: was a ``callback-promised`` call followed by an outbound call?

A call tagged ``callback-promised`` (the agent promised to call back) keeps its promise when
an OUTBOUND call to the same customer starts within the repeat window after it (the same
24-72 h window as repeat contacts, ``qa.metrics.contacts``). With no such call the promise is
*broken* once the window has fully elapsed in the data, and *pending* before that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from qa.metrics.base import DEFAULT_WINDOW_HOURS, INBOUND, OUTBOUND, CallFact, validate_window

CALLBACK_TAG = "callback-promised"


@dataclass(frozen=True)
class CallbackPromise:
    """A ``callback-promised`` call and whether an outbound call followed within the window."""

    call_id: str
    customer_id: str
    promised_at: datetime
    status: str  # kept, broken, pending (window not over) or unlinkable (no customer)
    followup_call_id: str | None = None


def callback_promises(
    calls: Iterable[CallFact],
    tags: Mapping[str, set[str]],
    directions: Mapping[str, str] | None = None,
    window_hours: float = DEFAULT_WINDOW_HOURS,
    tag: str = CALLBACK_TAG,
) -> list[CallbackPromise]:
    """Every call tagged ``tag``, kept / broken / pending by the outbound calls after it.

    ``directions`` (external id -> direction) overrides ``CallFact.direction``.
    """
    window = timedelta(hours=validate_window(window_hours))
    calls = sorted(calls, key=lambda c: (c.started_at, c.external_id))
    if not calls:
        return []
    data_end = calls[-1].started_at
    directions = directions or {}
    outbound: dict[str, list[CallFact]] = defaultdict(list)
    for call in calls:
        direction = directions.get(call.external_id, call.direction or INBOUND)
        if direction == OUTBOUND and call.customer_id.strip():
            outbound[call.customer_id].append(call)
    promises = []
    for call in calls:
        if tag not in tags.get(call.external_id, set()):
            continue
        start, status, followup = call.started_at, "unlinkable", None
        if call.customer_id.strip():
            later = [o for o in outbound.get(call.customer_id, []) if start < o.started_at]
            kept = next((o for o in later if o.started_at <= start + window), None)
            if kept is not None:
                status, followup = "kept", kept.external_id
            else:
                status = "broken" if start + window <= data_end else "pending"
        promises.append(
            CallbackPromise(call.external_id, call.customer_id, start, status, followup)
        )
    return promises
