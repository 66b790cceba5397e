"""``qa nightly`` end to end with the real models on a copy of the demo call center.

One corrupt recording and one malformed survey row: the run finishes with exit 2, names both
problems and stores everything else; after fixing them a second run completes the rest
without duplicating anything.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from qa.cli import app
from qa.demo.project import DATA_DIR
from qa.store.schema import AudioRedaction, Call, Run, Survey, Tag, Turn

pytestmark = pytest.mark.slow
KEEP_RECORDINGS = 3  # enough to show the behaviour; the full demo runs in test_demo.py


def small_demo_copy(target: Path) -> tuple[Path, str, str]:
    """Copy the demo; keep only a few recordings; corrupt one; return (folder, call, recording)."""
    shutil.copytree(DATA_DIR, target)
    with (target / "calls.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    kept = 0
    for row in rows:
        if row["recording"]:
            kept += 1
            if kept > KEEP_RECORDINGS:
                row["recording"] = ""
    with (target / "calls.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    victim = next(r for r in rows if r["recording"])
    recording = target / victim["recording"]
    backup = target.parent / "backup.audio"
    shutil.copy(recording, backup)
    recording.write_bytes(b"\x00garbage, not audio" * 50)
    return target, victim["call_id"], str(backup)


def counts(db: str) -> dict[str, int]:
    from qa.store.engine import make_engine

    engine = make_engine(db)
    with Session(engine) as session:
        out = {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in (Call, Survey, Turn, Tag)
        }
    engine.dispose()
    return out


def test_nightly_reports_bad_input_and_a_rerun_completes(tmp_path: Path) -> None:
    folder, bad_call, backup = small_demo_copy(tmp_path / "drop")
    surveys = folder / "surveys.csv"
    original_surveys = surveys.read_text()
    with surveys.open("a") as handle:
        handle.write("C-LATE,2026-11-16T10:00:00,9,5,3,yes,the agent was rude\n")
    db = str(tmp_path / "nightly.db")
    runner = CliRunner()

    first = runner.invoke(app, ["nightly", str(folder), "--db", db])
    assert first.exit_code == 2, first.output
    assert "csat: '9' is out of range" in first.output
    assert f"call {bad_call}" in first.output and "garbage" not in first.output
    after_first = counts(db)
    assert after_first["Turn"] > 0 and after_first["Tag"] > 0
    from qa.store.engine import make_engine

    engine = make_engine(db)
    with Session(engine) as session:
        failed = session.exec(select(Call).where(Call.external_id == bad_call)).one()
        assert failed.status == "failed" and failed.error
        transcribed = session.exec(select(Call).where(Call.status == "tagged")).all()
        assert len(transcribed) >= 2
    engine.dispose()

    shutil.copy(backup, folder / failed.recording_path.split("/drop/", 1)[1])
    surveys.write_text(original_surveys)
    second = runner.invoke(app, ["nightly", str(folder), "--db", db])
    assert second.exit_code == 0, second.output
    assert "transcribe: 1 done, 0 failed" in second.output
    after_second = counts(db)
    assert after_second["Call"] == after_first["Call"]
    assert after_second["Survey"] == after_first["Survey"]
    assert after_second["Turn"] > after_first["Turn"]

    third = runner.invoke(app, ["nightly", str(folder), "--db", db])
    assert third.exit_code == 0 and "transcribe: 0 done" in third.output
    assert counts(db) == after_second
    # The run stored the morning's views: qa kpis and the Insights tab are served, not computed.
    assert "stored views: qa kpis" in third.output
    kpis = runner.invoke(app, ["kpis", "--db", db])
    assert kpis.exit_code == 0 and "stored result of" in kpis.stderr
    engine = make_engine(db)
    with Session(engine) as session:
        runs = session.exec(select(Run).order_by(Run.id)).all()
        assert [r.status for r in runs] == ["partial", "ok", "ok"]
        assert runs[0].counts["surveys"]["rejected"] == 1
        assert session.exec(select(Call).where(Call.status == "failed")).all() == []
        # Each transcribed call keeps the times of its redacted words, so the UI can play its
        # recording with them beeped (qa.review.playback); names in the demo calls are redacted.
        spans = session.exec(select(AudioRedaction)).all()
        assert len(spans) == KEEP_RECORDINGS
        assert any(times for row in spans for times in row.spans.values())
    engine.dispose()
