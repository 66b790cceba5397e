"""A generated telephony + survey export (``calls.csv``, ``surveys.csv``) with known effects and
free-text comments, for end-to-end checks of ``qa ingest`` -> ``qa tag`` -> ``qa why``.

``write_export(folder, n_calls=1500, seed=0)`` writes both files in the format ``qa ingest``
reads (DESIGN.md "Input formats"; no recordings) for a center where, by construction:

* about 28 % of calls are transferred (``transferred`` = yes). A transfer lowers CSAT by
  exactly 0.5 on average and the survey FCR rate by 30 points; it has no effect on NPS / CES;
* long waits (``wait_seconds`` > 120) co-occur with transfers (P = 0.7 with a transfer, 0.1
  without; other calls wait 5-60 s) and have **no** effect of their own on any outcome;
* about 70 % of calls answer the survey, and every survey has a comment written from the
  call's true events: a transferred call's comment mentions the transfer, a long-wait call's
  comment mentions the wait (often both in one sentence); other calls get neutral, product,
  praise or other-complaint comments.

Score effects are applied as in ``tests/synthetic.py``: whole-point shifts (a fractional
effect as a random extra point) from base distributions that never clip, so the expected
shift is exactly the effect; FCR is Bernoulli with the stated rates.

The phrase banks below were written for this module, independently of the taxonomy's
patterns and examples, and deliberately include paraphrases without the obvious keywords
("passed me on", "handed off", "on hold for ages", "forty minutes of music").

``python -m tests.synthetic_export OUT_DIR [--calls N] [--seed S]`` writes the files.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType

TRANSFER_RATE = 0.28
SURVEY_RATE = 0.70
LONG_WAIT_GIVEN_TRANSFER = 0.7
LONG_WAIT_OTHERWISE = 0.1
LONG_WAIT_SECONDS = 120.0
CSAT_EFFECT = -0.5
FCR_EFFECT = -0.30
FCR_BASE = 0.85
CSAT_BASE = ((3, 4, 5), (0.15, 0.35, 0.50))  # shifted by at most -1: never below 1
NPS_BASE = ((5, 6, 7, 8, 9, 10), (0.05, 0.10, 0.15, 0.25, 0.25, 0.20))
CES_BASE = ((1, 2, 3, 4), (0.3, 0.35, 0.25, 0.10))
ANSWERED = 0.95  # each score is answered with this probability (blank otherwise)
START = datetime(2024, 3, 4, 8, 0)
DAYS = 28
QUEUES = ("billing", "tech", "sales", "retention")
TEAMS = ("North", "South", "East")
AGENTS = tuple((f"a{i:02d}", f"Agent {i:02d}", TEAMS[i % 3]) for i in range(15))

TRANSFER_PHRASES: tuple[str, ...] = (
    "They passed me on to a different department.",
    "Was moved from one person to another.",
    "I got handed off to someone else halfway through my call.",
    "They sent me over to another team who couldn't help either.",
    "Got bounced between billing and technical support.",
    "I was connected to three different people in one call.",
    "Every person I spoke to just forwarded me to somebody else.",
    "Ended up speaking with four different reps before it was done.",
    "Kept getting shuffled around from desk to desk.",
    "I was sent over to sales, then back to where I started.",
    "They put me through to the wrong department and then to another one.",
    "The first lady handed me over to a colleague, who handed me over again.",
    "Nobody could deal with it so they kept passing me along.",
    "I was transferred twice before anyone could answer my question.",
    "Got redirected to another line three times.",
    "Your agent palmed me off onto a different section.",
)
"""A transferred call's comment uses one of these."""

WAIT_PHRASES: tuple[str, ...] = (
    "I was on hold for ages.",
    "Forty minutes of music before a human picked up.",
    "Sat listening to the same tune for half an hour.",
    "It took well over an hour to reach anyone.",
    "The wait to get through was ridiculous.",
    "Stuck in the queue for 35 minutes.",
    "It took forever for someone to answer the phone.",
    "I nearly gave up before somebody finally picked up.",
    "Spent most of my lunch break just trying to get through.",
    "Held for what felt like an eternity.",
    "The hold music went on and on and on.",
    "Had to wait 25 minutes just to speak to a person.",
    "My phone battery almost died before anyone came on the line.",
    "Heard 'your call is important to us' about fifty times.",
    "It was nearly an hour until I got to talk to somebody.",
)
"""A long-wait call's comment uses one of these."""

OTHER_PHRASES: tuple[str, ...] = (
    # neutral
    "Just rang to update my address.",
    "Routine call, nothing special to report.",
    "It was fine.",
    "Okay I guess.",
    "An average experience overall.",
    "Needed my account number and got it.",
    "Called to check when my contract ends.",
    "Asked a quick question about my direct debit date.",
    # product
    "The new app update keeps logging me out.",
    "My bill was higher than expected this month.",
    "Wanted to move to the cheaper package.",
    "The router you sent is working fine now.",
    "The parcel arrived a day later than promised.",
    "Your prices keep going up every year.",
    "The website is confusing to find anything on.",
    "The signal in my area is still patchy.",
    "Would like paper statements again please.",
    # praise
    "The lady I spoke to was lovely and very patient.",
    "Really helpful, thank you so much.",
    "Great service, sorted in no time.",
    "The agent knew exactly what to do.",
    "Friendly and professional from start to finish.",
    "He explained everything clearly.",
    "Best customer service I have had in a while.",
    "Got through right away, which was nice.",
    # other complaints
    "The agent sounded bored and uninterested.",
    "I felt a bit hurried at the end of the call.",
    "I still don't have the refund I was promised.",
    "Had to spell my surname about five times.",
    "The line kept crackling so it was hard to hear.",
    "The agent didn't seem to understand my problem.",
    "Nobody told me about the cancellation fee.",
    "The automated menu options didn't match my problem.",
)
"""Comments of calls without a transfer or a long wait (and extra sentences for the rest)."""

OPENERS: tuple[str, ...] = (
    "Called about my bill.",
    "Rang about my broadband.",
    "Phoned to cancel an add-on.",
    "First time calling.",
    "Long-time customer here.",
    "Where do I start.",
    "Honestly,",
    "Well,",
    "To be fair,",
    "Called about a missing payment.",
    "Rang regarding my new phone.",
)
CLOSERS: tuple[str, ...] = ("Thanks.", "Cheers.", "That's all.", "Rating accordingly.")
COMPLAINT_CLOSERS: tuple[str, ...] = (
    "Not impressed.",
    "Please sort it out.",
    "Could be better.",
    "Do better.",
    "Not good enough.",
    "Anyway, issue logged.",
)
"""Closers: any comment may end with ``CLOSERS``; those with an event with these too."""
JOINERS: tuple[str, ...] = (" and then ", ", then ", " and ", " and on top of that ")


@dataclass(frozen=True)
class ExportTruth:
    """What the generated export holds by construction.

    ``effects``: outcome -> driver -> true effect (score points for csat / nps / ces, a
    rate difference for fcr); ``transfer`` and ``long-wait`` name the call's true events.
    Id sets are call ids; ``comments`` maps each surveyed call to its comment and
    ``event_phrases`` to the transfer / wait phrasings it used (bank text).
    """

    n_calls: int
    n_surveys: int
    effects: Mapping[str, Mapping[str, float]]
    transferred: frozenset[str]
    long_wait: frozenset[str]
    surveyed: frozenset[str]
    mentions_transfer: frozenset[str]
    mentions_wait: frozenset[str]
    comments: Mapping[str, str]
    event_phrases: Mapping[str, tuple[str, ...]]

    @property
    def n_transferred(self) -> int:
        return len(self.transferred)

    @property
    def n_long_wait(self) -> int:
        return len(self.long_wait)

    @property
    def n_mention_transfer(self) -> int:
        return len(self.mentions_transfer)

    @property
    def n_mention_wait(self) -> int:
        return len(self.mentions_wait)


def true_effects() -> Mapping[str, Mapping[str, float]]:
    """Outcome -> driver -> effect, for the comment tags and the recorded event alike."""
    table = {
        "csat": {"transfer": CSAT_EFFECT, "long-wait": 0.0},
        "fcr": {"transfer": FCR_EFFECT, "long-wait": 0.0},
        "nps": {"transfer": 0.0, "long-wait": 0.0},
        "ces": {"transfer": 0.0, "long-wait": 0.0},
    }
    return MappingProxyType({k: MappingProxyType(v) for k, v in table.items()})


def _shift(rng: random.Random, effect: float) -> int:
    """A whole-point shift whose expectation is ``effect``."""
    whole = int(abs(effect))
    extra = 1 if rng.random() < abs(effect) - whole else 0
    return (whole + extra) * (1 if effect >= 0 else -1)


def _draw(rng: random.Random, base: tuple[tuple[int, ...], tuple[float, ...]]) -> int:
    return rng.choices(base[0], base[1])[0]


def _answered(rng: random.Random, value: object) -> str:
    return str(value) if rng.random() < ANSWERED else ""


def _lower_first(sentence: str) -> str:
    first = sentence.split(" ", 1)[0]
    if first == "I" or first.startswith("I'"):
        return sentence
    return sentence[0].lower() + sentence[1:]


def _events_text(rng: random.Random, events: list[str]) -> str:
    """The event sentences, shuffled; two of them often joined into one sentence."""
    rng.shuffle(events)
    if len(events) == 2 and rng.random() < 0.5:
        joiner = rng.choice(JOINERS)
        return events[0].rstrip(".") + joiner + _lower_first(events[1])
    return " ".join(events)


def _comment(rng: random.Random, transferred: bool, long_wait: bool) -> tuple[str, tuple[str, ...]]:
    """A comment written from the call's events, and the event phrasings it used."""
    events = []
    if transferred:
        events.append(rng.choice(TRANSFER_PHRASES))
    if long_wait:
        events.append(rng.choice(WAIT_PHRASES))
    used = tuple(events)
    parts = []
    if rng.random() < 0.4:
        parts.append(rng.choice(OPENERS))
    if events:
        parts.append(_events_text(rng, list(events)))
        if rng.random() < 0.3:
            parts.append(rng.choice(OTHER_PHRASES))
    else:
        parts.extend(rng.sample(OTHER_PHRASES, 2 if rng.random() < 0.3 else 1))
    if rng.random() < 0.4:
        parts.append(rng.choice(CLOSERS + (COMPLAINT_CLOSERS if events else ())))
    text = " ".join(parts)
    if parts[0] in ("Honestly,", "Well,", "To be fair,") and len(parts) > 1:
        text = parts[0] + " " + _lower_first(" ".join(parts[1:]))
    if rng.random() < 0.1:
        text = text.lower()
    return text, used


CALL_HEADER = (
    "call_id", "started_at", "agent_id", "agent_name", "team", "queue", "customer_id",
    "direction", "wait_seconds", "talk_seconds", "hold_seconds", "acw_seconds", "abandoned",
    "transferred", "recording",
)  # fmt: skip
SURVEY_HEADER = ("call_id", "submitted_at", "csat", "nps", "ces", "fcr", "comment")


def write_export(folder: Path, n_calls: int = 1500, seed: int = 0) -> ExportTruth:
    """Write ``folder/calls.csv`` and ``folder/surveys.csv`` (see module docstring)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    calls: list[dict[str, str]] = []
    surveys: list[dict[str, str]] = []
    transferred_ids, wait_ids, surveyed = set(), set(), set()
    comments: dict[str, str] = {}
    phrases: dict[str, tuple[str, ...]] = {}
    for i in range(n_calls):
        cid = f"X{i:05d}"
        at = START + timedelta(days=rng.randrange(DAYS), seconds=rng.uniform(0, 12 * 3600))
        agent_id, agent_name, team = rng.choice(AGENTS)
        transferred = rng.random() < TRANSFER_RATE
        p_long = LONG_WAIT_GIVEN_TRANSFER if transferred else LONG_WAIT_OTHERWISE
        long_wait = rng.random() < p_long
        wait = rng.uniform(180, 2700) if long_wait else rng.uniform(5, 60)
        talk = rng.lognormvariate(5.6, 0.4) + (90 if transferred else 0)
        hold, acw = rng.uniform(0, 90), rng.uniform(15, 60)
        calls.append({
            "call_id": cid, "started_at": at.isoformat(timespec="seconds"),
            "agent_id": agent_id, "agent_name": agent_name, "team": team,
            "queue": rng.choice(QUEUES), "customer_id": f"K{i:05d}", "direction": "inbound",
            "wait_seconds": f"{wait:.0f}", "talk_seconds": f"{talk:.0f}",
            "hold_seconds": f"{hold:.0f}", "acw_seconds": f"{acw:.0f}",
            "abandoned": "no", "transferred": "yes" if transferred else "no", "recording": "",
        })  # fmt: skip
        if transferred:
            transferred_ids.add(cid)
        if long_wait:
            wait_ids.add(cid)
        if rng.random() >= SURVEY_RATE:
            continue
        surveyed.add(cid)
        csat = _draw(rng, CSAT_BASE) + (_shift(rng, CSAT_EFFECT) if transferred else 0)
        p_fcr = FCR_BASE + (FCR_EFFECT if transferred else 0.0)
        fcr = rng.random() < p_fcr
        nps, ces = _draw(rng, NPS_BASE), _draw(rng, CES_BASE)
        text, used = _comment(rng, transferred, long_wait)
        comments[cid], phrases[cid] = text, used
        submitted = at + timedelta(minutes=rng.uniform(10, 600))
        surveys.append({
            "call_id": cid, "submitted_at": submitted.isoformat(timespec="seconds"),
            "csat": _answered(rng, csat), "nps": _answered(rng, nps), "ces": _answered(rng, ces),
            "fcr": _answered(rng, "yes" if fcr else "no"), "comment": text,
        })  # fmt: skip
    _write(folder / "calls.csv", CALL_HEADER, calls)
    _write(folder / "surveys.csv", SURVEY_HEADER, surveys)
    return ExportTruth(
        n_calls=n_calls,
        n_surveys=len(surveys),
        effects=true_effects(),
        transferred=frozenset(transferred_ids),
        long_wait=frozenset(wait_ids),
        surveyed=frozenset(surveyed),
        mentions_transfer=frozenset(transferred_ids & surveyed),
        mentions_wait=frozenset(wait_ids & surveyed),
        comments=MappingProxyType(comments),
        event_phrases=MappingProxyType(phrases),
    )


def _write(path: Path, header: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    truth = write_export(args.out_dir, n_calls=args.calls, seed=args.seed)
    print(
        f"{args.out_dir}: {truth.n_calls} calls, {truth.n_surveys} surveys; "
        f"{truth.n_transferred} transferred, {truth.n_long_wait} long waits; comments "
        f"mentioning a transfer {truth.n_mention_transfer}, a wait {truth.n_mention_wait}"
    )


if __name__ == "__main__":
    main()
