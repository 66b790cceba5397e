"""qa.store.reads (filters, effective tags, call detail) and qa.store.writes (human decisions,
reviews)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlmodel import select

from qa.store import reads as queries
from qa.store import writes as crud
from qa.store.engine import make_engine, session_scope
from qa.store.schema import Review, Tag
from tests.ui_fixtures import EVIDENCE, RE_EXPLAIN_TEXT, populate


@pytest.fixture
def db(tmp_path):
    engine = make_engine(str(tmp_path / "qa.db"))
    ids = populate(engine, recordings_dir=tmp_path / "rec")
    yield engine, ids
    engine.dispose()


def _ext(rows):
    return [r.external_id for r in rows]


def tag(name, method="rule", present=True):
    return SimpleNamespace(tag=name, method=method, present=present)


def test_effective_tags_rules():
    assert queries.effective_tags([]) == set()
    assert queries.effective_tags([tag("a"), tag("b", "model")]) == {"a", "b"}
    # a human rejection removes the machine hit; a human confirmation adds a tag
    assert queries.effective_tags([tag("a"), tag("a", "human", False)]) == set()
    assert queries.effective_tags([tag("c", "human", True)]) == {"c"}
    assert queries.effective_tags([tag("a", "human", False), tag("a")]) == set()
    # a machine row stored as absent does not count
    assert queries.effective_tags([tag("a", present=False)]) == set()
    # the later human row wins
    assert queries.effective_tags([tag("a", "human", False), tag("a", "human", True)]) == {"a"}


def test_list_calls_newest_first_with_effective_tags_and_csat(db):
    engine, ids = db
    with session_scope(engine) as s:
        rows = queries.list_calls(session=s)
    assert _ext(rows) == ["C-1004", "C-1003", "C-1002", "C-1001"]
    by = {r.external_id: r for r in rows}
    assert by["C-1001"].tags == ("long-wait", "re-explain", "transfer")
    assert by["C-1003"].tags == ("rushed", "unresolved")  # broken-callback rejected
    assert by["C-1001"].csat == 2 and by["C-1004"].csat is None
    assert by["C-1002"].reviewed and by["C-1003"].reviewed
    assert not by["C-1001"].reviewed and not by["C-1004"].reviewed
    assert by["C-1001"].agent_name == "Dana Reyes" and by["C-1001"].id == ids["C-1001"]


def test_list_calls_filters(db):
    engine, _ = db
    with session_scope(engine) as s:
        assert _ext(queries.list_calls(session=s, agent="a-01")) == ["C-1003", "C-1001"]
        assert _ext(queries.list_calls(session=s, agent="Sam Okafor")) == ["C-1004", "C-1002"]
        assert _ext(queries.list_calls(session=s, tag="re-explain")) == ["C-1001"]
        assert _ext(queries.list_calls(session=s, tag="broken-callback")) == []
        assert _ext(queries.list_calls(session=s, tag="rushed")) == ["C-1003"]
        assert _ext(queries.list_calls(session=s, csat_min=3)) == ["C-1003", "C-1002"]
        assert _ext(queries.list_calls(session=s, csat_max=3)) == ["C-1003", "C-1001"]
        assert _ext(queries.list_calls(session=s, csat_min=3, csat_max=3)) == ["C-1003"]
        assert _ext(queries.list_calls(session=s, reviewed=True)) == ["C-1003", "C-1002"]
        assert _ext(queries.list_calls(session=s, reviewed=False)) == ["C-1004", "C-1001"]
        assert _ext(queries.list_calls(session=s, agent="a-01", reviewed=False)) == ["C-1001"]
        assert len(queries.list_calls(session=s, limit=2)) == 2


def test_call_detail(db):
    engine, ids = db
    with session_scope(engine) as s:
        d = queries.call_detail(session=s, call_id=ids["C-1001"])
    assert (d.external_id, d.agent_id, d.team, d.queue) == ("C-1001", "a-01", "Billing", "billing")
    assert [t.speaker for t in d.turns] == ["agent", "customer", "agent", "agent", "customer"]
    assert d.turns[1].text == RE_EXPLAIN_TEXT and d.turns[1].start == 7.5
    assert d.metrics is not None and d.metrics.overtalk_seconds == 2.5
    assert d.survey is not None and (d.survey.csat, d.survey.nps, d.survey.fcr) == (2, 3, False)
    re_explain = next(t for t in d.tags if t.tag == "re-explain")
    start = RE_EXPLAIN_TEXT.index(EVIDENCE)
    assert (re_explain.turn_index, re_explain.span_start, re_explain.span_end) == (
        1,
        start,
        start + len(EVIDENCE),
    )
    assert re_explain.decision is None and re_explain.method == "rule"
    assert d.effective_tags == ("long-wait", "re-explain", "transfer")
    assert d.recording_path and d.recording_path.endswith("C-1001.wav")
    assert not d.reviewed and d.reviews == ()


def test_call_detail_decisions_and_missing_call(db):
    engine, ids = db
    with session_scope(engine) as s:
        d = queries.call_detail(session=s, call_id=ids["C-1003"])
        with pytest.raises(queries.CallNotFound, match="no call with id 999"):
            queries.call_detail(session=s, call_id=999)
    decisions = {(t.tag, t.method): t.decision for t in d.tags}
    assert decisions[("broken-callback", "model")] == "rejected"
    assert decisions[("broken-callback", "human")] == "rejected"
    assert decisions[("rushed", "human")] == "confirmed"
    assert decisions[("unresolved", "rule")] is None
    assert d.reviewed


def test_list_agents_and_tag_names(db):
    engine, _ = db
    with session_scope(engine) as s:
        agents = queries.list_agents(session=s)
        names = queries.list_tag_names(session=s)
    assert [(a.agent_id, a.agent_name, a.calls) for a in agents] == [
        ("a-01", "Dana Reyes", 2),
        ("a-02", "Sam Okafor", 2),
    ]
    assert names == [
        "agent-praise",
        "broken-callback",
        "long-wait",
        "re-explain",
        "rushed",
        "transfer",
        "unresolved",
    ]


def _rows(engine, call_id, name):
    with session_scope(engine) as s:
        stmt = select(Tag).where(Tag.call_id == call_id, Tag.tag == name).order_by(Tag.id)
        return [(t.method, t.present, t.reviewer) for t in s.exec(stmt)]


def test_record_tag_decision_keeps_one_human_row_and_machine_rows(db):
    engine, ids = db
    cid = ids["C-1001"]
    with session_scope(engine) as s:
        row = crud.record_tag_decision(session=s, call_id=cid, tag="re-explain", present=False)
        assert row.id is not None and row.method == "human"
    assert _rows(engine, cid, "re-explain") == [("rule", True, None), ("human", False, "reviewer")]
    with session_scope(engine) as s:
        crud.record_tag_decision(
            session=s, call_id=cid, tag=" re-explain ", present=True, reviewer="ana"
        )
    assert _rows(engine, cid, "re-explain") == [("rule", True, None), ("human", True, "ana")]
    with session_scope(engine) as s:
        crud.record_tag_decision(session=s, call_id=cid, tag="transfer", present=False)
        crud.record_tag_decision(session=s, call_id=cid, tag="agent-rude", present=True)
    with session_scope(engine) as s:
        (row,) = queries.list_calls(session=s, agent="a-01", reviewed=True, tag="agent-rude")
    assert row.external_id == "C-1001"
    assert row.tags == ("agent-rude", "long-wait", "re-explain")


def test_record_tag_decision_errors(db):
    engine, ids = db
    with session_scope(engine) as s:
        with pytest.raises(queries.CallNotFound):
            crud.record_tag_decision(session=s, call_id=12345, tag="rushed", present=True)
        with pytest.raises(ValueError, match="empty"):
            crud.record_tag_decision(session=s, call_id=ids["C-1001"], tag="  ", present=True)


def test_add_review_marks_call_reviewed(db):
    engine, ids = db
    cid = ids["C-1004"]
    with session_scope(engine) as s:
        review = crud.add_review(
            session=s, call_id=cid, reviewer="ana", scorecard={"greeting": True}, notes="ok"
        )
        assert review.id is not None
    with session_scope(engine) as s:
        (stored,) = s.exec(select(Review).where(Review.call_id == cid)).all()
        assert stored.scorecard == {"greeting": True} and stored.reviewer == "ana"
        assert _ext(queries.list_calls(session=s, reviewed=False)) == ["C-1001"]
        assert queries.call_detail(session=s, call_id=cid).reviews[0].notes == "ok"
        with pytest.raises(TypeError, match="scorecard"):
            crud.add_review(session=s, call_id=cid, reviewer="x", scorecard=[], notes="")
