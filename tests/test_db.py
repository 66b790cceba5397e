"""qa.store.engine and qa.store.schema on both backends: SQLite (embedded) and PostgreSQL
(throwaway cluster)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from qa.store.engine import make_engine, resolve_url, session_scope
from qa.store.schema import Call, CallMetrics, Cluster, Review, Run, Tag, Turn


def _call(external_id: str = "C-1", **kw) -> Call:  # type: ignore[no-untyped-def]
    return Call(external_id=external_id, started_at=datetime(2025, 3, 4, 9, 30), **kw)


def test_tables_created(engine) -> None:  # type: ignore[no-untyped-def]
    names = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= names
    assert {"call", "turn", "callmetrics", "survey", "tag", "cluster", "review", "run"} <= names


def test_make_engine_is_idempotent(db_url: str) -> None:
    # A second open of an existing database must not fail on tables that are already there.
    for n in range(2):
        eng = make_engine(db_url)
        with Session(eng) as s:
            s.add(_call(f"C-{n}"))
            s.commit()
        eng.dispose()
    eng = make_engine(db_url)
    with Session(eng) as s:
        assert sorted(c.external_id for c in s.exec(select(Call))) == ["C-0", "C-1"]
    eng.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_pragmas(engine) -> None:  # type: ignore[no-untyped-def]
    assert engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar().lower() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000


def test_unique_external_id(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        s.add(_call("C-dup"))
        s.commit()
    with Session(engine) as s:
        s.add(_call("C-dup"))
        with pytest.raises(IntegrityError):
            s.commit()
    with Session(engine) as s:
        assert len(s.exec(select(Call).where(Call.external_id == "C-dup")).all()) == 1


def test_turn_index_unique_per_call(engine) -> None:  # type: ignore[no-untyped-def]
    # ``index``, ``start`` and ``end`` are (reserved) SQL keywords: they must be quoted on both.
    with session_scope(engine) as s:
        call = _call()
        s.add(call)
        s.flush()
        s.add(Turn(call_id=call.id, index=0, speaker="agent", start=0.0, end=1.5, text="Hello"))
        s.add(Turn(call_id=call.id, index=1, speaker="customer", start=1.6, end=2.0, text="Hi"))
    with Session(engine) as s:
        turns = s.exec(select(Turn).order_by(Turn.index)).all()
        assert [(t.index, t.start, t.end, t.text) for t in turns] == [
            (0, 0.0, 1.5, "Hello"),
            (1, 1.6, 2.0, "Hi"),
        ]
        call_id = turns[0].call_id
        s.add(Turn(call_id=call_id, index=1, start=3.0, end=4.0, text="again"))
        with pytest.raises(IntegrityError):
            s.commit()


def test_delete_call_cascades(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        keep, gone = _call("C-keep"), _call("C-gone")
        s.add_all([keep, gone])
        s.flush()
        for call in (keep, gone):
            s.add(Turn(call_id=call.id, index=0, start=0.0, end=1.0, text="hello"))
            s.add(Turn(call_id=call.id, index=1, start=1.0, end=2.0, text="bye"))
            s.add(CallMetrics(call_id=call.id, silence_seconds=0.5, extra={"k": 1}))
            s.add(Tag(call_id=call.id, tag="greeting", evidence="hello"))
            s.add(Review(call_id=call.id, reviewer="ann", scorecard={"greeting": True}))
        gone_id = gone.id
    with session_scope(engine) as s:
        s.delete(s.get(Call, gone_id))
    with Session(engine) as s:
        for table in (Turn, CallMetrics, Tag, Review):
            rows = s.exec(select(table)).all()
            assert rows, table
            assert {r.call_id for r in rows} == {keep.id}, table
        assert len(s.exec(select(Turn)).all()) == 2


def test_turn_needs_existing_call(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        s.add(Turn(call_id=9999, index=0, start=0.0, end=1.0, text="orphan"))
        with pytest.raises(IntegrityError):
            s.commit()


def test_json_columns_round_trip(engine) -> None:  # type: ignore[no-untyped-def]
    params = {
        "db": "x.db",
        "limit": 5,
        "ratio": 0.25,
        "flags": [True, False, None],
        "nested": {"tags": ["refund", "billing"], "unicode": "café ☎"},
    }
    with session_scope(engine) as s:
        run = Run(command="nightly", params=params, counts={"calls": 3})
        s.add(run)
        s.add(Cluster(label="billing", keywords=["bill", "charge"], size=2))
        s.flush()
        run_id = run.id
    with Session(engine) as s:
        got = s.get(Run, run_id)
        assert got is not None
        assert got.params == params
        assert got.counts == {"calls": 3}
        assert got.status == "running"
        assert s.exec(select(Cluster)).one().keywords == ["bill", "charge"]
    # Reassigning a JSON column (not mutating it in place) is what persists.
    with session_scope(engine) as s:
        got = s.get(Run, run_id)
        got.counts = {**got.counts, "tagged": 2}
        got.status = "ok"
    with Session(engine) as s:
        assert s.get(Run, run_id).counts == {"calls": 3, "tagged": 2}


def test_session_scope_rolls_back(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        s.add(_call("C-rollback"))
        s.flush()
        raise RuntimeError("boom")
    with Session(engine) as s:
        assert s.exec(select(Call)).all() == []


def test_resolve_url_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_DB_URL", raising=False)
    assert resolve_url(str(tmp_path / "a.db")) == f"sqlite:///{tmp_path / 'a.db'}"
    assert resolve_url("rel/b.db") == "sqlite:///rel/b.db"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_url("~/c.db") == f"sqlite:///{tmp_path / 'c.db'}"


def test_resolve_url_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_DB_URL", raising=False)
    assert resolve_url() == "sqlite:///callqa.db"
    assert resolve_url(None) == "sqlite:///callqa.db"


def test_resolve_url_url_passes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_DB_URL", raising=False)
    url = "postgresql+psycopg://qa:secret@db.example:5432/callqa"
    assert resolve_url(url) == url
    assert resolve_url("sqlite:////var/lib/callqa.db") == "sqlite:////var/lib/callqa.db"
    assert resolve_url("sqlite://") == "sqlite://"


@pytest.mark.parametrize(
    "given",
    ["postgresql://qa@db.example/callqa", "postgres://qa@db.example/callqa"],
)
def test_resolve_url_postgres_gets_psycopg(given: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The only PostgreSQL driver installed is psycopg 3; psycopg2 (SQLAlchemy 2.0's default) isn't.
    monkeypatch.delenv("QA_DB_URL", raising=False)
    assert resolve_url(given) == "postgresql+psycopg://qa@db.example/callqa"


def test_resolve_url_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_DB_URL", "postgresql+psycopg://qa@db.example/callqa")
    assert resolve_url() == "postgresql+psycopg://qa@db.example/callqa"
    # An explicit --db wins over the environment.
    assert resolve_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("QA_DB_URL", str(tmp_path / "env.db"))
    assert resolve_url() == f"sqlite:///{tmp_path / 'env.db'}"


def test_make_engine_creates_parent_dir(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "callqa.db"
    eng = make_engine(str(path))
    try:
        assert path.parent.is_dir()
        assert "call" in inspect(eng).get_table_names()
    finally:
        eng.dispose()


@pytest.mark.postgres
def test_pg_url_fixture(pg_url: str) -> None:
    assert pg_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert pg_url.endswith("/callqa_test")
    eng = make_engine(pg_url)
    try:
        with eng.connect() as conn:
            assert conn.execute(text("select current_database()")).scalar() == "callqa_test"
            assert conn.execute(text("show listen_addresses")).scalar() == "127.0.0.1"
    finally:
        eng.dispose()


def test_naive_datetimes_round_trip(engine) -> None:  # type: ignore[no-untyped-def]
    # Timestamps are naive wall-clock times on both backends (qa.ingest.records.parse_timestamp).
    started = datetime(2025, 3, 4, 23, 59, 58, 123456)
    with session_scope(engine) as s:
        s.add(Call(external_id="C-1", started_at=started))
        s.add(Run(command="demo"))
    with Session(engine) as s:
        got = s.exec(select(Call)).one()
        assert got.started_at == started
        assert got.started_at.tzinfo is None
        run = s.exec(select(Run)).one()
        assert run.started_at.tzinfo is None
        assert abs((datetime.now() - run.started_at).total_seconds()) < 600
        later = s.exec(select(Call).where(Call.started_at > datetime(2025, 3, 4))).all()
        assert [c.external_id for c in later] == ["C-1"]
