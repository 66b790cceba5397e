"""``qa tag`` end to end with the real models: transfer reasons from agent turns, callback
promises, ``--retrain`` learning from reviewer decisions, and the theme stage."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from qa.cli import app
from qa.store.engine import make_engine
from qa.store.schema import Call, Cluster, Decision, Survey, Tag, ThemeMember, Turn
from qa.store.writes import record_tag_decision

pytestmark = pytest.mark.slow
runner = CliRunner()

# A reviewer confirms a tag the taxonomy does not know, on several comments.
FEE_COMMENTS = [
    "There is a wrong fee on my statement again.",
    "They charged a wrong fee on my statement.",
    "My statement shows a fee that is wrong.",
    "A wrong fee appeared on my statement this month.",
    "The fee on my statement is wrong and nobody fixed it.",
    "Wrong fee charged on the statement, third time.",
]
PROBE = "Why is there a wrong fee on my statement?"
OTHER_COMMENTS = [
    "The agent was friendly and sorted my broadband quickly.",
    "I waited forty minutes in the queue before anyone answered.",
    "She was very helpful and patient with me.",
    "Nobody called me back even though they promised.",
    "I had to explain my problem three times to three people.",
    "Great service, the engineer came the next day.",
]


def _add(session: Session, n: int, comment: str, turns: list[tuple[str, str]] = ()) -> Call:
    call = Call(external_id=f"T{n:03d}", started_at=datetime(2026, 11, 2, 9) + timedelta(hours=n))
    session.add(call)
    session.flush()
    for i, (speaker, text) in enumerate(turns):
        session.add(Turn(call_id=call.id, index=i, speaker=speaker, start=i * 5.0,
                         end=i * 5.0 + 4.0, text=text))  # fmt: skip
    session.add(Survey(call_external_id=call.external_id, csat=2, comment=comment))
    return call


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("QA_MODELS_DIR", str(tmp_path / "models"))  # keep models/ untouched
    url = f"sqlite:///{tmp_path / 'tag.db'}"
    with Session(make_engine(url)) as s:
        _add(s, 1, "", [
            ("customer", "My last bill charged me twice for the same month."),
            ("agent", "I'm sorry about that. Let me put you through to our billing team."),
            ("agent", "Hi, billing here. I see the double charge."),
            ("agent", "I'll transfer you to my supervisor to approve the refund."),
            ("agent", "I'll call you back tomorrow morning to confirm the refund went through."),
        ])  # fmt: skip
        _add(s, 2, "", [
            ("customer", "The router keeps dropping the connection every evening."),
            ("agent", "I can't transfer you yet, let me run a line test first."),
        ])  # fmt: skip
        for n, text in enumerate(FEE_COMMENTS + OTHER_COMMENTS * 3, start=10):
            _add(s, n, text)
        s.commit()
    return url


def _tags(url: str) -> list[Tag]:
    with Session(make_engine(url)) as s:
        return list(s.exec(select(Tag).order_by(Tag.call_id, Tag.turn_index, Tag.tag)))


def test_transfers_reasons_and_promises_from_agent_turns(db: str) -> None:
    result = runner.invoke(app, ["tag", "--db", db, "--no-themes"])
    assert result.exit_code == 0, result.output
    tags = [t for t in _tags(db) if t.call_id == 1]
    found = {(t.tag, t.turn_index) for t in tags}
    assert {("transfer", 1), ("transfer:billing", 1)} <= found
    assert {("transfer", 3), ("transfer:supervisor", 3), ("multi-transfer", 3)} <= found
    assert ("callback-promised", 4) in found
    billing = next(t for t in tags if t.tag == "transfer:billing")
    assert billing.evidence == "Let me put you through to our billing team."
    assert billing.source == "transcript" and billing.score == 1.0
    # "I can't transfer you yet" is no transfer.
    assert not [t for t in _tags(db) if t.call_id == 2 and t.tag.startswith("transfer")]


def test_retrain_learns_reviewer_decisions_and_changes_predictions(db: str) -> None:
    assert runner.invoke(app, ["tag", "--db", db, "--no-themes"]).exit_code == 0
    engine = make_engine(db)
    with Session(engine) as s:
        calls = {c.external_id: c.id for c in s.exec(select(Call))}
        for n in range(10, 10 + len(FEE_COMMENTS)):
            record_tag_decision(session=s, call_id=calls[f"T{n:03d}"], tag="billing-error",
                                present=True, reviewer="qa-lead")  # fmt: skip
        probe = _add(s, 99, PROBE)
        s.commit()
        probe_id = probe.id
    before = runner.invoke(app, ["tag", "--db", db, "--no-themes"])
    assert before.exit_code == 0
    assert not [t for t in _tags(db) if t.call_id == probe_id and t.tag == "billing-error"]

    result = runner.invoke(app, ["tag", "--db", db, "--retrain", "--no-themes"])
    assert result.exit_code == 0, result.output
    assert "retrain" in result.output and "billing-error" in result.output
    hits = [t for t in _tags(db) if t.call_id == probe_id and t.tag == "billing-error"]
    assert [(h.method, h.source) for h in hits] == [("model", "comment")]
    assert 0.5 <= hits[0].score <= 1.0 and "fee" in hits[0].evidence
    # Every call was re-tagged with the new model's version; the decisions stay.
    with Session(make_engine(db)) as s:
        assert len(s.exec(select(Decision)).all()) == len(FEE_COMMENTS)


def test_themes_stage_clusters_and_keeps_ids(db: str) -> None:
    first = runner.invoke(app, ["tag", "--db", db])
    assert first.exit_code == 0, first.output
    assert "themes: full" in first.output
    engine = make_engine(db)
    with Session(engine) as s:
        themes = [c for c in s.exec(select(Cluster)) if c.size > 0]
        members = list(s.exec(select(ThemeMember)))
    assert len(themes) >= 2 and all(c.keywords and c.examples for c in themes)
    fee_theme = {m.cluster_id for m in members if "fee" in m.text and m.cluster_id is not None}
    assert len(fee_theme) == 1  # the wrong-fee comments form one theme
    with Session(engine) as s:
        _add(s, 200, "Another wrong fee showed up on my statement.")
        s.commit()
    again = runner.invoke(app, ["tag", "--db", db])
    assert again.exit_code == 0 and "themes: incremental" in again.output
    with Session(engine) as s:
        new = s.exec(select(ThemeMember).where(ThemeMember.text.startswith("Another"))).one()
    assert new.cluster_id in fee_theme
