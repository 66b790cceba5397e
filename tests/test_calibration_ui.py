"""The Calibration tab (agreement, where reviewers disagree, blind open rounds) and the
Insights sections that come from reviewers' work (scores per agent/team, weak rules)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import select

from qa.review.calibration import create_round, disagreements
from qa.review.reviews import save_review
from qa.store.engine import make_engine, session_scope
from qa.store.schema import Call, Tag
from qa.store.writes import Evidence, record_tag_decision
from review_ui.calibration import parse_round, render_calibration
from review_ui.review_insights import rules_html, scores_html
from tests.ui_fixtures import LEAD, REVIEWER, launched, populate, ui_client


@pytest.fixture
def engine(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(str(tmp_path / "qa.db"))
    populate(engine)
    yield engine
    engine.dispose()


def _ids(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return {c.external_id: c.id for c in s.exec(select(Call))}


def _decide(engine, call: int, tag: str, present: bool, who: str, round_id=None) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        record_tag_decision(session=s, call_id=call, tag=tag, present=present, reviewer=who,
                            round_id=round_id, created_at=datetime(2026, 3, 2))  # fmt: skip


def test_disagreements_name_each_rater_and_an_open_round_stays_blind(engine) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(engine)
    with session_scope(engine) as s:
        rnd = create_round(session=s, name="March", calls=["C-1001", "C-1002"], created_by="lena")
        round_id = rnd.id
    _decide(engine, ids["C-1001"], "transfer", True, "ana", round_id)
    _decide(engine, ids["C-1001"], "transfer", False, "bo", round_id)
    _decide(engine, ids["C-1002"], "transfer", False, "ana", round_id)
    _decide(engine, ids["C-1002"], "transfer", False, "bo", round_id)
    with session_scope(engine) as s:
        (found,) = disagreements(session=s, round_id=round_id)
    assert (found.kind, found.subject, found.item) == ("tag", "transfer", "C-1001")
    assert found.answers == {"ana": True, "bo": False}

    lead = type("Who", (), {"name": "lena", "role": "lead"})()
    reviewer = type("Who", (), {"name": "ana", "role": "reviewer"})()
    table, html, status = render_calibration(engine, f"R{round_id} · March", lead)
    row = table[table["subject"] == "transfer"].iloc[0]
    assert row["items"] == 2 and row["raters"] == 2 and row["disagree on"] == "C-1001"
    assert "<b>ana</b>: present" in html and "<b>bo</b>: absent" in html
    assert 'href="?call=C-1001"' in html and "1 disagreements on 1 calls" in status
    _, hidden, _ = render_calibration(engine, str(round_id), reviewer)
    assert "stay hidden" in hidden and "ana" not in hidden
    _, pooled, line = render_calibration(engine, "all", reviewer)  # the round is still blind
    assert "<b>ana</b>" not in pooled and "open rounds left out" in line
    _, pooled, _ = render_calibration(engine, "all", lead)
    assert "<b>ana</b>: present" in pooled
    _, _, missing = render_calibration(engine, "99", lead)
    assert "no calibration round 99" in missing
    assert parse_round("all") is None and parse_round("R12 · x") == 12


def test_insights_show_scores_per_agent_and_team_and_rules_below_the_floor(engine) -> None:  # type: ignore[no-untyped-def]
    from qa.review.reviews import default_scorecard

    ids = _ids(engine)
    card = default_scorecard()
    assert card is not None
    with session_scope(engine) as s:
        save_review(session=s, call_id=ids["C-1001"], reviewer="ana", card=card,
                    answers={"greeting": "yes"}, notes="")  # fmt: skip
        for i in range(5):  # a rule pattern rejected on all 5 reviewed hits
            call = s.get(Call, ids["C-1002"])
            s.add(Tag(call_id=call.id, tag="rushed", rule="rushed#9", turn_index=i,
                      evidence="x", source="transcript"))  # fmt: skip
    with session_scope(engine) as s:
        for i in range(5):
            record_tag_decision(session=s, call_id=ids["C-1002"], tag="rushed", present=False,
                                reviewer="ana",
                                evidence=Evidence("transcript", turn_index=i))  # fmt: skip
    scores = scores_html(engine)
    assert "Per agent" in scores and "Dana Reyes" in scores and "Billing" in scores
    rules = rules_html(engine)
    assert "rushed#9" in rules and "below floor" in rules


def test_calibration_endpoints_through_the_api(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(str(tmp_path / "qa.db"))
    populate(engine)
    with launched(engine) as demo:
        lead = ui_client(demo, LEAD)
        _, status = lead.predict("Week 9", "C-1001, C-1003", api_name="/create_round")
        assert "Created calibration round R1 (2 calls) as lena" in status
        _, _, line, _ = lead.predict("1", api_name="/calibration")
        assert "R1 · Week 9 · open · 2 calls" in line
        with pytest.raises(Exception, match="401"):
            ui_client(demo, REVIEWER).predict("1", api_name="/close_round")
        _, status = lead.predict("1", api_name="/close_round")
        assert "Closed R1 as lena" in status
