"""Six weeks of history before the recorded fortnight: calls ``H0001`` .. (no recordings).

2026-09-21 .. 2026-10-30, weekdays.  Each day new customer issues arrive (more on Mondays,
more in the busy hours 09-11 and 13-15, when queues are longer); an issue is a chain of
contacts:

* a caller who waits long may hang up (abandoned) and try again later the same day or the
  next;
* a handled call draws its phenomena from the call's facts and the agent's style
  (:data:`AGENT_STYLE`): a long wait makes a transfer more likely (overflow routing), a
  transfer or a repeat contact makes re-explaining likely;
* an unresolved call (and some resolved ones waiting on an engineer or a refund) may end
  with a promised callback: kept (an outbound call by the same agent the next business day)
  or broken (the customer calls again, angry, and that call is itself often unresolved, so
  more repeat calls follow); without a promise most customers with an unresolved problem
  call again within a few days;
* a few outbound renewal offers and payment reminders.

Customers are ``CU1101`` .. ``CU1500`` (the fortnight's are ``CU1001`` .. ``CU1060``), so
the history never changes the fortnight's repeat flags.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from qa.demo.calls import (
    AGENT_STYLE,
    CLOSE_HOUR,
    DEFAULT_SEED,
    LONG_HOLD_SECONDS,
    LONG_WAIT_SECONDS,
    P_UNRESOLVED,
    RE_EXPLAIN_ACW,
    RE_EXPLAIN_TALK,
    CallRecord,
    assign_ids,
    draw_experience,
    weekdays,
)
from qa.demo.dialogues import AGENTS, QUEUES, Agent

FIRST_DAY = date(2026, 9, 21)  # a Monday, six weeks before the recorded fortnight
LAST_DAY = date(2026, 10, 30)
CUSTOMERS = tuple(f"CU{n}" for n in range(1101, 1501))

ISSUES_PER_DAY = (6, 9)  # new issues on Tuesday-Friday (inclusive range); Mondays get +2
OUTBOUND_PER_DAY = 0.5  # renewal offers and payment reminders, on average
HOUR_WEIGHTS = {8: 4, 9: 10, 10: 12, 11: 10, 12: 6, 13: 9, 14: 10, 15: 7, 16: 5, 17: 2}
BUSY_HOURS = frozenset({9, 10, 11, 13, 14})

P_TRANSFER = 0.08  # plus LONG_WAIT_TRANSFER after a long wait, plus 0.05 in technical
LONG_WAIT_TRANSFER = 0.35
BROKEN_UNRESOLVED = 0.55  # a call about a broken callback is often still unresolved
P_PROMISE = 0.55  # an unresolved call ends with a promised callback
P_PENDING = 0.12  # a resolved billing / technical call still waits on a promised callback
P_PROMISE_KEPT = 0.45
P_CALL_AGAIN = 0.75  # unresolved, no promise: the customer calls again


class _History:
    """Draws issues day by day; follow-up contacts land on later days (or are dropped when
    they would fall after the history)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"callqa-demo:history:{seed}")
        self.days = weekdays(FIRST_DAY, LAST_DAY)
        self.calls: list[CallRecord] = []
        self.last_contact: dict[str, date] = {}
        self.issue = 0

    # -- draws ---------------------------------------------------------------------------

    def time_on(self, day: date) -> datetime:
        """A start on ``day``: busy hours more likely, none in the last half hour."""
        rng = self.rng
        hours = list(HOUR_WEIGHTS)
        hour = rng.choices(hours, weights=[HOUR_WEIGHTS[h] for h in hours])[0]
        minute_span = 30 * 60 if hour == CLOSE_HOUR - 1 else 3600
        return datetime(day.year, day.month, day.day, hour) + timedelta(
            seconds=rng.randrange(minute_span)
        )

    def wait(self, started: datetime) -> int:
        """Queue wait: longer in the busy hours (the long tail is what callers abandon)."""
        rng = self.rng
        tail = 0.28 if started.hour in BUSY_HOURS else 0.10
        r = rng.random()
        if r < 0.50:
            return rng.randint(0, 20)
        if r < 1 - tail:
            return rng.randint(21, LONG_WAIT_SECONDS - 1)
        return rng.randint(LONG_WAIT_SECONDS, 400)

    def customer(self, day: date) -> str:
        """A customer with no contact in the last three weeks (so repeats are deliberate)."""
        while True:
            customer = self.rng.choice(CUSTOMERS)
            last = self.last_contact.get(customer)
            if last is None or (day - last).days > 21:
                return customer

    def agent(self, queue: str) -> Agent:
        return self.rng.choice([a for a in AGENTS if queue in a.queues])

    def later_day(self, day: date, business_days: int) -> date | None:
        index = self.days.index(day) + business_days
        return self.days[index] if index < len(self.days) else None

    # -- contacts ------------------------------------------------------------------------

    def add(self, call: CallRecord) -> CallRecord:
        self.calls.append(call)
        self.last_contact[call.customer_id] = call.started_at.date()
        return call

    def key(self, part: str) -> str:
        return f"h{self.issue:03d}-{part}"

    def attempt(
        self, day: date, customer: str, queue: str, *, repeat: bool, broken: bool, depth: int
    ) -> None:
        """An inbound attempt: maybe abandoned (and retried), else handled with follow-ups."""
        rng = self.rng
        started = self.time_on(day)
        wait = self.wait(started)
        p_abandon = 0.02 if wait < 60 else (0.05 if wait < LONG_WAIT_SECONDS else 0.16)
        if rng.random() < p_abandon:
            self.add(CallRecord(started, self.key(f"{len(self.calls)}a"), queue, customer,
                                wait_seconds=wait, abandoned=True))  # fmt: skip
            r = rng.random()
            retry_at = started + timedelta(minutes=rng.randint(10, 90))
            if r < 0.65 and retry_at.hour < CLOSE_HOUR - 1:
                started, wait = retry_at, self.wait(retry_at)
            elif r < 0.85 and (next_day := self.later_day(day, 1)) is not None:
                started = self.time_on(next_day)
                wait = self.wait(started)
            else:
                return  # gave up
        call = self.handled(started, customer, queue, wait, repeat=repeat, broken=broken)
        self.add(call)
        self.follow_up(call, depth)

    def handled(
        self, started: datetime, customer: str, queue: str, wait: int, *, repeat: bool,
        broken: bool,
    ) -> CallRecord:  # fmt: skip
        rng = self.rng
        agent = self.agent(queue)
        tags: list[str] = []
        long_wait = wait >= LONG_WAIT_SECONDS
        p_transfer = P_TRANSFER + LONG_WAIT_TRANSFER * long_wait + 0.05 * (queue == "technical")
        transferred = rng.random() < p_transfer
        hold = 0 if rng.random() < 0.6 else int(rng.triangular(15, 300, 60))
        for tag, present in (
            ("transfer", transferred),
            ("long-wait", long_wait),
            ("hold", hold >= LONG_HOLD_SECONDS),
            ("broken-callback", broken),
        ):
            if present:
                tags.append(tag)
        experience, unresolved = draw_experience(
            rng, agent, transferred=transferred, repeat=repeat,
            p_unresolved=BROKEN_UNRESOLVED if broken else P_UNRESOLVED[queue],
        )  # fmt: skip
        tags.extend(experience)
        if unresolved:
            tags.append("unresolved")
        # An engineer visit to confirm, a refund to approve: someone will call back.
        pending = P_PROMISE if unresolved else P_PENDING * (queue != "sales")
        if rng.random() < pending:
            tags.append("callback-promised")
        # Transfers, re-explaining and unresolved problems make calls longer.
        re_explain = "re-explain" in tags
        talk = rng.triangular(120, 780, 300) + 90 * transferred + RE_EXPLAIN_TALK * re_explain
        return CallRecord(
            started_at=started,
            key=self.key(f"{len(self.calls)}"),
            queue=queue,
            customer_id=customer,
            agent=agent,
            wait_seconds=wait,
            talk_seconds=min(900, int(talk + 45 * unresolved)),
            hold_seconds=hold,
            # The demo's costly tag (qa.demo.workforce): re-explaining costs write-up time.
            acw_seconds=rng.randint(10, 120) + RE_EXPLAIN_ACW * re_explain,
            transferred=transferred,
            tags=tuple(tags),
            resolved=not unresolved,
        )

    def follow_up(self, call: CallRecord, depth: int) -> None:
        """After a promised callback: kept or broken; after an unresolved call: a repeat."""
        rng = self.rng
        if depth >= 3:
            return
        day = call.started_at.date()
        if "callback-promised" in call.tags:
            if rng.random() < P_PROMISE_KEPT:
                next_day = self.later_day(day, 1)
                if next_day is not None:
                    self.callback(call, next_day)
                return
            gap = rng.choices((1, 2, 3), weights=(5, 3, 2))[0]
            next_day = self.later_day(day, gap)
            if next_day is not None:
                self.attempt(next_day, call.customer_id, call.queue, repeat=True, broken=True,
                             depth=depth + 1)  # fmt: skip
            return
        if not call.resolved and rng.random() < P_CALL_AGAIN:
            gap = rng.choices((1, 2, 4), weights=(7, 2, 1))[0]
            next_day = self.later_day(day, gap)
            if next_day is not None:
                self.attempt(next_day, call.customer_id, call.queue, repeat=True, broken=False,
                             depth=depth + 1)  # fmt: skip

    def callback(self, promise: CallRecord, day: date) -> None:
        """The promised callback, kept: the same agent calls the customer back."""
        rng = self.rng
        agent = promise.agent
        assert agent is not None
        started = datetime(day.year, day.month, day.day, 9) + timedelta(
            seconds=rng.randrange(3 * 3600)
        )
        praised = rng.random() < AGENT_STYLE[agent.agent_id].praise + 0.25
        self.add(CallRecord(
            started, self.key(f"{len(self.calls)}cb"), promise.queue, promise.customer_id,
            direction="outbound", agent=agent, talk_seconds=rng.randint(120, 400),
            acw_seconds=rng.randint(10, 90),
            tags=("callback-promised",) + (("agent-praise",) if praised else ()),
        ))  # fmt: skip

    def outbound(self, day: date) -> None:
        """A renewal offer (sales) or a payment reminder (billing)."""
        rng = self.rng
        queue = rng.choice(("sales", "billing"))
        agent = self.agent(queue)
        praised = rng.random() < AGENT_STYLE[agent.agent_id].praise
        self.add(CallRecord(
            self.time_on(day), self.key(f"{len(self.calls)}out"), queue, self.customer(day),
            direction="outbound", agent=agent, talk_seconds=rng.randint(120, 360),
            hold_seconds=0 if rng.random() < 0.8 else rng.randint(20, 90),
            acw_seconds=rng.randint(10, 60), tags=("agent-praise",) if praised else (),
        ))  # fmt: skip

    def run(self) -> list[CallRecord]:
        rng = self.rng
        for day in self.days:
            low, high = ISSUES_PER_DAY
            n = rng.randint(low, high) + 2 * (day.weekday() == 0)
            for _ in range(n):
                self.issue += 1
                queue = rng.choices(QUEUES, weights=(4, 4, 2))[0]
                self.attempt(day, self.customer(day), queue, repeat=False, broken=False, depth=0)
            if rng.random() < OUTBOUND_PER_DAY:
                self.issue += 1
                self.outbound(day)
        return assign_ids(self.calls, "H")


def build_history(seed: int = DEFAULT_SEED) -> list[CallRecord]:
    """Every history call (2026-09-21 .. 2026-10-30), in time order, ids ``H0001``, ..."""
    return _History(seed).run()
