"""Synthetic calls, surveys and tags with known effects, for testing driver analysis.

``make_synthetic(n_calls=2000, seed=0)`` builds a call center where, by construction:

* ``re-explain`` lowers CSAT by exactly 1.0 point (raises CES by 2, lowers the 0-10 NPS
  answer by 2);
* ``transfer`` lowers the survey FCR rate by 30 points (and CSAT by 0.5 on average);
* ``long-wait`` has no effect at all, but co-occurs strongly with ``transfer``
  (P = 0.7 with a transfer, 0.1 without), so its *unadjusted* effect is confounded;
* ``broken-callback`` raises the repeat-contact probability by 25 points;
* ``rushed`` has no effect; ``agent-rude`` is too rare to test (about 0.2 % of calls);
* the ``billing`` queue has lower CSAT *and* more ``re-explain`` (a confounder that the
  queue control removes).

Score effects are applied as whole-point shifts (a fractional effect as a random extra
point), from base distributions chosen so that no shifted score is clipped: the expected
shift is exactly the effect. Binary outcomes are Bernoulli with the stated rates.

The phone system's own fields agree with the true events: ``transferred`` is set on every
``transfer`` call and ``long-wait`` calls waited 240 s more (so ``call:transferred`` and
``call:wait>120s`` mark the same calls as those tags). ``tag_recall`` makes the *tags* miss
events, as a tagger does (the issue-11 export: 92 of 280 transfers tagged), while effects,
``transferred`` and waits still follow the true events; the misses come from their own
random stream, so the calls, surveys and true events are those of the same seed without it.

Repeat contacts: calls come in per-customer chains; after each call the same customer
calls again 2-40 h later with probability ``REPEAT_BASE`` + effects, so every call's
``repeated`` flag (``qa.metrics.contacts.contact_flags``, 48 h window) follows the model exactly.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from qa.metrics.base import CallFact, SurveyFact

QUEUES = ("billing", "tech", "sales")
TEAMS = ("A", "B", "C")
AGENTS = tuple((f"ag{i:02d}", f"Agent {i:02d}", TEAMS[i % 3]) for i in range(12))
PREVALENCE: Mapping[str, float] = MappingProxyType(
    {"re-explain": 0.2, "transfer": 0.25, "broken-callback": 0.1, "rushed": 0.15,
     "agent-rude": 0.002}
)  # fmt: skip
"""Tag probabilities per call (``re-explain`` x1.75 in billing); ``long-wait`` see below."""
LONG_WAIT_GIVEN_TRANSFER = 0.7
LONG_WAIT_OTHERWISE = 0.1
REPEAT_BASE = 0.15
FCR_BASE = 0.85
CSAT_BASE = {"billing": (0.3, 0.4, 0.3), "other": (0.15, 0.35, 0.5)}  # P(3), P(4), P(5)


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class SyntheticEffects:
    """True effect of each tag on each outcome (score points; rate differences as fractions)."""

    csat: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"re-explain": -1.0, "transfer": -0.5})
    )
    ces: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"re-explain": 2.0, "transfer": 1.0})
    )
    nps: Mapping[str, float] = field(default_factory=lambda: _frozen({"re-explain": -2.0}))
    fcr: Mapping[str, float] = field(default_factory=lambda: _frozen({"transfer": -0.30}))
    repeat: Mapping[str, float] = field(default_factory=lambda: _frozen({"broken-callback": 0.25}))


@dataclass(frozen=True)
class SyntheticData:
    """Calls, surveys and effective tags (external id -> tag names)."""

    calls: tuple[CallFact, ...]
    surveys: tuple[SurveyFact, ...]
    tags: Mapping[str, frozenset[str]]
    effects: SyntheticEffects

    def insert(self, session) -> None:  # type: ignore[no-untyped-def]
        """Store everything as ``Call`` / ``Survey`` / ``Tag`` rows (machine tags) and commit."""
        from qa.store.calltags import refresh_call_tags
        from qa.store.schema import Call, Survey, Tag

        rows = [
            Call(**{f: getattr(c, f) for f in CallFact.__dataclass_fields__}, status="tagged")
            for c in self.calls
        ]
        session.add_all(rows)
        session.flush()
        for row in rows:
            for name in sorted(self.tags.get(row.external_id, ())):
                session.add(Tag(call_id=row.id, tag=name, method="rule", evidence=name))
        session.flush()
        # What every writer of hits does: the calls' effective tags (read by qa.why).
        refresh_call_tags(session, [row.id for row in rows])
        for s in self.surveys:
            session.add(Survey(**{f: getattr(s, f) for f in SurveyFact.__dataclass_fields__}))
        session.commit()


def _shift(rng: random.Random, effect: float) -> int:
    """A whole-point shift whose expectation is ``effect``."""
    whole = int(abs(effect))
    extra = 1 if rng.random() < abs(effect) - whole else 0
    return (whole + extra) * (1 if effect >= 0 else -1)


def _choice(rng: random.Random, values: tuple[int, ...], weights: tuple[float, ...]) -> int:
    return rng.choices(values, weights)[0]


def _draw_tags(rng: random.Random, queue: str, prevalence: Mapping[str, float]) -> set[str]:
    tags = set()
    for name, p in prevalence.items():
        if name == "re-explain" and queue == "billing":
            p = min(1.0, p * 1.75)
        if rng.random() < p:
            tags.add(name)
    p_wait = LONG_WAIT_GIVEN_TRANSFER if "transfer" in tags else LONG_WAIT_OTHERWISE
    if rng.random() < p_wait:
        tags.add("long-wait")
    return tags


def _survey(
    rng: random.Random, call_id: str, queue: str, tags: set[str], effects: SyntheticEffects
) -> SurveyFact:
    def total(table: Mapping[str, float]) -> int:
        return sum(_shift(rng, e) for t, e in table.items() if t in tags)

    def answered(value: int) -> int | None:
        return value if rng.random() < 0.95 else None

    base = CSAT_BASE["billing" if queue == "billing" else "other"]
    csat = min(5, max(1, _choice(rng, (3, 4, 5), base) + total(effects.csat)))
    ces = min(7, max(1, _choice(rng, (1, 2, 3), (0.4, 0.4, 0.2)) + total(effects.ces)))
    nps = min(10, max(0, _choice(rng, (6, 7, 8, 9, 10), (0.1, 0.15, 0.25, 0.25, 0.25))
                      + total(effects.nps)))  # fmt: skip
    p_fcr = FCR_BASE + sum(e for t, e in effects.fcr.items() if t in tags)
    fcr = rng.random() < min(1.0, max(0.0, p_fcr))
    return SurveyFact(call_id, answered(csat), answered(nps), answered(ces),
                      fcr if rng.random() < 0.95 else None)  # fmt: skip


def make_synthetic(
    n_calls: int = 2000,
    seed: int = 0,
    effects: SyntheticEffects | None = None,
    *,
    start: datetime = datetime(2024, 1, 1),
    days: int = 56,
    prevalence: Mapping[str, float] | None = None,
    survey_rate: float = 0.6,
    talk_scale: float = 1.0,
    id_prefix: str = "S",
    tag_recall: Mapping[str, float] | None = None,
) -> SyntheticData:
    """``n_calls`` calls spread over ``days`` days from ``start`` (see module docstring).

    ``prevalence`` overrides tag probabilities (merged with ``PREVALENCE``); ``talk_scale``
    scales talk time (AHT); ``id_prefix`` keeps ids unique when combining datasets;
    ``tag_recall``: tag -> probability that a call with the event gets the tag (default 1).
    """
    effects = effects or SyntheticEffects()
    rng = random.Random(seed)
    misses = random.Random(seed + 7919)  # its own stream: the true events do not change
    recall = dict(tag_recall or {})
    rates = {**PREVALENCE, **(prevalence or {})}
    calls: list[CallFact] = []
    surveys: list[SurveyFact] = []
    tags: dict[str, frozenset[str]] = {}
    span = days * 86400.0
    customer = 0
    while len(calls) < n_calls:
        customer += 1
        at = start + timedelta(seconds=rng.uniform(0, span))
        while len(calls) < n_calls:
            cid = f"{id_prefix}{len(calls):05d}"
            queue = rng.choice(QUEUES)
            agent_id, agent_name, team = rng.choice(AGENTS)
            drawn = _draw_tags(rng, queue, rates)
            abandoned = rng.random() < 0.02
            talk = rng.lognormvariate(5.5, 0.4) * talk_scale + (120 if "transfer" in drawn else 0)
            calls.append(CallFact(
                external_id=cid, started_at=at, customer_id=f"{id_prefix}C{customer:05d}",
                agent_id=agent_id, agent_name=agent_name, team=team, queue=queue,
                wait_seconds=rng.uniform(5, 40) + (240 if "long-wait" in drawn else 0),
                talk_seconds=0.0 if abandoned else round(talk, 1),
                hold_seconds=0.0 if abandoned else round(rng.uniform(0, 60), 1),
                acw_seconds=0.0 if abandoned else round(rng.uniform(20, 60), 1),
                abandoned=abandoned, transferred="transfer" in drawn,
            ))  # fmt: skip
            tags[cid] = frozenset(t for t in sorted(drawn) if misses.random() < recall.get(t, 1.0))
            if not abandoned and rng.random() < survey_rate:
                surveys.append(_survey(rng, cid, queue, drawn, effects))
            p_repeat = REPEAT_BASE + sum(e for t, e in effects.repeat.items() if t in drawn)
            if rng.random() >= min(1.0, max(0.0, p_repeat)):
                break
            at += timedelta(hours=rng.uniform(2, 40))
    calls.sort(key=lambda c: (c.started_at, c.external_id))
    return SyntheticData(tuple(calls), tuple(surveys), MappingProxyType(tags), effects)


def combine(*parts: SyntheticData) -> SyntheticData:
    """One dataset from several (e.g. two periods with different prevalences)."""
    calls = tuple(sorted((c for p in parts for c in p.calls), key=lambda c: c.started_at))
    tags = {cid: names for p in parts for cid, names in p.tags.items()}
    return SyntheticData(
        calls, tuple(s for p in parts for s in p.surveys), MappingProxyType(tags), parts[0].effects
    )
