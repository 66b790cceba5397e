"""Ingest on SQLite and PostgreSQL: validation, rejects, idempotent upserts, column mapping."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlmodel import Session, select

from qa.ingest.exports import IngestError, ingest_calls, ingest_surveys, parse_mapping
from qa.store.schema import Call, Survey

HEADER = (
    "call_id,started_at,agent_id,agent_name,team,queue,customer_id,direction,"
    "wait_seconds,talk_seconds,hold_seconds,acw_seconds,abandoned,transferred,recording"
)
GOOD = [
    "C1,2026-11-02T09:00:00,A1,Ann,North,billing,K1,inbound,10,300,20,30,no,no,rec/c1.wav",
    "C2,2026-11-02T10:00:00,,,,billing,K2,inbound,95,0,0,0,yes,no,",
    "C3,2026-11-03T11:00:00,A2,Bob,South,tech,K1,inbound,5,200,0,15,no,yes,",
]


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def calls_csv(tmp_path: Path) -> Path:
    write(tmp_path / "rec" / "c1.wav", ["not really audio, ingest only hashes it"])
    return write(tmp_path / "calls.csv", [HEADER, *GOOD])


def test_good_rows_are_stored_and_reingest_changes_nothing(engine, calls_csv: Path) -> None:
    with Session(engine) as session:
        first = ingest_calls(calls_csv, session=session)
        second = ingest_calls(calls_csv, session=session)
        calls = session.exec(select(Call).order_by(Call.external_id)).all()
    assert (first.inserted, first.updated, first.rejects) == (3, 0, [])
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 3)
    assert [c.external_id for c in calls] == ["C1", "C2", "C3"]
    assert calls[0].recording_sha256 and len(calls[0].recording_sha256) == 64
    assert calls[1].abandoned and calls[1].recording_path is None and calls[1].agent_id == ""
    assert calls[2].transferred and calls[0].hold_seconds == 20


def test_bad_rows_are_reported_with_line_and_reason_and_the_rest_stored(
    engine, tmp_path: Path
) -> None:
    path = write(tmp_path / "calls.csv", [
        HEADER, GOOD[1],
        "C4,yesterday,A1,Ann,North,billing,K3,inbound,10,300,0,0,no,no,",
        "C5,2026-11-02T09:00:00,A1,Ann,North,billing,K3,inbound,10,300,0,0,perhaps,no,",
        "C6,2026-11-02T09:00:00,A1,Ann,North,billing,K3,inbound,10,300,0,0,no,no,rec/none.wav",
        "C2,2026-11-02T11:00:00,A1,Ann,North,billing,K2,inbound,10,300,0,0,no,no,",
        "C7,2026-11-02T09:00:00,A1",
        "C8,2026-11-02T12:00:00,A1,Ann,North,billing,K3,inbound,10,-300,0,0,no,no,",
    ])  # fmt: skip
    with Session(engine) as session:
        report = ingest_calls(path, session=session)
        stored = session.exec(select(Call.external_id)).all()
    assert stored == ["C2"]
    reasons = {r.line: r.reason for r in report.rejects}
    assert set(reasons) == {3, 4, 5, 6, 7, 8}
    assert "started_at: 'yesterday' is not an ISO 8601 timestamp" in reasons[3]
    assert "abandoned: 'perhaps' is not a yes/no value" in reasons[4]
    assert "recording: file not found: rec/none.wav" in reasons[5]
    assert "duplicate call_id 'C2' (first seen on line 2)" in reasons[6]
    assert "row has 3 fields but the header has 15" in reasons[7]
    assert "talk_seconds: '-300' must be a finite number >= 0" in reasons[8]
    assert report.rejects_path == tmp_path / "calls.rejects.csv"
    with report.rejects_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["line"] for r in rows] == ["3", "4", "5", "6", "7", "8"]
    assert rows[0]["call_id"] == "C4" and rows[0]["started_at"] == "yesterday"
    assert any("calls.csv:3: started_at" in line for line in report.lines())


def test_fixed_file_clears_stale_rejects(engine, tmp_path: Path) -> None:
    bad = "C9,2026-11-02T12:00:00,A1,Ann,North,billing,K3,inbound,x,1,0,0,no,no,"
    path = write(tmp_path / "calls.csv", [HEADER, bad])
    with Session(engine) as session:
        assert ingest_calls(path, session=session).rejects
        write(path, [HEADER, bad.replace(",x,", ",4,")])
        report = ingest_calls(path, session=session)
    assert report.inserted == 1 and not report.rejects
    assert not (tmp_path / "calls.rejects.csv").exists()


def test_changed_recording_resets_status_to_pending(engine, calls_csv: Path) -> None:
    with Session(engine) as session:
        ingest_calls(calls_csv, session=session)
        call = session.exec(select(Call).where(Call.external_id == "C1")).one()
        call.status, call.error = "failed", "corrupt"
        session.add(call)
        session.commit()
        (calls_csv.parent / "rec" / "c1.wav").write_text("fixed audio")
        report = ingest_calls(calls_csv, session=session)
        session.refresh(call)
    assert report.updated == 1
    assert (call.status, call.error) == ("pending", None)


def test_column_mapping_and_unknown_columns(engine, tmp_path: Path) -> None:
    path = write(tmp_path / "export.csv", [
        "CallID,StartTime,Agent,Customer,Extra",
        "X1,2026-11-02T09:00:00,A1,K1,whatever",
    ])  # fmt: skip
    mapping = parse_mapping(["call_id=CallID", "started_at=StartTime", "agent_id=Agent",
                             "customer_id=Customer"])  # fmt: skip
    with Session(engine) as session:
        report = ingest_calls(path, session=session, mapping=mapping)
        call = session.exec(select(Call)).one()
    assert report.inserted == 1 and (call.agent_id, call.customer_id) == ("A1", "K1")
    assert any("unknown column(s) ignored: Extra" in w for w in report.warnings)


def test_missing_required_column_names_what_exists(engine, tmp_path: Path) -> None:
    path = write(tmp_path / "calls.csv", ["id,StartTime", "C1,2026-11-02T09:00:00"])
    with Session(engine) as session, pytest.raises(IngestError) as info:
        ingest_calls(path, session=session)
    message = str(info.value)
    assert "missing required column(s): call_id" in message
    assert "Columns in the file: id, StartTime" in message and "--map" in message


def test_parse_mapping_errors_list_valid_columns() -> None:
    with pytest.raises(IngestError, match="unknown column 'start'; valid: call_id, started_at"):
        parse_mapping(["start=StartTime"])
    with pytest.raises(IngestError, match="expected COLUMN=SourceColumn"):
        parse_mapping(["started_at"])


def test_bom_and_windows_1252_files_are_read(engine, tmp_path: Path) -> None:
    path = tmp_path / "surveys.csv"
    path.write_bytes("\ufeffcall_id,csat,comment\nC1,2,caf\u00e9 was slow\n".encode())
    latin = tmp_path / "latin.csv"
    latin.write_bytes("call_id,csat,comment\nC2,5,tr\u00e8s bien\n".encode("cp1252"))
    with Session(engine) as session:
        assert ingest_surveys(path, session=session).inserted == 1
        report = ingest_surveys(latin, session=session)
        comments = dict(session.exec(select(Survey.call_external_id, Survey.comment)).all())
    assert comments == {"C1": "caf\u00e9 was slow", "C2": "tr\u00e8s bien"}
    assert any("not valid UTF-8" in w for w in report.warnings)


def test_surveys_validate_ranges_and_may_arrive_before_calls(engine, tmp_path: Path) -> None:
    path = write(tmp_path / "surveys.csv", [
        "call_id,submitted_at,csat,nps,ces,fcr,comment",
        "C1,2026-11-02T10:00:00,4,,3,yes,\"Had to explain, twice\"",
        "C2,2026-11-02T10:00:00,9,5,3,yes,",
        "C3,2026-11-02T10:00:00,3,5,3,sometimes,",
    ])  # fmt: skip
    with Session(engine) as session:
        report = ingest_surveys(path, session=session)
        survey = session.exec(select(Survey)).one()
    assert report.inserted == 1 and len(report.rejects) == 2
    assert "csat: '9' is out of range; expected a whole number 1-5" in report.rejects[0].reason
    assert "fcr: 'sometimes' is not a yes/no value" in report.rejects[1].reason
    assert (survey.call_external_id, survey.nps, survey.fcr) == ("C1", None, True)
    assert survey.comment == "Had to explain, twice"


def test_missing_file_and_empty_file_are_fatal(engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        with pytest.raises(IngestError, match="file not found"):
            ingest_calls(tmp_path / "nope.csv", session=session)
        (tmp_path / "empty.csv").write_text("")
        with pytest.raises(IngestError, match="empty file; a header row is required"):
            ingest_calls(tmp_path / "empty.csv", session=session)
