"""qa decisions import/export, qa agreement (against krippendorff and statsmodels by hand),
the review queue and rule precision, on the small UI fixture database."""

from __future__ import annotations

import json
from datetime import datetime

import krippendorff
import numpy as np
import pytest
from sqlmodel import select
from statsmodels.stats.inter_rater import cohens_kappa
from typer.testing import CliRunner

from qa.cli import app
from qa.review.queue import next_call
from qa.review.reviews import rule_precision
from qa.store.engine import make_engine, session_scope
from qa.store.schema import Call, Decision, Tag
from qa.store.writes import record_tag_decision
from tests.ui_fixtures import populate

runner = CliRunner()
# Two reviewers, four calls, two tags: the known table.
TABLE = {
    ("C-1001", "re-explain"): (1, 1), ("C-1002", "re-explain"): (0, 1),
    ("C-1003", "re-explain"): (0, 0), ("C-1004", "re-explain"): (1, 1),
    ("C-1001", "transfer"): (1, 0), ("C-1002", "transfer"): (0, 0),
    ("C-1003", "transfer"): (1, 1), ("C-1004", "transfer"): (0, 1),
}  # fmt: skip


@pytest.fixture
def db(tmp_path):  # type: ignore[no-untyped-def]
    path = str(tmp_path / "qa.db")
    engine = make_engine(path)
    populate(engine, recordings_dir=tmp_path / "rec")
    yield path, engine, tmp_path
    engine.dispose()


def _write_table(tmp_path):  # type: ignore[no-untyped-def]
    lines = ["call_id,reviewer,tag,present,created_at"]
    for (call, tag), (a, b) in TABLE.items():
        lines.append(f"{call},ana,{tag},{'yes' if a else 'no'},2026-03-01T10:00:00")
        lines.append(f"{call},bo,{tag},{'true' if b else 'false'},2026-03-01T11:00:00")
    lines.append("C-9999,bo,transfer,yes,")  # unknown call: reported, skipped
    lines.append("C-1001,bo,transfer,maybe,")  # bad answer
    path = tmp_path / "labels.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_import_export_and_agreement_match_the_packages(db) -> None:  # type: ignore[no-untyped-def]
    path, _, tmp_path = db
    table = _write_table(tmp_path)
    result = runner.invoke(app, ["decisions", "import", str(table), "--db", path])
    assert result.exit_code == 2, result.output  # two bad rows
    assert "imported 16 decisions" in result.output
    assert "no call with id 'C-9999'" in result.output and "maybe" in result.output
    again = runner.invoke(app, ["decisions", "import", str(table), "--db", path])
    assert "imported 0 decisions" in again.output and "16 already there" in again.output

    exported = runner.invoke(app, ["decisions", "export", "--format", "jsonl", "--db", path])
    rows = [json.loads(line) for line in exported.output.splitlines()]
    both = {(r["reviewer"], r["present"]) for r in rows
            if r["call_id"] == "C-1001" and r["tag"] == "transfer"}  # fmt: skip
    assert both == {("ana", True), ("bo", False)}  # two reviewers' decisions, both kept
    csv_out = runner.invoke(app, ["decisions", "export", "--db", path]).output
    assert csv_out.splitlines()[0].startswith("id,call_id,reviewer,role,tag,present")

    result = runner.invoke(app, ["agreement", "--format", "json", "--db", path])
    assert result.exit_code == 0, result.output
    got = {r["subject"]: r for r in json.loads(result.output) if r["kind"] == "tag"}
    for tag in ("re-explain", "transfer"):
        pairs = [v for (c, t), v in sorted(TABLE.items()) if t == tag]
        matrix = np.array([[a for a, _ in pairs], [b for _, b in pairs]], dtype=float)
        alpha = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
        counts = np.zeros((2, 2))
        for a, b in pairs:
            counts[a, b] += 1
        kappa = cohens_kappa(counts).kappa
        assert round(got[tag]["alpha"], 3) == round(alpha, 3)
        assert round(got[tag]["kappa"], 3) == round(kappa, 3)
        assert got[tag]["items"] == 4 and got[tag]["raters"] == 2
    table_out = runner.invoke(app, ["agreement", "--db", path]).output
    assert "re-explain" in table_out and "cohen" in table_out


def test_queue_leases_and_worst_first(db) -> None:  # type: ignore[no-untyped-def]
    _, engine, _ = db
    with session_scope(engine) as s:
        first = next_call(session=s, queue="worst", reviewer="ana")
        second = next_call(session=s, queue="worst", reviewer="bo")
        ids = {c.external_id: c.id for c in s.exec(select(Call))}
    assert first is not None and first.call_id == ids["C-1001"]  # CSAT 2, undecided tags
    # ana holds C-1001: bo is served the next one (C-1003, CSAT 3), never C-1002 (reviewed)
    assert second is not None and second.call_id == ids["C-1003"]
    with session_scope(engine) as s, pytest.raises(ValueError, match="choose one of"):
        next_call(session=s, queue="oldest", reviewer="ana")
    with session_scope(engine) as s:
        # the only undecided model hit is on C-1001, leased to ana: nobody else gets it
        assert next_call(session=s, queue="uncertain", reviewer="cy") is None
        item = next_call(session=s, queue="uncertain", reviewer="ana")
    assert item is not None and item.call_id == ids["C-1001"] and "transfer" in item.reason


def test_rule_precision_from_decisions(db) -> None:  # type: ignore[no-untyped-def]
    _, engine, _ = db
    with session_scope(engine) as s:
        hit = s.exec(select(Tag).where(Tag.tag == "re-explain")).first()
        hit.rule = "re-explain#3"
        s.add(hit)
        record_tag_decision(session=s, call_id=hit.call_id, tag="re-explain", present=False,
                            reviewer="ana", created_at=datetime(2026, 1, 1))  # fmt: skip
        s.flush()
        (found,) = rule_precision(session=s)
        assert len(s.exec(select(Decision)).all()) >= 1
    assert (found.rule, found.confirmed, found.rejected, found.precision) == (
        "re-explain#3", 0, 1, 0.0)  # fmt: skip


def test_uncertain_queue_ranks_by_margin_over_cutoff(db) -> None:  # type: ignore[no-untyped-def]
    """Each tag has its own cut-off: 0.62 over a 0.60 cut-off is less sure than 0.55 over 0.30."""
    _, engine, _ = db
    with session_scope(engine) as s:
        ids = {c.external_id: c.id for c in s.exec(select(Call))}
        for hit in s.exec(select(Tag).where(Tag.method == "model")):
            s.delete(hit)
        s.add(Tag(call_id=ids["C-1002"], tag="rushed", method="model", score=0.55, cutoff=0.30))
        s.add(Tag(call_id=ids["C-1004"], tag="long-wait", method="model", score=0.62,
                  cutoff=0.60))  # fmt: skip
        s.flush()
        item = next_call(session=s, queue="uncertain", reviewer="ana")
    assert item is not None and item.call_id == ids["C-1004"]
    assert "cut-off 0.60" in item.reason
