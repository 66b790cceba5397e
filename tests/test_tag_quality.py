"""Tag quality from reviewer decisions (``qa.why.quality``) in a real database, and the
mis-tagging correction (``qa.why.sensitivity``) against hand-computed values."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from sqlmodel import Session

from qa.why.quality import load_tag_quality, tag_quality
from qa.why.results import Driver, TagQuality
from qa.why.sensitivity import correction_factor, sensitivity
from qa.why.stats import analyse_frame, wilson_interval

# --- precision and recall from decisions -----------------------------------------------------


def test_counts_from_decisions_in_the_database(engine) -> None:  # type: ignore[no-untyped-def]
    from qa.store.schema import Call, Tag
    from qa.store.writes import record_tag_decision

    with Session(engine) as session:
        calls = [Call(external_id=f"q{i}", started_at=datetime(2024, 5, 1, 9, i)) for i in range(8)]
        session.add_all(calls)
        session.flush()
        ids = [c.id for c in calls]
        machine = {0: "rule", 1: "rule", 2: "model", 3: "rule", 7: "rule"}  # transfer hits
        for i, method in machine.items():
            session.add(Tag(call_id=ids[i], tag="transfer", method=method))
        session.add(Tag(call_id=ids[0], tag="transfer", method="model"))  # two hits, one call
        session.add(Tag(call_id=ids[5], tag="transfer", method="rule", present=False))  # no hit
        session.add(Tag(call_id=ids[6], tag="long-wait", method="rule"))  # never decided
        session.flush()
        decide = {0: True, 1: True, 2: False, 4: True, 5: True, 6: False}
        for i, present in decide.items():
            record_tag_decision(session=session, call_id=ids[i], tag="transfer", present=present)
        # two decisions on one call: both kept, the later one counts
        record_tag_decision(session=session, call_id=ids[7], tag="transfer", present=True)
        record_tag_decision(session=session, call_id=ids[7], tag="transfer", present=False)
        session.commit()
        quality = load_tag_quality(session)

    # confirmed: q0, q1 (machine hits kept); rejected: q2, q7 (latest decision); added: q4,
    # q5 (a present=False machine row is no hit); q6: "absent" with no hit measures nothing
    q = quality["transfer"]
    assert (q.confirmed, q.rejected, q.added) == (2, 2, 2)
    assert (q.reviewed, q.found, q.decisions) == (4, 4, 6)
    assert q.precision == 0.5 and q.recall == 0.5
    assert (q.precision_low, q.precision_high) == pytest.approx(wilson_interval(2, 4))
    assert (q.recall_low, q.recall_high) == pytest.approx(wilson_interval(2, 4))
    assert set(quality) == {"transfer"}  # no decision on long-wait: no measured quality


def test_rates_are_none_without_their_denominator() -> None:
    only_added = tag_quality([(1, "rude", True, False), (2, "rude", False, False)])["rude"]
    assert only_added.precision is None and only_added.recall == 0.0
    only_rejected = tag_quality([(1, "rude", False, True)])["rude"]
    assert only_rejected.recall is None and only_rejected.precision == 0.0
    assert tag_quality([(1, "rude", False, False)])["rude"].decisions == 0


# --- the correction ---------------------------------------------------------------------------


def test_correction_factor_closed_form() -> None:
    # PPV 1, recall 0.5, 20 % tagged: P(E) = 0.2 * 1 / 0.5 = 0.4,
    # P(E | not tagged) = (1 - 0.5) * 0.4 / 0.8 = 0.25, factor = 1 - 0.25 = 0.75
    assert correction_factor(0.2, 1.0, 0.5) == pytest.approx(0.75)
    # PPV 0.9, recall 0.7, 20 % tagged: P(E) = 0.18 / 0.7, P(E | not) = 0.3 * P(E) / 0.8
    assert correction_factor(0.2, 0.9, 0.7) == pytest.approx(0.9 - 0.3 * (0.18 / 0.7) / 0.8)
    assert correction_factor(0.2, 1.0, 1.0) == 1.0  # a perfect tag needs no correction
    assert correction_factor(0.6, 1.0, 0.5) is None  # P(E) = 1.2: impossible
    assert correction_factor(0.0, 1.0, 0.5) is None


def test_observed_effect_is_attenuated_by_the_factor() -> None:
    """A population built to the numbers: 1000 calls, the event on 400, tagged on 200 of
    them (PPV 1, recall 0.5, 20 % tagged), the event costs exactly 1 point."""
    event = [1] * 400 + [0] * 600
    tagged = [1] * 200 + [0] * 800
    y = [4.0 - e + 0.5 * (i % 2) for i, e in enumerate(event)]  # noise unrelated to the tag
    frame = pd.DataFrame({"y": y, "t": tagged, "queue": "q", "team": "A", "agent_id": "a",
                          "call_seconds": 60.0})  # fmt: skip
    observed = analyse_frame(frame, outcome="csat", features=["t"], controls=()).drivers[0]
    assert observed.adjusted_effect == pytest.approx(-0.75)
    result = sensitivity(observed, "csat", None, assume_recall=0.5)
    assert result.factor == pytest.approx(0.75) and result.effect == pytest.approx(-1.0)
    assert result.low == pytest.approx(observed.adjusted_ci_low / 0.75)


def _driver(**fields) -> Driver:  # type: ignore[no-untyped-def]
    base = {"tag": "transfer", "status": "ok", "n_with": 200, "n_without": 800,
            "prevalence": 0.2, "adjusted_effect": -0.75, "adjusted_ci_low": -0.9,
            "adjusted_ci_high": -0.6}  # fmt: skip
    return Driver(**{**base, **fields})


def test_sensitivity_lines() -> None:
    assumed = sensitivity(_driver(), "csat", None, assume_recall=0.5)
    assert (assumed.recall, assumed.precision, assumed.source) == (0.5, 1.0, "assumed")
    assert (assumed.low, assumed.high) == pytest.approx((-1.2, -0.8))
    assert assumed.line == (
        "if this tag's recall is 0.50 (assumed; precision 1.00 assumed), the true effect lies "
        "in [-1.20, -0.80] points"
    )
    measured = TagQuality("transfer", 27, 3, 12, 0.9, 0.75, 0.97, 0.7, 0.55, 0.82)
    got = sensitivity(_driver(), "csat", measured, assume_recall=0.5)
    factor = 0.9 - 0.3 * (0.18 / 0.7) / 0.8
    assert got.source == "measured" and got.factor == pytest.approx(factor)
    assert got.line == (
        "if this tag's recall is 0.70 (precision 0.90, measured from 42 decisions), the true "
        f"effect lies in [{-0.9 / factor:+.2f}, {-0.6 / factor:+.2f}] points"
    )
    rate = sensitivity(_driver(adjusted_ci_low=-0.3, adjusted_ci_high=-0.1), "fcr", None, 0.5)
    assert rate.line.endswith("[-40.0, -13.3] pp")  # rate differences in points


def test_too_noisy_and_not_said() -> None:
    noisy = sensitivity(_driver(prevalence=0.5), "csat", None, assume_recall=0.5)  # factor 0
    assert noisy.factor is None and noisy.low is None
    assert "too noisy to correct" in noisy.line
    assert sensitivity(_driver(kind="recorded"), "csat", None, 0.7) is None
    assert sensitivity(_driver(adjusted_effect=None), "csat", None, 0.7) is None
    as_json = _driver(sensitivity=noisy).to_dict()
    assert as_json["quality_source"] == "assumed" and as_json["corrected_low"] is None
    assert as_json["precision"] is None  # no decisions measured this tag
