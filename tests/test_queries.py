"""qa.store.reads (filters, effective tags, call detail) and qa.store.writes (human decisions,
reviews)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from qa.store import reads as queries
from qa.store import writes as crud
from qa.store.engine import make_engine, session_scope
from qa.store.schema import Decision, Review, Tag
from tests.ui_fixtures import EVIDENCE, RE_EXPLAIN_TEXT, populate


@pytest.fixture
def db(tmp_path):
    engine = make_engine(str(tmp_path / "qa.db"))
    ids = populate(engine, recordings_dir=tmp_path / "rec")
    yield engine, ids
    engine.dispose()


def _ext(rows):
    return [r.external_id for r in rows]


def hit(name, source="transcript", turn=1, span=(0, 5)):
    return SimpleNamespace(tag=name, source=source, turn_index=turn, span_start=span[0],
                           span_end=span[1])  # fmt: skip


_clock = iter(range(1, 10_000))


def dec(name, present, role="reviewer", evidence=None, at=None):
    """A decision; each one made later than the one before unless ``at`` (minutes) says."""
    source, turn, s0, s1 = evidence or (None, None, None, None)
    minute = next(_clock) if at is None else at
    return SimpleNamespace(
        id=minute, tag=name, present=present, role=role, source=source, turn_index=turn,
        span_start=s0, span_end=s1, created_at=datetime(2026, 1, 1) + timedelta(minutes=minute),
    )  # fmt: skip


def test_effective_tags_rules():
    eff = queries.effective_tags
    assert eff([]) == set()
    assert eff([hit("a"), hit("b")]) == {"a", "b"}
    # a whole-call rejection removes the machine hit; a confirmation adds a tag
    assert eff([hit("a")], [dec("a", False)]) == set()
    assert eff([], [dec("c", True)]) == {"c"}
    # the latest decision wins ...
    assert eff([hit("a")], [dec("a", False), dec("a", True)]) == {"a"}
    assert eff([hit("a")], [dec("a", True), dec("a", False)]) == set()
    # ... unless a lead decided: the lead's latest wins over later reviewers
    assert eff([hit("a")], [dec("a", False, role="lead"), dec("a", True)]) == set()
    assert eff([hit("a")], [dec("a", True, role="admin"), dec("a", False)]) == {"a"}


def test_effective_tags_per_evidence_and_families():
    eff = queries.effective_tags
    one, two = ("transcript", 1, 0, 5), ("transcript", 3, 2, 9)
    hits = [hit("a", turn=1, span=(0, 5)), hit("a", turn=3, span=(2, 9))]
    # rejecting one piece of evidence keeps the tag while another piece stands
    assert eff(hits, [dec("a", False, evidence=one)]) == {"a"}
    assert eff(hits, [dec("a", False, evidence=one), dec("a", False, evidence=two)]) == set()
    # a confirmed piece of evidence the machine never found adds the tag
    assert eff([], [dec("b", True, evidence=two)]) == {"b"}
    # rejecting the parent rejects its children; a later confirmed child brings both back
    family = [hit("transfer"), hit("transfer:technical")]
    assert eff(family, [dec("transfer", False)]) == set()
    assert eff(family, [dec("transfer", False), dec("transfer:technical", True)]) == {
        "transfer",
        "transfer:technical",
    }
    assert eff(family, [dec("transfer:technical", True), dec("transfer", False)]) == set()
    # a child present on its own brings its parent
    assert eff([hit("transfer:billing")]) == {"transfer", "transfer:billing"}


def _listed(s, **given):  # type: ignore[no-untyped-def]
    from qa.store.callfilter import CallFilter
    from qa.store.calllist import list_calls_page

    return list_calls_page(session=s, flt=CallFilter(**given)).rows


def test_list_calls_newest_first_with_effective_tags_and_csat(db):
    engine, ids = db
    with session_scope(engine) as s:
        rows = _listed(s)
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
        assert _ext(_listed(s, agent="a-01")) == ["C-1003", "C-1001"]
        assert _ext(_listed(s, agent="Sam Okafor")) == ["C-1004", "C-1002"]
        assert _ext(_listed(s, tags_any=("re-explain",))) == ["C-1001"]
        assert _ext(_listed(s, tags_any=("broken-callback",))) == []
        assert _ext(_listed(s, tags_any=("rushed",))) == ["C-1003"]
        assert _ext(_listed(s, csat_min=3)) == ["C-1003", "C-1002"]
        assert _ext(_listed(s, csat_max=3)) == ["C-1003", "C-1001"]
        assert _ext(_listed(s, csat_min=3, csat_max=3)) == ["C-1003"]
        assert _ext(_listed(s, reviewed=True)) == ["C-1003", "C-1002"]
        assert _ext(_listed(s, reviewed=False)) == ["C-1004", "C-1001"]
        assert _ext(_listed(s, agent="a-01", reviewed=False)) == ["C-1001"]
        assert len(_listed(s, page_size=2)) == 2


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
    assert ("broken-callback", "human") not in decisions  # a rejection adds no row
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
        stmt = select(Decision).where(Decision.call_id == call_id, Decision.tag == name)
        return [(d.present, d.reviewer, d.role) for d in s.exec(stmt.order_by(Decision.id))]


def test_record_tag_decision_appends_and_never_touches_machine_rows(db):
    engine, ids = db
    cid = ids["C-1001"]
    with session_scope(engine) as s:
        row = crud.record_tag_decision(session=s, call_id=cid, tag="re-explain", present=False)
        assert row.id is not None and row.source is None
    assert _rows(engine, cid, "re-explain") == [(False, "reviewer", "reviewer")]
    with session_scope(engine) as s:
        crud.record_tag_decision(
            session=s, call_id=cid, tag=" re-explain ", present=True, reviewer="ana",
            comment="she did have to repeat the account number",
        )  # fmt: skip
    # both decisions are kept (append-only); the later one counts
    assert _rows(engine, cid, "re-explain") == [
        (False, "reviewer", "reviewer"),
        (True, "ana", "reviewer"),
    ]
    with session_scope(engine) as s:
        machine = s.exec(select(Tag).where(Tag.call_id == cid, Tag.tag == "re-explain")).all()
        assert [(t.method, t.present) for t in machine] == [("rule", True)]
        d = queries.call_detail(session=s, call_id=cid)
    assert [(x.reviewer, x.present, x.counts) for x in d.decisions] == [
        ("reviewer", False, False),
        ("ana", True, True),
    ]
    assert d.decisions[1].comment.startswith("she did")
    with session_scope(engine) as s:
        crud.record_tag_decision(session=s, call_id=cid, tag="transfer", present=False)
        crud.record_tag_decision(session=s, call_id=cid, tag="agent-rude", present=True)
    with session_scope(engine) as s:
        (row,) = _listed(s, agent="a-01", reviewed=True, tags_any=("agent-rude",))
    assert row.external_id == "C-1001"
    assert row.tags == ("agent-rude", "long-wait", "re-explain")


def test_evidence_decision_and_blind_detail(db):
    engine, ids = db
    cid = ids["C-1001"]
    with session_scope(engine) as s:
        d = queries.call_detail(session=s, call_id=cid)
        hit_view = next(t for t in d.tags if t.tag == "re-explain")
        where = crud.Evidence("transcript", hit_view.turn_index, hit_view.span_start,
                              hit_view.span_end, hit_view.evidence)  # fmt: skip
        crud.record_tag_decision(session=s, call_id=cid, tag="re-explain", present=False,
                                 reviewer="ana", evidence=where)  # fmt: skip
        crud.record_tag_decision(session=s, call_id=cid, tag="long-wait", present=False,
                                 reviewer="bo")  # fmt: skip
        # without a text, the decision takes the text of the machine hit at that place
        bare = crud.Evidence("transcript", hit_view.turn_index, hit_view.span_start,
                             hit_view.span_end)  # fmt: skip
        row = crud.record_tag_decision(session=s, call_id=cid, tag="re-explain",
                                       present=False, reviewer="ana", evidence=bare)  # fmt: skip
        assert row.evidence == hit_view.evidence != ""
    with session_scope(engine) as s:
        d = queries.call_detail(session=s, call_id=cid)
        blind = queries.call_detail(session=s, call_id=cid, blind_for="ana")
    assert "re-explain" not in d.effective_tags and "long-wait" not in d.effective_tags
    assert next(t for t in d.tags if t.tag == "re-explain").decision == "rejected"
    assert d.decisions[0].scope_label == "turn 1" and d.decisions[1].scope_label == "whole call"
    # blind: only ana's own decisions show and count
    assert [x.reviewer for x in blind.decisions] == ["ana", "ana"]
    assert "long-wait" in blind.effective_tags


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
        assert _ext(_listed(s, reviewed=False)) == ["C-1001"]
        assert queries.call_detail(session=s, call_id=cid).reviews[0].notes == "ok"
        with pytest.raises(TypeError, match="scorecard"):
            crud.add_review(session=s, call_id=cid, reviewer="x", scorecard=[], notes="")
