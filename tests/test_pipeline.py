"""Pipeline stages with small fakes for the models: failures, resume, re-tagging, human wins.

The real models run in tests/test_nightly.py; here the point is the bookkeeping.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from classify.taxonomy import TagHit
from qa.stages.pipeline import TranscribedCall, tag_calls, transcribe_calls
from qa.store.reads import effective_tags
from qa.store.schema import Call, CallMetrics, Decision, Survey, Tag, Turn, TurnOriginal
from qa.store.writes import record_tag_decision
from transcribe.audio import AudioError
from transcribe.transcript import Segment, Transcript, Word


def fake_transcriber(path: Path) -> TranscribedCall:
    return TranscribedCall(fake_transcript(path))


def fake_transcript(path: Path) -> Transcript:
    """'Transcribes' a text file: each line is 'speaker: text'; 'CORRUPT' fails like bad audio."""
    content = path.read_text()
    if "CORRUPT" in content:
        raise AudioError(path, "invalid data found when processing input")
    segments = []
    for i, line in enumerate(content.splitlines()):
        speaker, text = line.split(": ", 1)
        words = tuple(Word(i * 3 + j * 0.4, i * 3 + j * 0.4 + 0.3, w, 0.9)
                      for j, w in enumerate(text.split()))  # fmt: skip
        segments.append(Segment(i * 3.0, i * 3.0 + 2.5, speaker, text, words, 0.9))
    return Transcript(len(segments) * 3.0, tuple(segments), "fake", "fake", "en")


class KeywordTagger:
    """Tags 'again' as re-explain and 'transfer' as transfer; counts calls per source."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def tag_many(self, texts: list[str], source: str = "comment") -> list[list[TagHit]]:
        out = []
        for text in texts:
            self.seen.append((source, text))
            hits = []
            for word, tag in (("again", "re-explain"), ("transfer", "transfer")):
                at = text.find(word)
                if at >= 0:
                    hits.append(TagHit(tag, at, at + len(word), text))
            out.append(hits)
        return out


def add_call(session: Session, tmp_path: Path, external_id: str, script: str | None) -> Call:
    path = None
    if script is not None:
        path = tmp_path / f"{external_id}.txt"
        path.write_text(script)
    call = Call(external_id=external_id, started_at=datetime(2026, 11, 2, 9),
                recording_path=str(path) if path else None)  # fmt: skip
    session.add(call)
    session.commit()
    return call


@pytest.fixture
def seeded(engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        add_call(
            session, tmp_path, "C1", "customer: I told you this again\nagent: let me transfer you"
        )
        add_call(session, tmp_path, "C2", "CORRUPT")
        add_call(session, tmp_path, "C3", None)
        session.add(Survey(call_external_id="C3", csat=2, comment="explained it again and again"))
        session.commit()
    return engine


def test_bad_recording_fails_alone_and_is_retried(seeded, tmp_path: Path) -> None:
    report = transcribe_calls(seeded, transcriber=fake_transcriber)
    assert report.done == 1
    assert [cid for cid, _ in report.failed] == ["C2"]
    assert "invalid data found" in report.failed[0][1] and "C2.txt" in report.failed[0][1]
    with Session(seeded) as session:
        calls = {c.external_id: c for c in session.exec(select(Call))}
        turns = session.exec(select(Turn).order_by(Turn.index)).all()
        metrics = session.get(CallMetrics, calls["C1"].id)
    assert calls["C1"].status == "transcribed" and calls["C2"].status == "failed"
    assert "invalid data found" in (calls["C2"].error or "")
    assert calls["C3"].status == "pending"  # no recording: nothing to transcribe
    assert [(t.speaker, t.text) for t in turns] == [
        ("customer", "I told you this again"), ("agent", "let me transfer you")]  # fmt: skip
    assert metrics is not None and metrics.customer_talk_seconds == pytest.approx(2.5)

    (tmp_path / "C2.txt").write_text("customer: fixed now")
    again = transcribe_calls(seeded, transcriber=fake_transcriber)
    assert (again.done, again.failed) == (1, ())  # only the failed call; C1 is not redone
    with Session(seeded) as session:
        assert len(session.exec(select(Turn)).all()) == 3


def test_tagging_stores_evidence_and_reruns_only_on_change(seeded) -> None:
    transcribe_calls(seeded, transcriber=fake_transcriber)
    tagger = KeywordTagger()
    first = tag_calls(seeded, tagger=tagger, version="v1")
    assert first.done == 3  # C2 failed transcription but is still tagged (no texts)
    with Session(seeded) as session:
        tags = session.exec(select(Tag).order_by(Tag.call_id, Tag.tag)).all()
        statuses = dict(session.exec(select(Call.external_id, Call.status)).all())
    by_call = {(t.call_id, t.tag, t.source, t.turn_index) for t in tags}
    assert (1, "re-explain", "transcript", 0) in by_call
    assert (1, "transfer", "transcript", 1) in by_call
    assert (3, "re-explain", "comment", None) in by_call
    comment_tag = next(t for t in tags if t.source == "comment")
    assert comment_tag.evidence[comment_tag.span_start : comment_tag.span_end] == "again"
    assert statuses == {"C1": "tagged", "C2": "failed", "C3": "tagged"}
    assert ("customer", "I told you this again") in tagger.seen
    assert ("agent", "let me transfer you") in tagger.seen

    tagger.seen.clear()
    assert tag_calls(seeded, tagger=tagger, version="v1").done == 0 and not tagger.seen
    assert tag_calls(seeded, tagger=tagger, version="v2").done == 3  # new taxonomy: all again


def test_late_survey_retags_and_human_decisions_survive(seeded) -> None:
    transcribe_calls(seeded, transcriber=fake_transcriber)
    tag_calls(seeded, tagger=KeywordTagger(), version="v1")
    with Session(seeded) as session:
        record_tag_decision(session=session, call_id=1, tag="transfer", present=False)
        session.add(Survey(call_external_id="C1", csat=1, comment="asked for a transfer again"))
        session.commit()
    report = tag_calls(seeded, tagger=KeywordTagger(), version="v1")
    assert report.done == 1
    with Session(seeded) as session:
        tags = session.exec(select(Tag).where(Tag.call_id == 1)).all()
        human = session.exec(select(Decision).where(Decision.call_id == 1)).all()
    assert {(t.source, t.tag) for t in tags} == {
        ("transcript", "re-explain"), ("transcript", "transfer"),
        ("comment", "re-explain"), ("comment", "transfer")}  # fmt: skip
    assert [(t.tag, t.present) for t in human] == [("transfer", False)]
    assert effective_tags(tags, human) == {"re-explain"}


def test_redacted_plus_original_keeps_originals_apart(seeded) -> None:
    from transcribe.spans import RedactedSpan

    def redacting(path: Path) -> TranscribedCall:
        original = fake_transcript(path)
        hidden = tuple(
            replace(seg, text=seg.text.replace("again", "[X]")) for seg in original.segments
        )
        spans = tuple(
            (RedactedSpan(seg.text.find("again"), seg.text.find("again") + 5, "X", "again"),)
            if "again" in seg.text else ()
            for seg in original.segments
        )  # fmt: skip
        return TranscribedCall(replace(original, segments=hidden), original, spans)

    report = transcribe_calls(seeded, transcriber=redacting, call_ids=["C1"])
    assert report.done == 1
    with Session(seeded) as session:
        turns = session.exec(select(Turn).order_by(Turn.index)).all()
        originals = session.exec(select(TurnOriginal)).all()
    assert [t.text for t in turns] == ["I told you this [X]", "let me transfer you"]
    assert [(o.turn_id, o.text) for o in originals] == [(turns[0].id, "I told you this again")]
    assert originals[0].spans == [{"start": 16, "end": 21, "entity": "X"}]
