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
from qa.store.schema import Decision, Review
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


def test_turns_marks_and_tag_rows_carry_their_times():
    """The workbench script seeks to ``data-start``: on turns, their marks and tag rows."""
    turns = (
        TurnView(0, "agent", 0.0, 4.2, "Hello, how can I help?"),
        TurnView(1, "customer", 12.4, 19.05, "please transfer me"),
    )
    transfer = tv("transfer", evidence="transfer", turn=1)
    html = render.render_transcript(turns, [transfer])
    assert 'data-index="0" data-start="0.00" data-end="4.20">' in html
    assert 'data-index="1" data-start="12.40" data-end="19.05">' in html
    assert html.count('data-start="12.40"') == 2  # the turn and its mark
    assert '<mark class="qa-mark" data-tag="transfer"' in html and ">transfer</mark>" in html
    comment = tv("long-wait", source="comment", evidence="wait", turn=None)
    rows = render.render_tags([transfer, comment], turns=turns)
    assert '<tr data-tag="transfer" data-method="rule" data-turn="1" data-start="12.40"' in rows
    assert 'data-end="19.05">' in rows
    assert '<tr data-tag="long-wait" data-method="rule">' in rows  # no turn, no time
    # without the turns, a row still names its turn (the script looks its time up)
    assert 'data-turn="1">' in render.render_tags([transfer])


def _detail(duration: float | None, talk: float):  # type: ignore[no-untyped-def]
    from datetime import datetime

    from qa.store.reads import CallDetail

    return CallDetail(
        id=7, external_id="C-7", started_at=datetime(2024, 5, 1, 9, 30), agent_id="a-01",
        agent_name="Dana", team="Billing", queue="billing", customer_id="c", direction="inbound",
        status="tagged", error=None, recording_path=None, duration_seconds=duration,
        wait_seconds=0.0, talk_seconds=talk, hold_seconds=0.0, abandoned=False,
        transferred=False, turns=(), metrics=None, survey=None, tags=(), reviews=(),
    )  # fmt: skip


def test_header_shows_the_recording_length_and_the_exports_talk_time():
    html = render.render_header(_detail(71.97, 387.0))  # the demo's C0010
    assert "<b>Recording</b>1:12" in html and "<b>Talk (export)</b>6:27" in html
    assert "export and recording differ" in html
    html = render.render_header(_detail(71.97, 75.0))  # within 10 %
    assert "<b>Recording</b>1:12" in html and "differ" not in html
    html = render.render_header(_detail(None, 240.0))  # not transcribed: no length known
    assert "Recording" not in html and "<b>Talk (export)</b>4:00" in html
    assert "differ" not in html


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


def _listed(client, **given):  # type: ignore[no-untyped-def]
    """The list_calls endpoint with the call list's inputs (blank unless given)."""
    from review_ui.call_list import INPUT_FIELDS

    defaults = {"tags_any": [], "tags_all": [], "tags_none": [], "sort": "started_at",
                "order": "desc", "page": 1}  # fmt: skip
    args = [given.get(n, defaults.get(n, "")) for n in INPUT_FIELDS]
    return client.predict(*args, api_name="/list_calls")


def test_list_calls_endpoint_filters(client):
    table, count, page, query = _listed(client)
    assert table["headers"][:2] == ["id", "call"]
    assert [r[1] for r in table["data"]] == ["C-1004", "C-1003", "C-1002", "C-1001"]
    assert "of **4**" in count and page == 1 and query == ""
    table, _, _, query = _listed(client, agent="a-01", tags_any=["re-explain"], csat_max="2")
    assert [r[1] for r in table["data"]] == ["C-1001"]
    assert query == "agent=a-01&tag=re-explain&csat_max=2"  # the URL state
    table, *_ = _listed(client, csat_min="4", reviewed="yes")
    assert [r[1] for r in table["data"]] == ["C-1002"]
    table, *_ = _listed(client, tags_none=["re-explain"], sort="external_id", order="asc")
    assert [r[1] for r in table["data"]] == ["C-1002", "C-1003", "C-1004"]
    # a link's filter with no input here (NPS) is kept, and said
    table, count, _, query = _listed(client, extra="nps_max=6")
    assert [r[1] for r in table["data"]] == ["C-1003", "C-1001"] and "nps_max=6" in count
    assert "nps_max=6" in query
    _, count, *_ = _listed(client, since="not a date")
    assert "Filter not applied" in count and "YYYY-MM-DD" in count


def test_the_whole_list_downloads_as_csv_with_links(client):
    import csv
    from pathlib import Path

    from review_ui.call_list import INPUT_FIELDS

    values = {"tags_any": [], "tags_all": [], "tags_none": [], "sort": "started_at",
              "order": "desc", "page": 2, "agent": "a-01"}  # fmt: skip
    args = [values.get(n, "") for n in INPUT_FIELDS]
    update, status = client.predict(*args, api_name="/export_calls")
    assert "Exported 2 calls" in status
    path = update["value"] if isinstance(update, dict) else update  # an update: shown + file
    path = path["path"] if isinstance(path, dict) else path  # every page, not only the one shown
    with Path(path).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["external_id"] for r in rows] == ["C-1003", "C-1001"]
    assert rows[1]["link"].endswith("/?call=C-1001") and "re-explain" in rows[1]["tags"]


def test_open_call_then_reject_tag_writes_human_row(served, client):
    _, engine, ids = served
    cid = ids["C-1001"]
    header, audio, survey, transcript, tags, choice, history, *answers, _notes, score, status = (
        client.predict(cid, api_name="/open_call")
    )
    # the default scorecard, pre-filled from the tags: re-explain present -> "no_repeat" is no
    assert "no" in answers and "Pre-filled" in score and "No decisions" in history
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
    labels = [c[0] for c in choice["choices"]]
    assert labels[:3] == ["re-explain (whole call)", "transfer (whole call)",
                          "long-wait (whole call)"]  # fmt: skip
    assert any(x.startswith("re-explain · turn 1:") for x in labels)  # one piece of evidence

    *_, status = client.predict(cid, "re-explain", "", api_name="/reject_tag")
    assert "Rejected" in status and "re-explain" in status
    with session_scope(engine) as s:
        rows = s.exec(select(Decision).where(Decision.call_id == cid)).all()
        assert [(d.tag, d.present, d.reviewer, d.source) for d in rows] == [
            ("re-explain", False, REVIEWER, None)
        ]

    out = client.predict(cid, "re-explain", "on second listen", api_name="/confirm_tag")
    tags, history, status = out[4], out[6], out[-1]
    assert "Confirmed" in status and 'class="qa-dec confirmed"' in tags
    assert "on second listen" in history and history.count("data-decision=") == 2
    *_, status = client.predict(cid, "agent-rude", "", api_name="/add_tag")
    assert "Added" in status
    table, *_ = _listed(client, tags_any=["agent-rude"], reviewed="yes")
    assert [r[1] for r in table["data"]] == ["C-1001"]
    with session_scope(engine) as s:
        rows = s.exec(select(Decision).where(Decision.call_id == cid)).all()
        # append-only: the reject and the later confirm are both kept
        assert [(d.tag, d.present) for d in rows] == [
            ("re-explain", False), ("re-explain", True), ("agent-rude", True)]  # fmt: skip


def test_open_unknown_call_and_decision_without_tag_report_status(client):
    *_, status = client.predict(987654, api_name="/open_call")
    assert "no call with id 987654" in status
    *_, status = client.predict(987654, "", "", api_name="/reject_tag")
    assert "choose a tag" in status


def test_save_review(served, client):
    from qa.review.reviews import default_scorecard

    _, engine, ids = served
    card = default_scorecard()
    assert card is not None
    cid = ids["C-1004"]
    answers = {"greeting": "yes", "verified": "na", "resolved": "no", "empathy": "4"}
    values = [answers.get(q.id) for q in card.questions()]
    status, _score = client.predict(cid, *values, "fine", api_name="/save_review")
    assert "Saved" in status and f"call #{cid}" in status and "4 answers" in status
    with session_scope(engine) as s:
        (review,) = s.exec(select(Review).where(Review.call_id == cid)).all()
        assert review.scorecard == {"greeting": "yes", "verified": "na", "resolved": "no",
                                    "empathy": 4}  # fmt: skip
        assert review.notes == "fine" and review.reviewer == REVIEWER
        assert review.scorecard_ref.startswith(f"{card.ref}#")
        # (1*1 + 3*0 + 1*0.75) / (1 + 3 + 1) = 35 %
        assert review.score == 35.0 and not review.auto_failed
    # reopening shows the saved review, editable
    out = client.predict(cid, api_name="/open_call")
    history, shown, notes, score_line = out[6], out[7:-3], out[-3], out[-2]
    assert shown[[q.id for q in card.questions()].index("empathy")] == "4"
    assert notes == "fine" and "Your review" in score_line and "35.0" in history
