"""The recorded fortnight, 2026-11-02 .. 2026-11-13: calls ``C0001`` .. ``C0042``.

The 14 scripted calls of ``qa.demo.dialogues`` (the ones with recordings) plus unrecorded
filler: abandoned calls, a retry after an abandon, a billing reminder, three repeat-caller
pairs and single calls.  These rows are frozen: the draws below must stay exactly as they are
(same random stream, same order), or the committed ``calls.csv`` rows would change.  Anything
new is drawn from its own stream (see :func:`draw_hidden`: how the unrecorded calls went,
and Team North's bad last week).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from qa.demo.calls import (
    DEFAULT_SEED,
    LONG_HOLD_SECONDS,
    LONG_WAIT_SECONDS,
    P_UNRESOLVED,
    CallRecord,
    agent_for,
    assign_ids,
    draw_experience,
    draw_time,
    draw_wait,
    weekdays,
)
from qa.demo.dialogues import AGENTS_BY_ID, DIALOGUES, QUEUES, Dialogue

FIRST_DAY = date(2026, 11, 2)  # a Monday
LAST_DAY = date(2026, 11, 15)

N_ABANDONED = 5
N_FILLER_OUTBOUND = 1
N_FILLER_SINGLES = 15  # handled inbound calls outside the repeat-caller pairs

# Team North's bad week: from Monday 2026-11-09 its agents could not see earlier contacts
# (the CRM history pane was broken), so callers had to tell their story again, and more
# problems stayed open.  Added to the usual chances on the team's unrecorded calls.
OUTAGE_TEAM = "Team North"
OUTAGE_START = datetime(2026, 11, 9)
OUTAGE_RE_EXPLAIN = 0.6
OUTAGE_UNRESOLVED = 0.25


def business_days() -> list[date]:
    """The weekdays of the recorded fortnight (2026-11-02 .. 2026-11-13)."""
    return weekdays(FIRST_DAY, LAST_DAY)


def _scripted_call(rng: random.Random, days: list[date], d: Dialogue) -> CallRecord:
    day = days[d.day]
    started = datetime(day.year, day.month, day.day, d.hour) + timedelta(
        seconds=rng.randrange(50 * 60)
    )
    if d.direction == "outbound":
        wait = 0
    elif d.wait is not None:
        wait = rng.randint(*d.wait)
    else:
        wait = rng.randint(0, 20) if rng.random() < 0.7 else rng.randint(21, 90)
    return CallRecord(
        started_at=started,
        key=d.key,
        queue=d.queue,
        customer_id=d.customer_id,
        direction=d.direction,
        agent=AGENTS_BY_ID[d.agent_id],
        wait_seconds=wait,
        talk_seconds=rng.randint(*d.talk),
        hold_seconds=rng.randint(60, 240) if "hold" in d.tags else 0,
        acw_seconds=rng.randint(10, 120),
        transferred=d.transferred,
        tags=d.tags,
        resolved=d.resolved,
        dialogue=d,
    )


def _filler_call(
    rng: random.Random,
    key: str,
    started: datetime,
    customer_id: str,
    *,
    queue: str | None = None,
    extra_tags: tuple[str, ...] = (),
    resolved: bool = True,
) -> CallRecord:
    """An unrecorded handled inbound call; :func:`draw_hidden` adds how it went."""
    queue = queue or rng.choices(QUEUES, weights=(4, 4, 2))[0]
    agent = agent_for(rng, queue)
    wait = draw_wait(rng)
    talk = int(rng.triangular(120, 900, 300))
    hold = 0 if rng.random() < 0.6 else int(rng.triangular(15, 300, 60))
    acw = rng.randint(10, 120)
    transferred = rng.random() < 0.15
    tags: list[str] = []
    if transferred:
        tags.append("transfer")
    if wait >= LONG_WAIT_SECONDS:
        tags.append("long-wait")
    if hold >= LONG_HOLD_SECONDS:
        tags.append("hold")
    rng.random()  # once drew the manner here; kept so the frozen rows do not move
    tags.extend(t for t in extra_tags if t not in tags)
    if "unresolved" in tags:
        resolved = False
    return CallRecord(
        started_at=started,
        key=key,
        queue=queue,
        customer_id=customer_id,
        agent=agent,
        wait_seconds=wait,
        talk_seconds=talk,
        hold_seconds=hold,
        acw_seconds=acw,
        transferred=transferred,
        tags=tuple(tags),
        resolved=resolved,
    )


def build_fortnight(seed: int = DEFAULT_SEED) -> list[CallRecord]:
    """Every call of the recorded fortnight, in time order, with ids ``C0001``, ``C0002``, ..."""
    rng = random.Random(f"callqa-demo:calls:{seed}")
    days = business_days()
    calls = [_scripted_call(rng, days, d) for d in DIALOGUES]

    scripted_customers = {d.customer_id for d in DIALOGUES}
    pool = [f"CU{n}" for n in range(1001, 1061) if f"CU{n}" not in scripted_customers]
    customers = iter(rng.sample(pool, len(pool)))

    # Abandoned calls.  The first is the price-rise customer giving up before the call that
    # opens with "I've been waiting on hold for forty minutes".
    price_rise = next(c for c in calls if c.key == "price_rise_supervisor")
    gave_up = price_rise.started_at - timedelta(minutes=rng.randint(25, 45))
    calls.append(
        CallRecord(
            started_at=gave_up,
            key="abandoned-price-rise",
            queue="billing",
            customer_id=price_rise.customer_id,
            wait_seconds=rng.randint(330, 400),
            abandoned=True,
        )
    )
    retry: tuple[str, datetime, str] | None = None
    for i in range(N_ABANDONED - 1):
        day = rng.choice(days)
        customer = next(customers)
        started = draw_time(rng, day)
        queue = rng.choice(QUEUES)
        calls.append(
            CallRecord(
                started_at=started,
                key=f"abandoned-{i}",
                queue=queue,
                customer_id=customer,
                wait_seconds=rng.randint(60, 400),
                abandoned=True,
            )
        )
        if retry is None:  # this caller tries again a little later and gets through
            retry = (customer, started + timedelta(minutes=rng.randint(8, 40)), queue)
    assert retry is not None
    customer, retry_at, queue = retry
    calls.append(_filler_call(rng, "retry-after-abandon", retry_at, customer, queue=queue))

    # Outbound filler: a billing reminder call.
    day = rng.choice(days)
    agent = agent_for(rng, "billing")
    for _ in range(N_FILLER_OUTBOUND):
        calls.append(
            CallRecord(
                started_at=draw_time(rng, day, earliest_hour=9),
                key="outbound-reminder",
                queue="billing",
                customer_id=next(customers),
                direction="outbound",
                agent=agent,
                talk_seconds=rng.randint(120, 300),
                acw_seconds=rng.randint(10, 60),
            )
        )

    # Repeat callers: two customers call again the next business day (within 48 h), one a few
    # business days later (after 48 h).  The first call was not resolved.
    not_friday = [i for i, d in enumerate(days) if d.weekday() < 4]
    pairs = ((1, ("re-explain",)), (1, ("broken-callback",)), (4, ("re-explain",)))
    for n, (gap_days, second_tags) in enumerate(pairs):
        first_day = rng.choice([i for i in not_friday if i + gap_days < len(days)])
        customer = next(customers)
        queue = rng.choice(QUEUES[:2])
        first = _filler_call(
            rng,
            f"repeat-{n}-first",
            draw_time(rng, days[first_day]),
            customer,
            queue=queue,
            extra_tags=("unresolved",),
            resolved=False,
        )
        second = _filler_call(
            rng,
            f"repeat-{n}-second",
            draw_time(rng, days[first_day + gap_days]),
            customer,
            queue=queue,
            extra_tags=second_tags,
        )
        calls.extend((first, second))

    for i in range(N_FILLER_SINGLES):
        day = rng.choice(days)
        calls.append(_filler_call(rng, f"single-{i}", draw_time(rng, day), next(customers)))

    draw_hidden(calls, seed)
    return assign_ids(calls, "C")


def draw_hidden(calls: list[CallRecord], seed: int = DEFAULT_SEED) -> None:
    """How the unrecorded handled inbound calls went (re-explain, unresolved, the agent's
    manner), with the history's model (``qa.demo.calls.draw_experience``), plus Team
    North's bad last week.  Only hidden phenomena change (the survey answers follow them),
    never the export rows, and the draws use their own stream."""
    rng = random.Random(f"callqa-demo:fortnight-hidden:{seed}")
    for call in sorted(calls, key=lambda c: (c.started_at, c.key)):
        if call.dialogue is not None or call.abandoned or call.direction != "inbound":
            continue
        assert call.agent is not None
        outage = call.agent.team == OUTAGE_TEAM and call.started_at >= OUTAGE_START
        experience, unresolved = draw_experience(
            rng,
            call.agent,
            transferred=call.transferred,
            repeat=call.key.endswith("-second"),
            p_unresolved=P_UNRESOLVED[call.queue] + OUTAGE_UNRESOLVED * outage,
            re_explain_extra=OUTAGE_RE_EXPLAIN * outage,
        )
        tags = [*call.tags, *(t for t in experience if t not in call.tags)]
        if unresolved and "unresolved" not in tags:
            tags.append("unresolved")
        call.tags = tuple(tags)
        call.resolved = call.resolved and "unresolved" not in tags
