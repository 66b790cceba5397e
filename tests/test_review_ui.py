"""review_ui: HTML rendering (escaping, mark placement) and the app driven by gradio_client."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
from sqlmodel import select

from qa.review.playback import Playback
from qa.store.engine import make_engine, session_scope
from qa.store.reads import SurveyView, TagView, TurnView
from qa.store.schema import Review, Tag
from review_ui import render
from tests.ui_fixtures import (
    EVIDENCE,
    RE_EXPLAIN_TEXT,
    REVIEWER,
    launched,
    populate,
    ui_client,
)


def tv(tag="re-explain", start=None, end=None, evidence="", turn=0, source="transcript", **kw):
    fields = dict(id=1, method="rule", score=1.0, present=True, decision=None)
    fields.update(kw)
    return TagView(
        tag=tag,
        source=source,
        turn_index=turn,
        span_start=start,
        span_end=end,
        evidence=evidence,
        **fields,
    )


# ---- render.py ---------------------------------------------------------------------------


def test_highlight_escapes_text_and_wraps_span():
    text = "a <b>x</b> & again said"
    s = text.index("again")
    html, unplaced = render.highlight(text, [tv(start=s, end=s + 5)])
    assert unplaced == []
    assert "<b>" not in html and "&lt;b&gt;x&lt;/b&gt; &amp; " in html
    assert '<mark class="qa-mark" data-tag="re-explain"' in html
    assert html.count("<mark") == 1 and ">again</mark> said" in html


def test_highlight_falls_back_to_evidence_search_and_reports_unplaced():
    html, unplaced = render.highlight("Please TRANSFER me", [tv("transfer", evidence="transfer")])
    assert ">TRANSFER</mark> me" in html and unplaced == []
    bad = tv("rushed", start=50, end=60, evidence="not in text")
    html, unplaced = render.highlight("short", [bad])
    assert html == "short" and unplaced == [bad]


def test_highlight_overlapping_spans_and_decisions():
    text = "one two three"
    html, _ = render.highlight(
        text, [tv("a", 0, 7, decision="rejected"), tv("b", 4, 13, decision="confirmed")]
    )
    assert 'data-tag="a"' in html and 'data-tag="a b"' in html and 'data-tag="b"' in html
    assert 'class="qa-mark rejected" data-tag="a"' in html
    assert 'class="qa-mark confirmed" data-tag="a b"' in html
    assert html.replace("</mark>", "").count("one") == 1


def test_render_transcript_blocks_marks_and_escaping():
    turns = (
        TurnView(0, "agent", 0.0, 4.2, "Hello, how can I help?"),
        TurnView(1, "customer", 65.0, 70.0, RE_EXPLAIN_TEXT),
        TurnView(2, "unknown", 71.0, 72.0, "<script>alert(1)</script>"),
    )
    s = RE_EXPLAIN_TEXT.index(EVIDENCE)
    tags = [
        tv(start=s, end=s + len(EVIDENCE), turn=1),
        tv("long-wait", source="comment", evidence="hello", turn=None),  # not a transcript tag
        tv("rushed", method="human", turn=None),
    ]
    html = render.render_transcript(turns, tags)
    assert html.count('class="qa-turn ') == 3
    assert '<div class="who">Agent<span class="ts">0:00&ndash;0:04' in html
    assert '<div class="who">Customer<span class="ts">1:05&ndash;1:10' in html
    assert 'data-tag="re-explain"' in html and f">{EVIDENCE}</mark>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;agent&lt;/b&gt; &amp; nobody" in html
    assert html.count("<mark") == 1
    assert "No transcript" in render.render_transcript((), [])


def test_render_survey_tags_and_header_escape():
    survey = SurveyView(csat=1, nps=None, ces=6, fcr=True, comment='Waited <i>40 minutes</i> "!"')
    html = render.render_survey(survey, [tv("long-wait", source="comment", evidence="40 minutes")])
    assert '<span class="v">1</span><span class="k">CSAT</span>' in html  # 1 is not "yes"
    assert '<span class="v">yes</span><span class="k">FCR</span>' in html
    assert '&lt;i&gt;<mark class="qa-mark" data-tag="long-wait"' in html
    assert "No survey" in render.render_survey(None)
    table = render.render_tags([tv(evidence="<x>", decision="rejected"), tv("t", method="human")])
    assert "&lt;x&gt;" in table and 'class="qa-dec rejected"' in table and ">review<" in table


# ---- the app through gradio_client ---------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui")
    engine = make_engine(str(tmp / "qa.db"))
    ids = populate(engine, recordings_dir=tmp / "recordings")
    playback = Playback([tmp / "recordings"])
    with launched(engine, playback=playback) as demo:
        yield demo, engine, ids
    playback.close()


@pytest.fixture(scope="module")
def client(served):  # type: ignore[no-untyped-def]
    return ui_client(served[0])


def test_build_app_is_a_blocks_with_named_endpoints(served):
    import gradio as gr

    demo, _, _ = served
    assert isinstance(demo, gr.Blocks)
    names = {d.api_name for d in demo.fns.values() if d.api_name}
    assert {"list_calls", "open_call", "confirm_tag", "reject_tag", "add_tag"} <= names


def test_tags_to_add_are_the_taxonomys(served):
    from classify.taxonomy import load_taxonomy

    demo = served[0]
    (add,) = [b for b in demo.blocks.values() if b.elem_id == "add-tag-choice"]
    names = load_taxonomy().names
    assert [value for _, value in add.choices] == names and add.value == names[0]


def test_list_calls_endpoint_filters(client):
    table = client.predict("", "", "any", "any", "all", api_name="/list_calls")
    assert table["headers"][:2] == ["id", "call"]
    assert [r[1] for r in table["data"]] == ["C-1004", "C-1003", "C-1002", "C-1001"]
    table = client.predict("a-01", "re-explain", "any", "2", "all", api_name="/list_calls")
    assert [r[1] for r in table["data"]] == ["C-1001"]
    table = client.predict("", "", 4, None, "reviewed", api_name="/list_calls")
    assert [r[1] for r in table["data"]] == ["C-1002"]


def test_open_call_then_reject_tag_writes_human_row(served, client):
    _, engine, ids = served
    cid = ids["C-1001"]
    header, audio, survey, transcript, tags, choice, status = client.predict(
        cid, api_name="/open_call"
    )
    assert "C-1001" in header and "Dana Reyes" in header and "Billing" in header
    # The call metrics from the two channels' timings.
    assert "<b>Agent talk</b>2:00 (57%)" in header and "<b>Customer talk</b>1:30 (43%)" in header
    assert "<b>Longest silence</b>0:12" in header and "<b>Silences &gt; 5 s</b>2" in header
    assert "<b>Interruptions (agent / customer)</b>3 / 1" in header
    assert "<b>Hold</b>0:35 in 1" in header and "150 / 140" in header
    assert audio  # the fixture wrote a recording, so the player is shown
    assert '>2</span><span class="k">CSAT' in survey
    assert 'data-speaker="agent"' in transcript and 'data-speaker="customer"' in transcript
    assert 'data-tag="re-explain"' in transcript and "&lt;b&gt;agent&lt;/b&gt;" in transcript
    assert "transfer" in tags and "Opened call" in status
    assert choice["value"] == "re-explain"  # the tag dropdown lists this call's tags
    assert [c[0] for c in choice["choices"]] == ["re-explain", "transfer", "long-wait"]

    *_, status = client.predict(cid, "re-explain", api_name="/reject_tag")
    assert "Rejected" in status and "re-explain" in status
    with session_scope(engine) as s:
        rows = s.exec(
            select(Tag).where(Tag.call_id == cid, Tag.tag == "re-explain").order_by(Tag.id)
        ).all()
        assert [(t.method, t.present, t.reviewer) for t in rows] == [
            ("rule", True, None),
            ("human", False, REVIEWER),
        ]

    *_, tags, _, status = client.predict(cid, "re-explain", api_name="/confirm_tag")
    assert "Confirmed" in status and 'class="qa-dec confirmed"' in tags
    *_, status = client.predict(cid, "agent-rude", api_name="/add_tag")
    assert "Added" in status
    table = client.predict("", "agent-rude", "any", "any", "reviewed", api_name="/list_calls")
    assert [r[1] for r in table["data"]] == ["C-1001"]
    with session_scope(engine) as s:
        humans = s.exec(select(Tag).where(Tag.call_id == cid, Tag.method == "human")).all()
        assert sorted((t.tag, t.present) for t in humans) == [
            ("agent-rude", True),
            ("re-explain", True),
        ]


def test_open_unknown_call_and_decision_without_tag_report_status(client):
    *_, status = client.predict(987654, api_name="/open_call")
    assert "no call with id 987654" in status
    *_, status = client.predict(987654, "", api_name="/reject_tag")
    assert "choose a tag" in status


def test_save_review(served, client):
    from review_ui.review import DEFAULT_SCORECARD

    _, engine, ids = served
    cid, item = ids["C-1004"], DEFAULT_SCORECARD[0]
    status = client.predict(cid, [item], "fine", api_name="/save_review")
    assert "Saved" in status and f"Review of call #{cid}" in status
    assert f"1/{len(DEFAULT_SCORECARD)}" in status
    with session_scope(engine) as s:
        (review,) = s.exec(select(Review).where(Review.call_id == cid)).all()
        assert review.scorecard[item] is True and review.notes == "fine"
        assert review.reviewer == REVIEWER
