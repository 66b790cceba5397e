"""A generated call center where who answers the survey is not random, with the truth known.

``population(seed, n)`` makes ``n`` calls (about 5 % abandoned). Every handled call gets a
*latent* CSAT / NPS / CES - what the customer would have answered - and only respondents
reveal theirs (``SurveyFact``). By construction:

* about 30 % of calls are transferred (40 % in the tech queue); a transfer lowers the latent
  CSAT by about one point and lengthens the call;
* ``re-explain`` (a transcript tag) is on 35 % of transferred calls and 12 % of the rest and
  lowers CSAT by about half a point;
* answering: ``logit P = -1.6 + 1.3 transferred + 0.5 re-explain + 0.5 z(log talk) +
  0.3 billing`` - transferred, long and re-explained calls answer far more often, so the raw
  CSAT mean is biased low. Answering depends only on what callqa sees (the method's
  assumption holds);
* every respondent also has a comment tag (``comment:said-something``), as a comment can only
  exist on an answered survey.

``Population.truth`` holds each KPI over *all* handled calls' latent answers (csat_mean,
csat_pct, nps, ces_mean).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from qa.metrics.base import CallFact, SurveyFact

T0 = datetime(2026, 3, 2, 8, 0)
QUEUES = (("billing", 0.4), ("tech", 0.35), ("sales", 0.25))
COMMENT_TAG = "comment:said-something"


@dataclass
class Population:
    """Calls, the surveys of the respondents, tags, and the all-caller truth."""

    calls: list[CallFact] = field(default_factory=list)
    surveys: list[SurveyFact] = field(default_factory=list)
    transcript_tags: dict[str, set[str]] = field(default_factory=dict)
    comment_tags: dict[str, set[str]] = field(default_factory=dict)
    truth: dict[str, float] = field(default_factory=dict)

    @property
    def all_tags(self) -> dict[str, set[str]]:
        """Transcript and comment tags together (what ``load_call_tags`` gives)."""
        ids = set(self.transcript_tags) | set(self.comment_tags)
        return {
            i: self.transcript_tags.get(i, set()) | self.comment_tags.get(i, set()) for i in ids
        }


def _clip(value: float, low: int, high: int) -> int:
    return int(min(high, max(low, round(value))))


def population(seed: int, n: int = 20000) -> Population:
    """The population of the module docstring (deterministic for a ``seed``)."""
    rng = random.Random(seed)
    out = Population()
    latent: list[tuple[int, int, int]] = []
    for i in range(n):
        cid = f"S{seed}-{i:05d}"
        queue = rng.choices([q for q, _ in QUEUES], [w for _, w in QUEUES])[0]
        transferred = rng.random() < (0.4 if queue == "tech" else 0.27)
        talk = math.exp(rng.gauss(5.7 + (0.4 if transferred else 0.0), 0.45))
        abandoned = rng.random() < 0.05
        call = CallFact(
            external_id=cid,
            started_at=T0 + timedelta(minutes=2 * i),
            customer_id=f"cu{i}",
            agent_id=f"a{i % 12}",
            agent_name=f"Agent {i % 12}",
            team=("red", "blue")[i % 12 % 2],
            queue=queue,
            wait_seconds=0.0 if abandoned else rng.expovariate(1 / 40),
            talk_seconds=0.0 if abandoned else talk,
            hold_seconds=0.0 if abandoned else rng.choice([0.0, 0.0, rng.uniform(10, 200)]),
            acw_seconds=0.0 if abandoned else 30.0,
            abandoned=abandoned,
            transferred=transferred and not abandoned,
        )
        out.calls.append(call)
        if abandoned:
            continue
        explain = rng.random() < (0.35 if transferred else 0.12)
        if explain:
            out.transcript_tags[cid] = {"re-explain"}
        mood = rng.gauss(0, 0.8)
        csat = _clip(
            4.3 - 1.0 * transferred - 0.5 * explain + 0.2 * (queue == "sales") + mood, 1, 5
        )
        nps = _clip(2.0 * csat - 1 + rng.gauss(0, 1.2), 0, 10)
        ces = _clip(2.0 + 1.2 * transferred + 0.6 * explain + rng.gauss(0, 1.0), 1, 7)
        latent.append((csat, nps, ces))
        z_talk = (math.log(talk) - 5.82) / 0.47
        logit = -1.6 + 1.3 * transferred + 0.5 * explain + 0.5 * z_talk + 0.3 * (queue == "billing")
        if rng.random() < 1 / (1 + math.exp(-logit)):
            out.surveys.append(SurveyFact(cid, csat, nps, ces, None))
            out.comment_tags[cid] = {COMMENT_TAG}
    csats = [c for c, _, _ in latent]
    npss = [p for _, p, _ in latent]
    out.truth = {
        "csat_mean": sum(csats) / len(csats),
        "csat_pct": sum(1 for c in csats if c >= 4) / len(csats),
        "nps": 100 * (sum(p >= 9 for p in npss) - sum(p <= 6 for p in npss)) / len(npss),
        "ces_mean": sum(c for _, _, c in latent) / len(latent),
    }
    return out
