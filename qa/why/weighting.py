"""``qa why --weighted``: survey drivers weighted for who answers, so a driver's effect
describes all callers rather than the customers who answered.

Each row of a survey outcome's frame is one answer; it gets the response weight of its call
(``qa.metrics.response``: 1 / P(answer), from a logistic model on what every handled call
has, trimmed). ``qa.why.stats.analyse_frame(weight=WEIGHT_COLUMN)`` then weighs the means,
prevalences and effects, and the adjusting regression becomes weighted least squares
(``wls-hc3``). Answers on abandoned calls carry no weight (no response model covers them)
and are left out. Same assumption as the weighted KPIs: answering depends only on what
callqa sees.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from qa.why.data import DriverData

if TYPE_CHECKING:
    from sqlmodel import Session

    from qa.metrics.response import ResponseWeights

WEIGHT_COLUMN = "response_weight"
SURVEY_OUTCOMES = ("csat", "nps", "ces", "fcr")
"""Outcomes that come from the survey, so can be weighted for who answers."""


def check_weightable(outcome: str) -> None:
    """``ValueError`` naming the survey outcomes unless ``outcome`` is one of them."""
    if outcome not in SURVEY_OUTCOMES:
        raise ValueError(
            f"--weighted applies to survey outcomes only, not {outcome!r}; choose one of: "
            f"{', '.join(SURVEY_OUTCOMES)}"
        )


def with_weights(data: DriverData, response: ResponseWeights) -> DriverData:
    """``data`` restricted to answers with a response weight, the weight in
    ``WEIGHT_COLUMN``; ``ValueError`` when nothing could be modelled."""
    check_weightable(data.outcome)
    if not response.modelled:
        raise ValueError(f"cannot weight for who answers: {response.note}")
    if WEIGHT_COLUMN in data.features:
        raise ValueError(f"a feature is named {WEIGHT_COLUMN!r}, the weight column's name")
    frame = data.frame.copy()
    frame[WEIGHT_COLUMN] = frame["external_id"].map(response.weights)
    frame = frame[frame[WEIGHT_COLUMN].notna()].reset_index(drop=True)
    return DriverData(data.outcome, frame, data.features, data.kinds)


def load_weights(
    session: Session, since: datetime | None = None, until: datetime | None = None
) -> ResponseWeights:
    """The response model of the handled calls starting in ``[since, until)``."""
    from qa.metrics.facts import load_facts
    from qa.metrics.kpis import filter_calls
    from qa.metrics.response import response_weights
    from qa.metrics.transcript_tags import load_transcript_tags

    history, surveys = load_facts(session)
    return response_weights(
        filter_calls(history, since, until), surveys, load_transcript_tags(session)
    )
