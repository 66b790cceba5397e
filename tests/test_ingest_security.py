"""Ingest cannot be poisoned: findings of the penetration test, each on real files.

Recordings outside the export folder, dates and durations that overflow the KPIs, stray
quotes that swallow rows, megabyte fields, NUL bytes that cost PostgreSQL a whole batch, and
rejects files that copied card numbers verbatim or held spreadsheet formulas.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

import qa.ingest.csvfile
import qa.ingest.report
import qa.ingest.upsert
from qa.cli import app
from qa.ingest.exports import (
    IngestError,
    IngestOptions,
    ingest_calls,
    ingest_surveys,
    options_from_cli,
)
from qa.store.schema import Call, Survey, Tag
from tests import pg

runner = CliRunner()
HEADER = (
    "call_id,started_at,agent_id,agent_name,team,queue,customer_id,direction,"
    "wait_seconds,talk_seconds,hold_seconds,acw_seconds,abandoned,transferred,recording"
)
SURVEY_HEADER = "call_id,submitted_at,csat,nps,ces,fcr,comment"


def call(call_id: str, recording: str = "", **values: str) -> str:
    """One calls.csv line; ``values`` override the defaults by column name."""
    row = {
        "call_id": call_id, "started_at": "2026-11-02T09:00:00", "agent_id": "A1",
        "agent_name": "Ann", "team": "North", "queue": "billing", "customer_id": "K1",
        "direction": "inbound", "wait_seconds": "10", "talk_seconds": "300",
        "hold_seconds": "20", "acw_seconds": "30", "abandoned": "no", "transferred": "no",
        "recording": recording,
    }  # fmt: skip
    row.update(values)
    return ",".join(row[name] for name in HEADER.split(","))


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def reasons(report: qa.ingest.report.IngestReport) -> dict[int, str]:
    return {r.line: r.reason for r in report.rejects}


def read_rejects(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """A SQLite database for the checks that do not depend on the backend."""
    from qa.store.engine import make_engine

    eng = make_engine(f"sqlite:///{tmp_path / 'sec.db'}")
    yield eng
    eng.dispose()


@pytest.fixture
def pg_engine(pg_cluster: pg.PgCluster) -> Iterator:  # type: ignore[type-arg]
    """A fresh PostgreSQL database: the backend that refuses NUL and over-long text."""
    from qa.store.engine import make_engine

    name = pg.unique_dbname()
    eng = make_engine(pg_cluster.create_database(name))
    yield eng
    eng.dispose()
    pg_cluster.drop_database(name)


# -- 1. recordings stay inside the export folder ------------------------------------------


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every path ingest hashes (so opens), in order."""
    seen: list[Path] = []
    real = qa.ingest.upsert.sha256_file

    def spy(path: Path) -> str:
        seen.append(Path(path))
        return real(path)

    monkeypatch.setattr(qa.ingest.upsert, "sha256_file", spy)
    return seen


def test_recordings_outside_the_export_folder_are_rejected_unread(
    sqlite_engine, tmp_path: Path, hashed: list[Path]
) -> None:
    export = tmp_path / "export"
    write(export / "rec" / "ok.wav", ["audio"])
    outside = write(tmp_path / "outside.wav", ["secret"])
    (export / "rec" / "link.wav").symlink_to(outside)
    (export / "rec" / "dirlink").symlink_to(tmp_path, target_is_directory=True)
    path = write(export / "calls.csv", [
        HEADER,
        call("C1", "rec/ok.wav"),
        call("C2", "../outside.wav"),
        call("C3", "/etc/passwd"),
        call("C4", "rec/link.wav"),
        call("C5", "rec/dirlink/outside.wav"),
        call("C6", "../../../../etc/passwd"),
        call("C7", str(export / "rec" / "ok.wav")),  # absolute but inside: fine
    ])  # fmt: skip
    with Session(sqlite_engine) as session:
        report = ingest_calls(path, session=session)
        stored = session.exec(select(Call.external_id).order_by(Call.external_id)).all()
    assert stored == ["C1", "C7"]
    assert reasons(report) == {
        3: "recording: '../outside.wav' is outside the export folder",
        4: "recording: '/etc/passwd' is outside the export folder",
        5: "recording: 'rec/link.wav' is outside the export folder",
        6: "recording: 'rec/dirlink/outside.wav' is outside the export folder",
        7: "recording: '../../../../etc/passwd' is outside the export folder",
    }
    assert all(p.resolve().is_relative_to(export.resolve()) for p in hashed)
    assert len(hashed) == 2
    assert any("calls.csv:4: recording: '/etc/passwd' is outside" in x for x in report.lines())


def test_recordings_root_is_the_allowed_folder_when_given(
    sqlite_engine, tmp_path: Path, hashed: list[Path]
) -> None:
    store = tmp_path / "store"
    write(store / "a.wav", ["audio a"])
    write(store / "day" / "b.wav", ["audio b"])
    write(tmp_path / "export" / "local.wav", ["beside the csv"])
    path = write(tmp_path / "export" / "calls.csv", [
        HEADER,
        call("C1", "a.wav"),  # relative to the recordings root
        call("C2", str(store / "day" / "b.wav")),
        call("C3", "../export/local.wav"),  # resolves outside the root
        call("C4", str(tmp_path / "export" / "local.wav")),
    ])  # fmt: skip
    options = IngestOptions(recordings_root=store)
    with Session(sqlite_engine) as session:
        report = ingest_calls(path, session=session, options=options)
        stored = dict(session.exec(select(Call.external_id, Call.recording_path)).all())
    assert stored == {"C1": str((store / "a.wav").resolve()),
                      "C2": str((store / "day" / "b.wav").resolve())}  # fmt: skip
    assert (
        reasons(report)[4]
        == f"recording: '../export/local.wav' is outside --recordings-root {store}"
    )
    assert f"is outside --recordings-root {store}" in reasons(report)[5]
    assert len(hashed) == 2


# -- 2. bounded dates and durations ---------------------------------------------------------


def test_out_of_range_dates_and_durations_are_rejected(sqlite_engine, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    soon, later = (now + timedelta(hours=23)), (now + timedelta(hours=25))
    path = write(tmp_path / "calls.csv", [
        HEADER,
        call("C1", started_at="9999-12-31T23:59:59"),
        call("C2", started_at="1999-12-31T23:59:59"),
        call("C3", started_at=later.isoformat(timespec="seconds")),
        call("C4", talk_seconds="1e308"),
        call("C5", hold_seconds="1e308"),
        call("C6", wait_seconds="86401"),
        call("C7", acw_seconds="inf"),
        call("C8", talk_seconds="nan"),
        call("C9", started_at="2000-01-01T00:00:00", talk_seconds="86400", wait_seconds="86400"),
        call("C10", started_at=soon.isoformat(timespec="seconds")),
    ])  # fmt: skip
    with Session(sqlite_engine) as session:
        report = ingest_calls(path, session=session)
        stored = session.exec(select(Call.external_id).order_by(Call.external_id)).all()
    assert stored == ["C10", "C9"]
    why = reasons(report)
    assert why[2].startswith("started_at: '9999-12-31T23:59:59' is after ")
    assert "(one day from now); use --max-date to accept later dates" in why[2]
    assert why[3] == "started_at: '1999-12-31T23:59:59' is before 2000-01-01"
    assert why[4].startswith("started_at: ") and "is after" in why[4]
    assert why[5] == "talk_seconds: '1e308' is over 24 hours; expected seconds 0-86400"
    assert why[6] == "hold_seconds: '1e308' is over 24 hours; expected seconds 0-86400"
    assert why[7] == "wait_seconds: '86401' is over 24 hours; expected seconds 0-86400"
    assert why[8] == "acw_seconds: 'inf' must be a finite number >= 0"
    assert why[9] == "talk_seconds: 'nan' must be a finite number >= 0"


def test_max_date_moves_the_upper_bound(sqlite_engine, tmp_path: Path) -> None:
    calls = write(tmp_path / "calls.csv", [HEADER, call("C1", started_at="2031-05-01T10:00:00")])
    surveys = write(tmp_path / "surveys.csv", [
        SURVEY_HEADER, "C1,2031-05-01T11:00:00,5,10,1,yes,", "C2,9999-12-31T23:59:59,5,,,,",
        "C3,2026-11-02T10:00:00,1e308,,,,",
    ])  # fmt: skip
    options = options_from_cli(max_date="2031-12-31")
    with Session(sqlite_engine) as session:
        assert ingest_calls(calls, session=session).inserted == 0
        assert ingest_calls(calls, session=session, options=options).inserted == 1
        report = ingest_surveys(surveys, session=session, options=options)
    assert report.inserted == 1
    assert reasons(report)[3] == (
        "submitted_at: '9999-12-31T23:59:59' is after 2031-12-31T00:00:00 (--max-date); "
        "use --max-date to accept later dates"
    )
    assert reasons(report)[4].startswith("csat: '1e308' is out of range")


def test_options_from_cli_names_the_bad_option(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="--max-date: 'soon' is not an ISO 8601 timestamp"):
        options_from_cli(max_date="soon")
    with pytest.raises(IngestError, match="--max-date '1990-01-01' is before 2000-01-01"):
        options_from_cli(max_date="1990-01-01")
    with pytest.raises(IngestError, match=r"--recordings-root .*nowhere: not a folder"):
        options_from_cli(recordings_root=tmp_path / "nowhere")
    with pytest.raises(IngestError, match="--max-field-bytes 0: must be at least 1"):
        options_from_cli(max_field_bytes=0)
    assert options_from_cli().max_field_bytes == 1_000_000


# -- 3. robust CSV reading -----------------------------------------------------------------


SURVEY_ROWS = [
    "S1,2026-11-02T10:00:00,5,10,1,yes,fine",
    'S2,2026-11-02T10:00:00,4,9,2,yes,"great service',  # the quote is never closed
    "S3,2026-11-02T10:00:00,3,7,3,no,ok",
    "S4,2026-11-02T10:00:00,2,5,4,no,slow",
    "S5,2026-11-02T10:00:00,1,0,7,no,rude",
]


def test_unbalanced_quote_in_surveys_is_reported_and_the_good_rows_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_REDACTION", "off")
    path = write(tmp_path / "surveys.csv", [SURVEY_HEADER, *SURVEY_ROWS])
    db = str(tmp_path / "q.db")
    result = runner.invoke(app, ["ingest", "--surveys", str(path), "--db", db])
    assert result.exit_code == 2, result.output
    assert (
        "surveys.csv:3: comment: unbalanced quote: this field runs from line 3 to the end of the "
        "file (line 6) and swallowed 3 rows; fix the quote"
    ) in result.output
    assert "4 new, 0 updated, 0 unchanged, 1 rejected" in result.output
    from qa.store.engine import make_engine

    engine = make_engine(db)
    with Session(engine) as session:
        stored = dict(session.exec(select(Survey.call_external_id, Survey.comment)).all())
    engine.dispose()
    assert stored == {"S1": "fine", "S3": "ok", "S4": "slow", "S5": "rude"}
    rejects = read_rejects(tmp_path / "surveys.rejects.csv")
    assert [row[1] for row in rejects[1:]] == ["3"] and rejects[1][3] == "S2"


def test_two_stray_quotes_that_pair_up_still_lose_only_their_rows(
    sqlite_engine, tmp_path: Path
) -> None:
    rows = [*SURVEY_ROWS]
    rows[3] = 'S4,2026-11-02T10:00:00,2,5,4,no,slow"'  # closes the quote opened on S2
    rows.append('S6,2026-11-02T10:00:00,3,5,4,no,"a real\nmulti-line, comment"')
    path = write(tmp_path / "surveys.csv", [SURVEY_HEADER, *rows])
    with Session(sqlite_engine) as session:
        report = ingest_surveys(path, session=session)
        stored = dict(session.exec(select(Survey.call_external_id, Survey.comment)).all())
    assert reasons(report) == {
        3: "comment: unbalanced quote: this field runs over lines 3-5 and swallowed 2 rows; "
        "fix the quote"
    }
    assert stored == {"S1": "fine", "S3": "ok", "S4": 'slow"', "S5": "rude",
                      "S6": "a real\nmulti-line, comment"}  # fmt: skip


def test_unbalanced_quote_in_calls_loses_one_row_not_seven(sqlite_engine, tmp_path: Path) -> None:
    lines = [
        HEADER,
        call("C1"),
        call("C2", agent_name='"Ann'),
        *(call(f"C{i}") for i in range(3, 9)),
    ]
    path = write(tmp_path / "calls.csv", lines)
    with Session(sqlite_engine) as session:
        report = ingest_calls(path, session=session)
        stored = session.exec(select(Call.external_id)).all()
    assert sorted(stored) == ["C1", "C3", "C4", "C5", "C6", "C7", "C8"]
    assert list(reasons(report)) == [3]
    assert reasons(report)[3].startswith(
        "agent_name: unbalanced quote: this field runs from line 3"
    )
    assert "swallowed 6 rows; fix the quote" in reasons(report)[3]


def test_legitimate_multi_line_fields_are_kept(sqlite_engine, tmp_path: Path) -> None:
    path = tmp_path / "surveys.csv"
    path.write_bytes(
        b"call_id,submitted_at,csat,nps,ces,fcr,comment\r\n"
        b'S1,2026-11-02T10:00:00,5,10,1,yes,"line one\r\nline two, with ""quotes"""\r\n'
        b"S2,2026-11-02T10:00:00,4,9,2,yes,plain\r\n"
        b'S3,2026-11-02T10:00:00,4,9,2,yes,"last\nrow"'
    )
    with Session(sqlite_engine) as session:
        report = ingest_surveys(path, session=session)
        stored = dict(session.exec(select(Survey.call_external_id, Survey.comment)).all())
    assert report.rejects == []
    assert stored == {"S1": 'line one\r\nline two, with "quotes"', "S2": "plain",
                      "S3": "last\nrow"}  # fmt: skip


def test_a_10_mb_field_rejects_its_row_and_the_rest_is_stored(
    sqlite_engine, tmp_path: Path
) -> None:
    before = csv.field_size_limit()
    huge = "x" * 10_000_000
    lines = [HEADER, *(call(f"C{i}") for i in range(1, 4)), call("BIG", agent_name=huge),
             *(call(f"C{i}") for i in range(4, 6))]  # fmt: skip
    path = write(tmp_path / "calls.csv", lines)
    with Session(sqlite_engine) as session:
        report = ingest_calls(path, session=session)
        stored = session.exec(select(Call.external_id)).all()
    assert sorted(stored) == ["C1", "C2", "C3", "C4", "C5"]
    assert reasons(report) == {
        5: "agent_name: field is 10000000 bytes, over the 1000000-byte limit"
    }
    assert csv.field_size_limit() == before  # the process-wide limit is restored
    assert report.rejects_path is not None and report.rejects_path.stat().st_size < 5_000
    cell = read_rejects(report.rejects_path)[1][6]
    assert cell == "x" * 1000 + "…[truncated, 10000000 bytes]"


def test_max_field_bytes_is_an_option(sqlite_engine, tmp_path: Path) -> None:
    path = write(tmp_path / "calls.csv", [HEADER, call("C1", agent_name="é" * 60), call("C2")])
    with Session(sqlite_engine) as session:
        report = ingest_calls(path, session=session, options=IngestOptions(max_field_bytes=100))
    assert reasons(report) == {2: "agent_name: field is 120 bytes, over the 100-byte limit"}
    assert report.inserted == 1


def test_wrong_field_count_names_the_line(sqlite_engine, tmp_path: Path) -> None:
    path = write(tmp_path / "calls.csv", [HEADER, call("C1"), call("C2") + ",extra", "C3"])
    with Session(sqlite_engine) as session:
        report = ingest_calls(path, session=session)
    assert reasons(report) == {
        3: "row has 16 fields but the header has 15",
        4: "row has 1 fields but the header has 15",
    }


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_nul_byte_rejects_its_row_not_the_batch(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    engine = request.getfixturevalue(f"{'pg' if backend == 'postgres' else 'sqlite'}_engine")
    lines = [HEADER, *(call(f"C{i:03d}") for i in range(600))]
    lines[11] = call("C010", agent_name="An\x00n")
    survey_lines = [SURVEY_HEADER, *(f"C{i:03d},,5,,,,ok" for i in range(600))]
    survey_lines[5] = "C004,,5,,,,bad\x00comment"
    calls = write(tmp_path / "calls.csv", lines)
    surveys = write(tmp_path / "surveys.csv", survey_lines)
    with Session(engine) as session:
        report = ingest_calls(calls, session=session)
        survey_report = ingest_surveys(surveys, session=session)
        assert len(session.exec(select(Call.id)).all()) == 599
        assert len(session.exec(select(Survey.id)).all()) == 599
    assert reasons(report) == {12: "agent_name: contains a NUL byte"}
    assert reasons(survey_report) == {6: "comment: contains a NUL byte"}
    assert report.rejects_path is not None
    assert b"\x00" not in report.rejects_path.read_bytes()
    assert read_rejects(report.rejects_path)[1][6] == "Ann"


@pytest.mark.postgres
def test_a_row_postgresql_refuses_costs_only_that_row(
    pg_engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Defence in depth: with the NUL check switched off, the database's refusal of one row
    # still rejects that row only, and the other 599 of its chunk are written one by one.
    monkeypatch.setattr(qa.ingest.csvfile, "_field_problem", lambda *args: None)
    lines = [HEADER, *(call(f"C{i:03d}") for i in range(600))]
    lines[11] = call("C010", agent_name="An\x00n")
    path = write(tmp_path / "calls.csv", lines)
    with Session(pg_engine) as session:
        report = ingest_calls(path, session=session)
        assert len(session.exec(select(Call.id)).all()) == 599
    assert list(reasons(report)) == [12]
    assert reasons(report)[12].startswith("the database refused the row: ")
    assert report.inserted == 599


def test_values_longer_than_their_column_are_rejected(sqlite_engine, tmp_path: Path) -> None:
    # SQLite would keep them; PostgreSQL's VARCHAR(128) would refuse the whole chunk.
    path = write(tmp_path / "calls.csv", [HEADER, call("C" * 129), call("C2", team="t" * 200)])
    with Session(sqlite_engine) as session:
        report = ingest_calls(path, session=session)
    assert reasons(report) == {
        2: "call_id: 129 characters, longer than the 128 the database holds",
        3: "team: 200 characters, longer than the 128 the database holds",
    }


# -- 4. rejects carry no PII and no formulas -------------------------------------------------


def test_rejects_are_formula_escaped_and_printable(sqlite_engine, tmp_path: Path) -> None:
    rows = [
        dict(zip(HEADER.split(","), call("X").split(","), strict=True)),
        dict(zip(HEADER.split(","), call("X").split(","), strict=True)),
    ]
    rows[0] |= {"call_id": '=HYPERLINK("x")', "agent_name": "+cmd|' /C calc'!A0",
                "team": "@SUM(A1)", "wait_seconds": "-1"}  # fmt: skip
    rows[1] |= {"call_id": "C2", "agent_name": "-2+3", "started_at": "\x1b]0;pwned\x07"}
    path = tmp_path / "calls.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER.split(","))
        writer.writeheader()
        writer.writerows(rows)
    with Session(sqlite_engine) as session:
        report = ingest_calls(path, session=session)
    out = read_rejects(tmp_path / "calls.rejects.csv")
    assert out[0][:4] == ["file", "line", "reason", "call_id"]
    assert out[1][3] == '\'=HYPERLINK("x")'
    assert out[1][6] == "'+cmd|' /C calc'!A0" and out[1][7] == "'@SUM(A1)"
    assert out[1][2] == "wait_seconds: '-1' must be a finite number >= 0"
    assert out[1][11] == "-1"  # a number stays a number
    assert out[2][6] == "'-2+3"
    assert all("\x1b" not in r.reason for r in report.rejects)
    assert out[2][2] == "started_at: '\\x1b]0;pwned\\x07' is not an ISO 8601 timestamp" + (
        " (e.g. 2026-11-02T09:14:00)"
    )


@pytest.mark.slow
def test_rejected_rows_are_redacted_in_the_file_and_on_the_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QA_REDACTION", raising=False)  # the default: redacted
    card, email = "4111 1111 1111 1111", "jane.doe@example.com"
    path = write(tmp_path / "surveys.csv", [
        SURVEY_HEADER,
        "S1,2026-11-02T10:00:00,5,10,1,yes,fine",
        f"S2,2026-11-02T10:00:00,9,,,,my card {card} and mail {email}",
        f"S3,2026-11-02T10:00:00,{email},,,,card {card}",
    ])  # fmt: skip
    result = runner.invoke(app, ["ingest", "--surveys", str(path), "--db", str(tmp_path / "r.db")])
    assert result.exit_code == 2, result.output
    assert "surveys.csv:3: csat: '9' is out of range" in result.output
    assert "surveys.csv:4: csat: '[EMAIL_ADDRESS]' is not a number" in result.output
    text = (tmp_path / "surveys.rejects.csv").read_text(encoding="utf-8")
    for secret in (card, card.replace(" ", ""), email, "1111 1111"):
        assert secret not in text and secret not in result.output
    assert "[CREDIT_CARD]" in text and "[EMAIL_ADDRESS]" in text


# -- 5. whatever ingest accepts, the KPIs, report and drivers can handle ---------------------


def boundary_exports(folder: Path) -> tuple[Path, Path]:
    """Calls and surveys at every bound ingest allows, among ordinary rows."""
    soon = (datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=23)).isoformat(
        timespec="seconds"
    )
    day = "86400"
    calls = [
        HEADER,
        call("B1", started_at="2000-01-01T00:00:00", wait_seconds=day, talk_seconds=day,
             hold_seconds=day, acw_seconds=day),
        call("B2", started_at=soon, wait_seconds=day, talk_seconds=day, hold_seconds=day,
             acw_seconds=day, transferred="yes"),
        call("B3", started_at="2000-01-01T00:00:00", agent_id="", agent_name="", team="",
             wait_seconds=day, talk_seconds="0", hold_seconds="0", acw_seconds="0",
             abandoned="yes"),
        call("B4", started_at=soon, agent_id="", team="", direction="outbound",
             talk_seconds="0", hold_seconds="0", acw_seconds="0", abandoned="yes"),
        call("B5", started_at="2000-01-01T00:00:01", customer_id="K1", talk_seconds=day),
        *(call(f"N{i}", started_at=f"2026-11-{1 + i % 20:02d}T10:00:00", agent_id=f"A{i % 3}",
               team=f"T{i % 2}", queue=f"q{i % 2}", customer_id=f"K{i % 5}",
               wait_seconds=str(i), talk_seconds=str(100 + i),
               abandoned="yes" if i % 7 == 0 else "no",
               transferred="yes" if i % 4 == 0 else "no") for i in range(30)),
    ]  # fmt: skip
    surveys = [
        SURVEY_HEADER,
        "B1,2000-01-01T00:00:00,1,0,7,no,terrible",
        f"B2,{soon},5,10,1,yes,great",
        f"B5,{soon},3,5,4,,",
        *(f"N{i},2026-11-{1 + i % 20:02d}T12:00:00,{1 + i % 5},{i % 11},{1 + i % 7},"
          f"{'yes' if i % 2 else 'no'},comment {i}" for i in range(30)),
    ]  # fmt: skip
    return write(folder / "calls.csv", calls), write(folder / "surveys.csv", surveys)


def test_boundary_values_never_crash_kpis_report_or_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_REDACTION", "off")
    calls, surveys = boundary_exports(tmp_path / "export")
    db = str(tmp_path / "bounds.db")
    result = runner.invoke(
        app, ["ingest", "--calls", str(calls), "--surveys", str(surveys), "--db", db]
    )
    assert result.exit_code == 0, result.output
    from qa.store.engine import make_engine

    engine = make_engine(db)
    with Session(engine) as session:  # some tags, so `why` has effects to estimate
        for index, row in enumerate(session.exec(select(Call)).all()):
            if index % 2:
                session.add(Tag(call_id=row.id, tag="long-hold", evidence="on hold"))
            if index % 3 == 0:
                session.add(Tag(call_id=row.id, tag="re-explain", evidence="again"))
        session.commit()
    engine.dispose()

    kpis = runner.invoke(app, ["kpis", "--format", "json", "--db", db])
    assert kpis.exit_code == 0, kpis.output
    assert json.loads(kpis.stdout)["calls_offered"] == 35
    for by in ("week", "day", "agent", "team", "queue"):
        grouped = runner.invoke(app, ["kpis", "--by", by, "--db", db])
        assert grouped.exit_code == 0, (by, grouped.output)
        assert "1999-W52" in grouped.stdout or by != "week"  # ISO week of 2000-01-01
    csv_out = runner.invoke(app, ["kpis", "--by", "week", "--format", "csv", "--db", db])
    assert csv_out.exit_code == 0 and csv_out.stdout.startswith("group,")
    out = tmp_path / "bounds.html"
    report = runner.invoke(app, ["report", "--out", str(out), "--db", db])
    assert report.exit_code == 0, report.output
    assert out.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    for outcome in ("csat", "fcr", "nps", "ces", "repeat"):
        why = runner.invoke(app, ["why", "--outcome", outcome, "--db", db])
        assert why.exit_code == 0, (outcome, why.output)
        assert why.stdout.strip()
    assert runner.invoke(app, ["why", "--by", "team", "--db", db]).exit_code == 0
    assert runner.invoke(app, ["why", "--compare", "LAST_WEEK", "--db", db]).exit_code == 0


# -- 6. the options reach ingest from both commands -----------------------------------------


def test_ingest_command_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_REDACTION", "off")
    store = tmp_path / "store"
    write(store / "a.wav", ["audio"])
    path = write(tmp_path / "export" / "calls.csv", [
        HEADER, call("C1", "a.wav", started_at="2031-01-01T00:00:00"),
        call("C2", agent_name="y" * 300),
    ])  # fmt: skip
    db = str(tmp_path / "o.db")
    base = ["ingest", "--calls", str(path), "--db", db]
    result = runner.invoke(app, base)
    assert result.exit_code == 2
    assert "calls.csv:2: recording: file not found: a.wav" in result.output
    assert "calls.csv:2: started_at: '2031-01-01T00:00:00' is after" not in result.output
    result = runner.invoke(app, [*base, "--recordings-root", str(store), "--max-date",
                                 "2031-06-01", "--max-field-bytes", "100"])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "1 new, 0 updated, 0 unchanged, 1 rejected" in result.output
    assert "calls.csv:3: agent_name: field is 300 bytes, over the 100-byte limit" in result.output
    bad = runner.invoke(app, [*base, "--max-date", "next year"])
    assert bad.exit_code == 1 and "--max-date: 'next year' is not an ISO 8601" in bad.output
    bad = runner.invoke(app, ["nightly", str(path.parent), "--db", db, "--recordings-root",
                              str(tmp_path / "nowhere")])  # fmt: skip
    assert bad.exit_code == 1 and "not a folder" in bad.output


def test_run_nightly_passes_the_options_to_both_ingests(
    sqlite_engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.stages.nightly
    from qa.config import Settings

    seen: dict[str, dict] = {}

    class Stop(Exception):
        pass

    def spy(kind: str):  # type: ignore[no-untyped-def]
        def ingest(path: Path, **kwargs):  # type: ignore[no-untyped-def]
            seen[kind] = kwargs
            if kind == "surveys":
                raise Stop
            return qa.ingest.report.IngestReport(file=path, kind=kind)

        return ingest

    monkeypatch.setattr(qa.stages.nightly, "ingest_calls", spy("calls"))
    monkeypatch.setattr(qa.stages.nightly, "ingest_surveys", spy("surveys"))
    write(tmp_path / "calls.csv", [HEADER])
    write(tmp_path / "surveys.csv", [SURVEY_HEADER])
    options = IngestOptions(recordings_root=tmp_path, max_field_bytes=10)
    settings = Settings.from_env({"QA_REDACTION": "off"})
    with pytest.raises(Stop):
        qa.stages.nightly.run_nightly(
            tmp_path, engine=sqlite_engine, settings=settings, ingest_options=options
        )
    assert seen["calls"]["options"] is options and seen["surveys"]["options"] is options
    assert "redact" in seen["calls"] and "redact" in seen["surveys"]


def test_symlinked_export_folder_itself_is_fine(sqlite_engine, tmp_path: Path) -> None:
    # The export folder may itself be reached through a symlink (e.g. /data/today -> ...).
    real = tmp_path / "real"
    write(real / "rec" / "a.wav", ["audio"])
    write(real / "calls.csv", [HEADER, call("C1", "rec/a.wav")])
    os.symlink(real, tmp_path / "today")
    with Session(sqlite_engine) as session:
        report = ingest_calls(tmp_path / "today" / "calls.csv", session=session)
    assert report.inserted == 1 and report.rejects == []


def test_markup_in_a_cell_is_printed_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value such as ``[/yellow]`` in a problem line is text, not console markup."""
    monkeypatch.setenv("QA_REDACTION", "off")
    calls = tmp_path / "calls.csv"
    calls.write_text(
        f"{HEADER}\n[/yellow],2026-11-02T09:00:00,,,,,,,,,,,,,\n"
        "[/yellow],2026-11-02T09:05:00,,,,,,,,,,,,,\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["ingest", "--calls", str(calls), "--db", str(tmp_path / "q.db")])
    assert result.exit_code == 2, result.output
    assert "duplicate call_id '[/yellow]'" in result.output
