"""Survey bias check: finds an injected difference, stays quiet on a null one (fixed seeds)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from qa.metrics.base import CallFact, SurveyFact
from qa.metrics.bias import survey_bias

T0 = datetime(2026, 11, 2, 8, 0)


def population(seed: int, n: int = 400, *, biased: bool) -> tuple[list, list, dict]:
    """``n`` handled calls; 40 % answer a survey. When ``biased``, respondents had longer
    calls and far more ``re-explain`` (the calls that annoyed people get the answers)."""
    rng = random.Random(seed)
    calls, surveys, tags = [], [], {}
    for i in range(n):
        answered = rng.random() < 0.4
        shift = biased and answered
        cid = f"C{i:04d}"
        calls.append(
            CallFact(
                external_id=cid,
                started_at=T0 + timedelta(minutes=7 * i),
                customer_id=f"cu{i}",
                agent_id="a1",
                agent_name="Ann",
                team=rng.choice(["red", "blue"]),
                queue=rng.choice(["billing", "tech", "sales"]),
                wait_seconds=rng.expovariate(1 / 40),
                talk_seconds=rng.gauss(420 if shift else 300, 60),
                hold_seconds=rng.choice([0.0, 0.0, rng.uniform(10, 200)]),
                acw_seconds=30.0,
                abandoned=False,
                transferred=rng.random() < 0.15,
            )
        )
        call_tags = set()
        if rng.random() < (0.35 if shift else 0.10):
            call_tags.add("re-explain")
        if rng.random() < 0.2:
            call_tags.add("agent-praise")
        tags[cid] = call_tags
        if answered:
            surveys.append(SurveyFact(cid, rng.randint(1, 5), None, None, None))
    return calls, surveys, tags


def test_detects_injected_difference():
    calls, surveys, tags = population(4, biased=True)
    report = survey_bias(calls, surveys, tags)
    flagged = {r.feature for r in report.rows if r.significant}
    assert flagged == {"talk_seconds", "re-explain"}
    talk = next(r for r in report.rows if r.feature == "talk_seconds")
    assert talk.test == "mann-whitney" and talk.difference == pytest.approx(120, abs=25)
    assert talk.q_value is not None and talk.q_value < 1e-6
    explain = next(r for r in report.rows if r.feature == "re-explain")
    assert explain.test == "chi-square" and explain.difference == pytest.approx(0.25, abs=0.08)
    assert any(w.startswith("talk time: median") for w in report.warnings)
    assert any(w.startswith("tag re-explain:") for w in report.warnings)
    assert report.n_surveyed + report.n_not_surveyed == 400
    assert report.n_surveyed == len(surveys) and report.response_rate == len(surveys) / 400


def test_null_population_raises_no_warning():
    calls, surveys, tags = population(4, biased=False)
    report = survey_bias(calls, surveys, tags)
    features = {r.feature for r in report.rows}
    assert {
        "talk_seconds",
        "hold_seconds",
        "wait_seconds",
        "transferred",
        "re-explain",
        "agent-praise",
        "team",
        "queue",
    } == features
    assert report.warnings == ()
    assert all(r.q_value is not None and r.q_value >= r.p_value for r in report.rows)


def test_bh_adjustment_and_small_samples():
    calls, surveys, tags = population(3, n=12, biased=True)
    report = survey_bias(calls, surveys, tags, min_group=5)
    assert report.rows == () and "too few calls" in report.note
    # rare tags use Fisher's exact test
    calls, surveys, tags = population(5, n=60, biased=False)
    tags = {cid: ({"rushed"} if i < 6 else set()) for i, cid in enumerate(tags)}
    row = next(r for r in survey_bias(calls, surveys, tags).rows if r.feature == "rushed")
    assert row.test == "fisher"


def test_abandoned_calls_are_left_out_and_alpha_validated():
    calls, surveys, tags = population(7, n=40, biased=False)
    calls[0] = CallFact(**{**calls[0].__dict__, "abandoned": True})
    report = survey_bias(calls, surveys, tags)
    assert report.n_surveyed + report.n_not_surveyed == 39
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        survey_bias(calls, surveys, tags, alpha=5)
