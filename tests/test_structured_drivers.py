"""Structured drivers (``qa.why.structured``): each ``call:`` flag on hand-made calls, their
agreement with the one contact-linking definition, the twin rule (``qa.why.twins``), and the
said / recorded marking in the frame, the report and the Insights tab."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from qa.metrics.base import OUTBOUND, CallFact, SurveyFact
from qa.metrics.contacts import contact_flags
from qa.why.data import frame_from_facts
from qa.why.stats import analyse_frame
from qa.why.structured import CallDriverOptions, call_feature_names, call_features
from qa.why.twins import TWINS, twins_of
from tests.synthetic import make_synthetic

T0 = datetime(2024, 5, 6, 9, 0)


def _call(cid: str, customer: str, hours: float, **fields) -> CallFact:  # type: ignore[no-untyped-def]
    base = {
        "external_id": cid, "started_at": T0 + timedelta(hours=hours), "customer_id": customer,
        "agent_id": "a1", "agent_name": "Agent 1", "team": "A", "queue": "tech",
        "wait_seconds": 10.0, "talk_seconds": 300.0, "hold_seconds": 0.0, "acw_seconds": 30.0,
        "abandoned": False, "transferred": False,
    }  # fmt: skip
    return CallFact(**{**base, **fields})


CALLS = (
    _call("a1", "A", 0, transferred=True, wait_seconds=25, hold_seconds=130),
    _call("a2", "A", 10, wait_seconds=150),  # repeats handled a1 (10 h < 48 h)
    _call("b1", "B", 0, abandoned=True, talk_seconds=0),
    _call("b2", "B", 5),  # after abandoned b1
    _call("b3", "B", 6),  # after handled b2 and abandoned b1 (both within 48 h): both flags
    _call("c1", "C", 0),
    _call("c2", "C", 60),  # 60 h after c1: outside the window, neither flag
    _call("n1", "", 1),  # no customer id: never linked
    _call("d1", "D", 0, direction=OUTBOUND),  # an outbound call is not a contact to repeat
    _call("d2", "D", 1),
    _call("e1", "E", 0, transferred=True),
    _call("e2", "E", 0.05),  # a transfer leg of e1 (starts while e1 is in progress)
    _call("f1", "F", 0),
    _call("f2", "F", 48),  # exactly W later: still a repeat ("at most W earlier")
    _call("g1", "G", 70),  # a chain g1 -> g2 -> g3, each 30 h apart: g3 is 60 h after g1
    _call("g2", "G", 100, abandoned=True, talk_seconds=0),
    _call("g3", "G", 130),
)


@pytest.fixture(scope="module")
def features() -> dict[str, set[str]]:
    return call_features(CALLS, CALLS, CallDriverOptions())


def test_feature_names_carry_the_thresholds() -> None:
    assert call_feature_names(CallDriverOptions()) == (
        "call:transferred", "call:wait>20s", "call:wait>120s", "call:hold>120s",
        "call:after-abandon", "call:repeat",
    )  # fmt: skip
    # a long-wait threshold equal to the service level is one feature, not two
    assert call_feature_names(CallDriverOptions(30, 30, 45.5))[1:3] == (
        "call:wait>30s",
        "call:hold>45.5s",
    )
    with pytest.raises(ValueError, match="hold_seconds must be a number of seconds >= 0"):
        CallDriverOptions(hold_seconds=-1)


def test_each_flag_on_hand_made_calls(features) -> None:  # type: ignore[no-untyped-def]
    assert features["call:transferred"] == {"a1", "e1"}
    assert features["call:wait>20s"] == {"a1", "a2"}  # wait > 20 s, strictly
    assert features["call:wait>120s"] == {"a2"}
    assert features["call:hold>120s"] == {"a1"}
    # g2 is abandoned, but still a call back within 30 h of the handled g1
    assert features["call:repeat"] == {"a2", "b3", "f2", "g2"}
    # g3 follows the abandoned g2 (30 h) but not g1 (60 h): walking the chain stops at W
    assert features["call:after-abandon"] == {"b2", "b3", "g3"}


def test_repeat_flags_agree_with_the_contact_definition(features) -> None:  # type: ignore[no-untyped-def]
    """A counted contact is a repeat in qa.metrics.contacts exactly when it follows a handled
    (call:repeat) or an abandoned (call:after-abandon) contact within the window."""
    synthetic = make_synthetic(n_calls=1500, seed=3)
    for calls, found in ((CALLS, features), (synthetic.calls, None)):
        found = found or call_features(calls, calls, CallDriverOptions())
        flags = contact_flags(calls)
        after = found["call:repeat"] | found["call:after-abandon"]
        counted = [cid for cid, f in flags.items() if f.counted]
        assert counted
        for cid in counted:
            assert (cid in after) == (not flags[cid].first_contact), cid
    assert len(found["call:after-abandon"]) > 5 and len(found["call:repeat"]) > 100


def test_frame_kinds_and_constant_features_absent() -> None:
    calls = CALLS[:7]
    surveys = [SurveyFact(c.external_id, 3 + i % 3, None, None, None) for i, c in enumerate(calls)]
    tags = {"a1": {"transfer"}, "b2": {"long-wait"}}
    data = frame_from_facts(calls, surveys, tags, outcome="csat", extra_features={"t1": {"c1"}})
    # every call: flag marks some of the 7 rows and not others, so all six are drivers
    assert data.features[:2] == ("long-wait", "transfer")
    assert data.features[-1] == "t1"
    assert data.kinds["transfer"] == "said" and data.kinds["t1"] == "theme"
    recorded = [f for f in data.features if data.kinds[f] == "recorded"]
    assert recorded == [
        "call:transferred", "call:wait>20s", "call:wait>120s", "call:hold>120s",
        "call:after-abandon", "call:repeat",
    ]  # fmt: skip
    only_c = frame_from_facts(CALLS[5:7], surveys[5:7], {}, outcome="csat")
    assert only_c.features == ()  # every call: flag is constant (0) over c1, c2: absent
    off = frame_from_facts(calls, surveys, tags, outcome="csat", call_drivers=None)
    assert off.features == ("long-wait", "transfer")
    with pytest.raises(ValueError, match="clash with structured drivers"):
        frame_from_facts(calls, surveys, {"a1": {"call:repeat"}}, outcome="csat")


# --- the twin rule ---------------------------------------------------------------------------


def test_twins_are_data_and_symmetric() -> None:
    features = ["transfer", "long-wait", "call:transferred", "call:wait>20s", "call:hold>90s"]
    assert TWINS["transfer"] == ("call:transferred",)
    assert twins_of("transfer", features) == {"call:transferred"}
    assert twins_of("call:transferred", features) == {"transfer"}
    assert twins_of("long-wait", features) == {"call:wait>20s", "call:hold>90s"}
    assert twins_of("call:hold>90s", features) == {"long-wait"}
    assert twins_of("rushed", features) == frozenset()


def _twin_frame(seed: int = 0, n: int = 3000) -> pd.DataFrame:
    """Only the transfer matters (-0.5); long-wait co-occurs with it (0.7 vs 0.1), and both
    are measured twice: said (tag) and recorded (call:)."""
    rng = np.random.default_rng(seed)
    transfer = (rng.random(n) < 0.25).astype(int)
    long_wait = (rng.random(n) < np.where(transfer == 1, 0.7, 0.1)).astype(int)
    y = 4.0 - 0.5 * transfer + rng.normal(0, 0.8, n)
    return pd.DataFrame({
        "y": y, "queue": rng.choice(["q1", "q2"], n), "team": rng.choice(["A", "B"], n),
        "agent_id": "a", "call_seconds": rng.uniform(60, 600, n),
        "transfer": transfer, "long-wait": long_wait,
        "call:transferred": transfer, "call:wait>120s": long_wait,
    })  # fmt: skip


def test_twins_are_not_adjusted_for_each_other() -> None:
    features = ["long-wait", "transfer", "call:transferred", "call:wait>120s"]
    analysis = analyse_frame(_twin_frame(), outcome="csat", features=features)
    by = {d.tag: d for d in analysis.drivers}
    for name in ("long-wait", "call:wait>120s"):
        assert by[name].effect < -0.1 and by[name].ci_high < 0  # raw: rides with transfers
        assert by[name].adjusted_ci_low <= 0 <= by[name].adjusted_ci_high, name
    for name in ("transfer", "call:transferred"):
        # identical columns: in one joint model one would be dropped as collinear
        assert by[name].adjusted_ci_low <= -0.5 <= by[name].adjusted_ci_high, name
        assert "collinear" not in by[name].note
    assert by["transfer"].kind == "said" and by["call:transferred"].kind == "recorded"
    assert any("transfer ~ call:transferred" in note for note in analysis.notes)


# --- said / recorded in the report and the Insights tab -------------------------------------


@pytest.fixture(scope="module")
def report_engine(tmp_path_factory):  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from qa.store.engine import make_engine

    engine = make_engine(str(tmp_path_factory.mktemp("structured") / "callqa.db"))
    with Session(engine) as session:
        make_synthetic(n_calls=600, seed=5).insert(session)
    yield engine
    engine.dispose()


def test_report_and_insights_tab_tell_said_from_recorded(report_engine) -> None:  # type: ignore[no-untyped-def]
    from qa.report.html import render_report
    from qa.report.insights import build_insights
    from qa.why.text import LEGEND
    from review_ui.insights import SECTIONS, render_insights

    html = render_report(build_insights(report_engine), ui_url="")
    tab = render_insights(report_engine, "", "")[1 + SECTIONS.index("drivers")]
    for page in (html, tab):
        assert '<th class="">from</th>' in page
        assert '<tr class="sig recorded">' in page  # call:transferred, marked apart
        assert '<td class="">said</td>' in page and '<td class="">recorded</td>' in page
        assert "the phone system recorded it" in page and LEGEND.split(";")[0] in page
        assert "if this tag&#x27;s recall is 0.70 (assumed" in page
