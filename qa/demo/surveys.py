"""Rows of the demo ``surveys.csv``: who answers, the scores, and the comment.

The score model is additive on the 1-5 CSAT scale (then rounded and clipped): each
phenomenon on the call moves the expected score by :data:`CSAT_EFFECT`, the same for every
call, team and period, so a driver analysis can recover the effects (see the data README).
NPS follows CSAT; CES has its own effects (lower is better).  Survey FCR is "no" for an
unresolved problem and less likely after a transfer, on a repeat contact, while waiting on
a callback or when the customer had to re-explain.  About half of the handled calls get an
answer, unhappy customers a little more often, Team South's customers more often than
Team North's.

Comments mention some of the phenomena, in the customer's words (``qa.demo.comments``);
the scripted, recorded calls keep the comments written with their scripts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from qa.demo.calls import DEFAULT_SEED, CallRecord, yes_no
from qa.demo.comments import COMMENTS

SURVEY_COLUMNS = ("call_id", "submitted_at", "csat", "nps", "ces", "fcr", "comment")

CSAT_BASE = 4.7
CSAT_EFFECT = {
    "re-explain": -1.2,
    "transfer": -0.5,
    "long-wait": -0.5,
    "agent-rude": -2.0,
    "rushed": -1.0,
    "unresolved": -1.3,
    "broken-callback": -1.5,
    "hold": -0.2,
    "callback-promised": 0.0,
    "agent-praise": 0.6,
}
CSAT_NOISE = 0.55
CES_BASE = 1.8  # customer effort, 1..7, lower is better
CES_EFFECT = {
    "re-explain": 1.8,
    "transfer": 1.2,
    "long-wait": 0.8,
    "agent-rude": 1.0,
    "rushed": 0.6,
    "unresolved": 1.2,
    "broken-callback": 1.2,
    "hold": 0.4,
    "callback-promised": 0.3,
    "agent-praise": -0.3,
}
NEGATIVE = frozenset(t for t, effect in CSAT_EFFECT.items() if effect < 0)

# Who answers: about half of the handled calls; unhappy customers a little more often.
RESPONSE_RATE = 0.45
RESPONSE_UNHAPPY = 0.10  # added when the call had a negative phenomenon
RESPONSE_ANGRY = 0.15  # added again after a broken promise or a rude agent
RESPONSE_PRAISE = 0.05
RESPONSE_OUTBOUND = 0.30
# Team South's customers answer more often, Team North's less (a real difference the
# survey-bias check finds in the team mix; qa.metrics.response weighs it back). The team is
# a control of every driver analysis, so the drivers keep their effects.
RESPONSE_BY_TEAM = {"Team South": 0.15, "Team North": -0.15}

# How likely a respondent mentions each phenomenon; the most salient first, three at most.
MAX_COMPLAINTS = 3
COMPLAIN_BY_SCORE = {1: 1.0, 2: 1.0, 3: 1.0, 4: 0.75, 5: 0.45}  # x MENTION
MENTION = {
    "agent-rude": 0.9,
    "broken-callback": 0.95,
    "re-explain": 0.9,
    "unresolved": 0.85,
    "rushed": 0.7,
    "transfer": 0.8,
    "long-wait": 0.75,
    "hold": 0.3,
    "callback-promised": 0.2,
    "agent-praise": 0.8,
}
COMPLAINT_ORDER = (
    "agent-rude",
    "broken-callback",
    "re-explain",
    "transfer",
    "unresolved",
    "rushed",
    "long-wait",
    "hold",
    "callback-promised",
)


@dataclass
class SurveyRecord:
    call_id: str
    submitted_at: datetime
    csat: int | None
    nps: int | None
    ces: int | None
    fcr: bool | None
    comment: str

    def row(self) -> list[str]:
        return [
            self.call_id,
            self.submitted_at.isoformat(timespec="seconds"),
            _blank(self.csat),
            _blank(self.nps),
            _blank(self.ces),
            "" if self.fcr is None else yes_no(self.fcr),
            self.comment,
        ]


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)


def _clamp(value: float, low: int, high: int) -> int:
    return int(min(high, max(low, round(value))))


class _Decks:
    """Comment wordings drawn like shuffled decks: no repeat until a pool is used up."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.left: dict[str, list[str]] = {}

    def draw(self, pool: str, variant: str = "") -> str:
        """A wording from ``pool``, plus ``pool/variant``'s wordings when there are any."""
        key = f"{pool}/{variant}"
        extra = COMMENTS.get(key, ())
        key = key if extra else pool
        if not self.left.get(key):
            cards = [*COMMENTS[pool], *extra]
            self.rng.shuffle(cards)
            self.left[key] = cards
        return self.left[key].pop()


def _comment(rng: random.Random, decks: _Decks, call: CallRecord, csat: int, repeat: bool) -> str:
    """What the respondent writes: the phenomena they mention (more complaints the lower
    their score, praise mostly with a good score), or a neutral or vague line, or nothing."""
    if call.dialogue is not None:
        return call.dialogue.comment
    phenomena = call.phenomena
    if rng.random() < 0.08:  # some respondents never write anything
        return ""
    annoyed = COMPLAIN_BY_SCORE[csat]
    complaints = [
        t for t in COMPLAINT_ORDER if t in phenomena and rng.random() < MENTION[t] * annoyed
    ]
    pleased = 1.0 if csat >= 4 else 0.4
    praise = "agent-praise" in phenomena and rng.random() < MENTION["agent-praise"] * pleased
    variants = {"re-explain": "repeat" if repeat else "", "unresolved": call.queue}
    parts = [decks.draw(t, variants.get(t, "")) for t in complaints[:MAX_COMPLAINTS]]
    if praise:
        parts.append(decks.draw("praise-despite" if parts else "agent-praise"))
    if not parts:
        unhappy = any(t in NEGATIVE for t in phenomena)
        if rng.random() < 0.5:
            return ""
        parts.append(decks.draw("vague" if unhappy else "neutral"))
    first_name = call.agent.first_name if call.agent else "the agent"
    text = " ".join(parts).replace("{agent}", first_name)
    if rng.random() < 0.1:  # typed in a hurry
        text = text.lower().rstrip(".")
    return text


def _responds(rng: random.Random, call: CallRecord) -> bool:
    if call.dialogue is not None:
        return call.dialogue.survey
    if call.direction == "outbound":
        return rng.random() < RESPONSE_OUTBOUND
    phenomena = call.phenomena
    rate = RESPONSE_RATE
    rate += RESPONSE_UNHAPPY * any(t in NEGATIVE for t in phenomena)
    rate += RESPONSE_ANGRY * any(t in ("broken-callback", "agent-rude") for t in phenomena)
    rate += RESPONSE_PRAISE * ("agent-praise" in phenomena)
    rate += RESPONSE_BY_TEAM.get(call.agent.team if call.agent else "", 0.0)
    return rng.random() < rate


def _fcr(rng: random.Random, call: CallRecord, called_before: bool, called_again: bool) -> bool:
    """The respondent's own "was it resolved on this contact?" answer."""
    if not call.resolved or called_again:
        p = 0.05
    elif called_before:
        p = 0.55
    elif "callback-promised" in call.tags:  # resolved, but waiting on a callback
        p = 0.75
    else:
        p = 0.92
    if call.transferred:
        p *= 0.6
    if "re-explain" in call.tags:
        p *= 0.8
    return rng.random() < p


def build_surveys(calls: Sequence[CallRecord], seed: int = DEFAULT_SEED) -> list[SurveyRecord]:
    """Post-call survey answers for about half of the handled calls, by submission time.

    Each call draws from its own stream (seed and call key), so adding or changing calls
    elsewhere does not reshuffle the answers; only comment wordings share one stream.
    """
    decks = _Decks(random.Random(f"callqa-demo:comments:{seed}"))
    by_customer: dict[str, list[CallRecord]] = {}
    for call in calls:
        if not call.abandoned:
            by_customer.setdefault(call.customer_id, []).append(call)

    surveys = []
    week = timedelta(days=7)
    for call in sorted(calls, key=lambda c: (c.started_at, c.key)):
        if call.abandoned:
            continue
        rng = random.Random(f"callqa-demo:survey:{seed}:{call.key}")
        if not _responds(rng, call):
            continue
        phenomena = call.phenomena
        csat = _clamp(
            CSAT_BASE + sum(CSAT_EFFECT.get(t, 0.0) for t in phenomena)
            + rng.gauss(0, CSAT_NOISE), 1, 5,
        )  # fmt: skip
        nps = _clamp(2.3 * csat - 1.8 + rng.gauss(0, 0.9), 0, 10)
        ces = _clamp(
            CES_BASE + sum(CES_EFFECT.get(t, 0.0) for t in phenomena) + rng.gauss(0, 0.5), 1, 7
        )
        # Only the customer's own calls count as calling again (not our callbacks).
        others = [c for c in by_customer[call.customer_id] if c is not call]
        others = [c for c in others if c.direction == "inbound"]
        called_again = any(timedelta(0) < c.started_at - call.started_at <= week for c in others)
        called_before = any(timedelta(0) < call.started_at - c.started_at <= week for c in others)
        fcr = _fcr(rng, call, called_before, called_again)
        comment = _comment(rng, decks, call, csat, repeat=called_before)
        delay = (
            timedelta(minutes=rng.randint(2, 30))
            if rng.random() < 0.6
            else timedelta(minutes=rng.randint(60, 20 * 60))
        )
        # Some respondents skip a question; NPS is the one most often left out.
        skip = [rng.random() for _ in range(4)]
        surveys.append(
            SurveyRecord(
                call_id=call.call_id,
                submitted_at=(call.ended_at + delay).replace(microsecond=0),
                csat=None if skip[0] < 0.03 else csat,
                nps=None if skip[1] < 0.15 else nps,
                ces=None if skip[2] < 0.10 else ces,
                fcr=None if skip[3] < 0.06 else fcr,
                comment=comment,
            )
        )
    surveys.sort(key=lambda s: (s.submitted_at, s.call_id))
    return surveys
