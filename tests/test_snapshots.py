"""Stored results (``qa.store.snapshots``): served while nothing they read has changed, on
SQLite and PostgreSQL, whoever writes."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, select

from qa.store import snapshots
from qa.store.schema import Call, Snapshot, Survey, User
from qa.store.snapshots import serve, versioning_installed


class Counter:
    """A computation that counts how often it ran and returns the number of calls."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.engine, self.runs = engine, 0

    def __call__(self) -> dict:
        self.runs += 1
        with Session(self.engine) as session:
            return {"calls": len(session.exec(select(Call.id)).all()), "tuple": (1, 2)}


def _served(engine, counter, **params):  # type: ignore[no-untyped-def]
    return serve(engine, kind="test", params=params or {"by": None}, compute=counter)


def test_triggers_are_installed_on_a_new_database(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        assert versioning_installed(conn)
        assert set(snapshots.read_versions(conn)) == set(snapshots.WATCHED)


def test_served_until_a_watched_table_changes(engine) -> None:  # type: ignore[no-untyped-def]
    counter = Counter(engine)
    first = _served(engine, counter)
    assert (first.payload, first.stored, counter.runs) == ({"calls": 0, "tuple": [1, 2]}, False, 1)
    again = _served(engine, counter)
    # The same decoded JSON either way, and only one computation.
    assert (again.payload, again.stored, counter.runs) == (first.payload, True, 1)
    assert "stored result of" in again.describe()

    with Session(engine) as session:  # insert
        session.add(Call(external_id="C-1", started_at=datetime(2026, 1, 5, 9)))
        session.commit()
    assert _served(engine, counter).payload["calls"] == 1 and counter.runs == 2
    assert _served(engine, counter).stored and counter.runs == 2

    with engine.begin() as conn:  # raw SQL update of another watched table counts too
        conn.execute(text("INSERT INTO survey (call_external_id, comment) VALUES ('C-1', '')"))
    assert not _served(engine, counter).stored and counter.runs == 3
    with engine.begin() as conn:
        conn.execute(text("UPDATE survey SET csat = 2"))
    assert not _served(engine, counter).stored and counter.runs == 4
    with Session(engine) as session:  # delete
        session.delete(session.exec(select(Survey)).one())
        session.commit()
    assert not _served(engine, counter).stored and counter.runs == 5

    with Session(engine) as session:  # a table no result reads: still served
        session.add(User(name="ann", role="reviewer", password_hash="x"))
        session.commit()
    assert _served(engine, counter).stored and counter.runs == 5


def test_parameters_and_code_are_part_of_the_key(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    counter = Counter(engine)
    _served(engine, counter, by="agent")
    _served(engine, counter, by="team")
    assert counter.runs == 2
    assert _served(engine, counter, by="agent").stored
    monkeypatch.setattr(snapshots, "code_fingerprint", lambda: "another release")
    assert not _served(engine, counter, by="agent").stored and counter.runs == 3


def test_old_views_are_pruned(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(snapshots, "KEEP", 3)
    counter = Counter(engine)
    for n in range(5):
        _served(engine, counter, n=n)
    with Session(engine) as session:
        kept = session.exec(select(Snapshot.key).where(Snapshot.kind == "test")).all()
    assert len(kept) == 3 and all('"n": 4' in k or '"n": 3' in k or '"n": 2' in k for k in kept)


def test_a_failed_store_only_costs_a_recomputation(engine, caplog) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    class ReadOnly:
        """The engine, except that every write transaction fails (a locked database)."""

        def connect(self):  # type: ignore[no-untyped-def]
            return engine.connect()

        def begin(self):  # type: ignore[no-untyped-def]
            raise OperationalError("BEGIN", {}, Exception("database is locked"))

    counter = Counter(engine)
    assert _served(ReadOnly(), counter).payload["calls"] == 0
    assert not _served(ReadOnly(), counter).stored and counter.runs == 2
    assert "could not store the test result (OperationalError)" in caplog.text


def test_code_fingerprint_reads_the_source() -> None:
    snapshots.code_fingerprint.cache_clear()
    first = snapshots.code_fingerprint()
    assert len(first) == 16 and first == snapshots.code_fingerprint()


def test_qa_kpis_prints_the_same_from_the_snapshot_and_sees_new_data(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The real command on a real ingest: every format is byte-identical whether computed or
    served, and an ingest of one more call is seen at once."""
    from typer.testing import CliRunner

    from qa.cli import app
    from tests.test_cli import CALLS, SURVEYS

    monkeypatch.setenv("QA_REDACTION", "off")
    runner, db = CliRunner(), str(tmp_path / "k.db")
    (tmp_path / "calls.csv").write_text(CALLS)
    (tmp_path / "surveys.csv").write_text(SURVEYS.replace("C9,11", "C9,1"))
    ingest = ["ingest", "--calls", str(tmp_path / "calls.csv"), "--db", db]
    assert runner.invoke(app, [*ingest, "--surveys", str(tmp_path / "surveys.csv")]).exit_code == 0
    for args in (["--format", "json"], ["--by", "team", "--format", "csv"], ["--by", "queue"]):
        cold = runner.invoke(app, ["kpis", "--db", db, *args])
        warm = runner.invoke(app, ["kpis", "--db", db, *args])
        assert cold.exit_code == warm.exit_code == 0, cold.output
        assert cold.stdout == warm.stdout
        if "--format" not in args:  # the table says where its numbers come from
            assert "computed at" in cold.stderr and "stored result of" in warm.stderr
    with open(tmp_path / "calls.csv", "a") as more:
        more.write("C4,2026-11-06T10:00:00,A1,North,billing,K4,5,100,0,10,no,no,\n")
    assert runner.invoke(app, ingest).exit_code == 0
    fresh = runner.invoke(app, ["kpis", "--db", db, "--format", "json"])
    assert json.loads(fresh.stdout)["calls_offered"] == 4


def test_missing_triggers_come_back_on_open_and_missing_counters_are_never_trusted(
    db_url,  # type: ignore[no-untyped-def]
) -> None:
    from qa.store.engine import make_engine

    engine = make_engine(db_url)
    with engine.begin() as conn:
        snapshots.drop_versioning(conn)
        assert not versioning_installed(conn)
    engine.dispose()
    engine = make_engine(db_url)  # every open checks (qa.store.migrate.ensure_schema)
    with engine.connect() as conn:
        assert versioning_installed(conn)
    counter = Counter(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM dataversion WHERE source = 'call'"))
    assert not _served(engine, counter).stored and not _served(engine, counter).stored
    assert counter.runs == 2
    with Session(engine) as session:
        assert session.exec(select(Snapshot)).all() == []  # nothing stored without counters
    engine.dispose()


def test_a_store_drops_snapshots_that_can_never_be_served(engine) -> None:  # type: ignore[no-untyped-def]
    counter = Counter(engine)
    _served(engine, counter, view="a")
    with Session(engine) as session:
        session.add(Call(external_id="C-9", started_at=datetime(2026, 1, 5, 9)))
        session.commit()
    _served(engine, counter, view="b")
    with Session(engine) as session:
        keys = session.exec(select(Snapshot.key)).all()
    assert len(keys) == 1 and '"view": "b"' in keys[0]
