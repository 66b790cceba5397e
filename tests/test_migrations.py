"""Schema migrations (``qa db``): the previous release's database upgrades with nothing lost,
the migrations build exactly the models' schema, and ``qa db backup`` makes a usable copy.

The fixture ``tests/data/release-d877b09.db`` was written by release d877b09's own code
(``tests/data/make_release_db.py``). The PostgreSQL variant builds that release's schema from
the frozen baseline (``qa.store.migrations.baseline``, which equals it) and copies the
fixture's rows into it.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from typer.testing import CliRunner

from qa.cli import app
from qa.store import migrate
from qa.store.backup import PG_DUMP_HINT, find_pg_dump
from qa.store.calltags import stale_call_tags, stored_call_tags
from qa.store.engine import make_engine, schema_lock
from qa.store.migrations import BASELINE, HEAD
from qa.store.migrations.baseline import metadata as baseline
from qa.store.schema import Call, Decision
from qa.store.textsearch import parse_search, search_condition

RELEASE_DB = Path(__file__).parent / "data" / "release-d877b09.db"
NEW_TABLES = ("agentstate", "scheduleblock", "costentry", "calltag", "coachingpack", "packitem")


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in baseline.sorted_tables
            }
    finally:
        engine.dispose()


def _db(*args: str) -> str:
    result = CliRunner().invoke(app, ["db", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _search_ids(engine: sa.Engine, words: str) -> set[str]:
    condition = search_condition(engine.dialect.name, parse_search(words))
    with Session(engine) as session:
        return set(session.scalars(select(Call.external_id).where(condition)))


def _check_upgraded(url: str, before: dict[str, int]) -> None:
    """Every row kept (one legacy Tag row now a Decision), new tables there, the schema the
    models', CallTag = effective tags, search indexed, current = head."""
    after = _counts(url)
    assert after["tag"] == before["tag"] - 1
    assert after["decision"] == before["decision"] + 1
    same = {k: v for k, v in before.items() if k not in ("tag", "decision")}
    assert {k: after[k] for k in same} == same
    engine = make_engine(url, create=False)
    try:
        with engine.connect() as conn:
            assert migrate.stamped_revision(conn) == HEAD
            assert migrate.schema_diff(conn) == []
            assert set(NEW_TABLES) <= set(sa.inspect(conn).get_table_names())
            review = conn.execute(sa.text("SELECT scorecard, score FROM review WHERE notes = "
                                          "'repeat caller'")).one()  # fmt: skip
            scorecard = review[0] if isinstance(review[0], dict) else json.loads(review[0])
            assert scorecard == {"greeting": "yes", "empathy": "no"} and review[1] == 62.5
        with Session(engine) as session:
            legacy = session.exec(select(Decision).where(Decision.origin == "legacy")).one()
            assert (legacy.tag, legacy.reviewer, legacy.present) == (
                "long-wait",
                "old-reviewer",
                True,
            )
            assert stale_call_tags(session) == {}
            tags = stored_call_tags(session)
            by_ext = dict(session.execute(select(Call.id, Call.external_id)).all())
            named = {by_ext[i]: t for i, t in tags.items()}
            assert named["C-1003"] == {"unresolved", "rushed"}  # the lead rejected the callback
            assert named["C-1002"] == {"long-wait"}  # praise rejected; the legacy decision adds
            assert "re-explain" in named["C-1001"]
        assert _search_ids(engine, "router") == {"C-1002"}
        assert _search_ids(engine, '"refunds team"') == {"C-1001"}
    finally:
        engine.dispose()
    assert _db("current", "--db", url).strip() == f"{HEAD} (head)"


def test_head_names_the_newest_script() -> None:
    revisions = migrate.known_revisions()
    assert revisions[0] == BASELINE and revisions[-1] == HEAD
    assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions)
    assert "(head)" in _db("history")


def test_the_frozen_baseline_is_the_release_schema() -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = sa.create_engine(f"sqlite:///{RELEASE_DB}")
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, baseline) == []
    finally:
        engine.dispose()


def test_the_previous_release_database_upgrades_with_nothing_lost(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(RELEASE_DB, path)
    url = f"sqlite:///{path}"
    before = _counts(url)
    assert before["call"] == 4 and before["turn"] == 12 and before["review"] == 3
    assert "its tables match 0001" in _db("current", "--db", str(path))
    assert _db("upgrade", "--db", str(path)).strip() == f"upgraded (not stamped) -> {HEAD}"
    _check_upgraded(url, before)
    assert _db("upgrade", "--db", str(path)).strip() == f"already at {HEAD}"


def _load_release(url: str) -> None:
    """The previous release's schema on ``url``, holding the fixture's rows."""
    source = sa.create_engine(f"sqlite:///{RELEASE_DB}")
    target = sa.create_engine(url)
    try:
        baseline.create_all(target)
        with source.connect() as src, target.begin() as dst:
            for table in baseline.sorted_tables:
                rows = [dict(r._mapping) for r in src.execute(sa.select(table))]
                if rows:
                    dst.execute(table.insert(), rows)
                if "id" in table.c and target.dialect.name == "postgresql":
                    dst.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"',"
                                        f" 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM "
                                        f"\"{table.name}\"), false)"))  # fmt: skip
    finally:
        source.dispose()
        target.dispose()


@pytest.mark.postgres
def test_the_previous_release_schema_upgrades_on_postgres(pg_cluster) -> None:  # type: ignore[no-untyped-def]
    url = pg_cluster.create_database("callqa_release")
    try:
        _load_release(url)
        before = _counts(url)
        assert before["call"] == 4
        assert _db("upgrade", "--db", url).strip() == f"upgraded (not stamped) -> {HEAD}"
        _check_upgraded(url, before)
    finally:
        pg_cluster.drop_database("callqa_release")


def test_migrations_from_nothing_build_the_models_schema_and_go_back(db_url: str) -> None:
    assert "empty database" in _db("current", "--db", db_url)
    assert _db("upgrade", "--db", db_url).strip() == f"upgraded (not stamped) -> {HEAD}"
    engine = make_engine(db_url, create=False)
    try:
        with engine.connect() as conn:
            assert migrate.schema_diff(conn) == []
        assert _db("upgrade", BASELINE, "--db", db_url)  # already past it: nothing happens
        from alembic import command

        with schema_lock(engine) as conn:
            command.downgrade(migrate._config(conn), BASELINE)
            conn.commit()
        with engine.connect() as conn:
            assert migrate.stamped_revision(conn) == BASELINE
            assert not set(NEW_TABLES) & set(sa.inspect(conn).get_table_names())
        assert _db("upgrade", "--db", db_url).strip() == f"upgraded {BASELINE} -> {HEAD}"
        with engine.connect() as conn:
            assert migrate.schema_diff(conn) == []
    finally:
        engine.dispose()


def test_a_new_database_opened_is_stamped_head(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert migrate.schema_state(conn).status == "current"
        assert migrate.schema_diff(conn) == []


def test_a_database_older_than_the_baseline_is_brought_to_it(tmp_path: Path) -> None:
    path = tmp_path / "older.db"
    shutil.copy(RELEASE_DB, path)
    with sqlite3.connect(path) as conn:  # columns a release before d877b09 did not have
        conn.execute("ALTER TABLE tag DROP COLUMN rule")
        conn.execute("ALTER TABLE call DROP COLUMN duration_seconds")
    before = _counts(f"sqlite:///{path}")
    engine = make_engine(str(path))  # an ordinary open upgrades too
    try:
        with engine.connect() as conn:
            assert migrate.stamped_revision(conn) == HEAD
            assert migrate.schema_diff(conn) == []
    finally:
        engine.dispose()
    assert _counts(f"sqlite:///{path}")["turn"] == before["turn"]


def _open(path: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        make_engine(path).dispose()
        results.put("ok")
    except Exception as exc:  # report any failure to the parent, whatever it is
        results.put(repr(exc)[:300])


def test_concurrent_opens_upgrade_an_old_database_once(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        shutil.copy(RELEASE_DB, db_url.split("sqlite:///", 1)[1])
    else:
        _load_release(db_url)
    before = _counts(db_url)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_open, args=(db_url, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [results.get(timeout=5) for _ in workers] == ["ok"] * 4
    assert _counts(db_url)["decision"] == before["decision"] + 1


def test_a_revision_newer_than_this_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    make_engine(str(path)).dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    assert "unknown to this callqa" in _db("current", "--db", str(path))
    result = CliRunner().invoke(app, ["db", "upgrade", "--db", str(path)])
    assert result.exit_code == 1 and "upgrade callqa" in result.output
    with pytest.raises(migrate.SchemaError, match="9999"):
        make_engine(str(path))
    bad = CliRunner().invoke(app, ["db", "stamp", "zz", "--db", str(path)])
    assert bad.exit_code == 1 and "known 0001, 0002" in bad.output
    assert _db("stamp", "head", "--db", str(path)).strip() == "stamped head"  # the repair
    assert _db("current", "--db", str(path)).strip() == f"{HEAD} (head)"


def test_backup_of_sqlite_is_a_working_copy(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    shutil.copy(RELEASE_DB, path)
    engine = make_engine(str(path))  # upgraded, WAL on, and kept open while backing up
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE call SET agent_name = 'Dana R.' WHERE agent_id = 'a-01'"))
    copy = tmp_path / "copy.db"
    out = _db("backup", str(copy), "--db", str(path))
    assert "backed up to" in out and "sqlite backup API" in out
    assert _counts(f"sqlite:///{copy}") == _counts(f"sqlite:///{path}")
    restored = make_engine(str(copy))
    try:
        with restored.connect() as conn:
            assert migrate.stamped_revision(conn) == HEAD
            names = conn.execute(sa.text("SELECT DISTINCT agent_name FROM call")).scalars()
            assert "Dana R." in set(names)
        assert _search_ids(restored, "router") == {"C-1002"}
    finally:
        restored.dispose()
        engine.dispose()
    again = CliRunner().invoke(app, ["db", "backup", str(copy), "--db", str(path)])
    assert again.exit_code == 1 and "--overwrite" in again.output
    assert _db("backup", str(copy), "--overwrite", "--db", str(path))
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.postgres
def test_backup_of_postgres_is_a_pg_dump_archive(pg_url: str, tmp_path: Path) -> None:
    if find_pg_dump() is None:
        pytest.skip(PG_DUMP_HINT)
    make_engine(pg_url).dispose()
    dump = tmp_path / "callqa.dump"
    assert "pg_dump --format=custom" in _db("backup", str(dump), "--db", pg_url)
    assert dump.read_bytes()[:5] == b"PGDMP"


def test_backup_without_pg_dump_says_what_to_install(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import qa.store.backup as backup_module

    monkeypatch.setattr(backup_module, "find_pg_dump", lambda: None)
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(backup_module.BackupError, match="postgresql-client"):
        backup_module.backup(engine, tmp_path / "x.dump")
    engine.dispose()


def test_opening_a_new_or_current_database_never_imports_alembic(tmp_path: Path) -> None:
    code = (
        "import sys; from qa.store.engine import make_engine; "
        f"make_engine({str(tmp_path / 'a.db')!r}).dispose(); "
        f"make_engine({str(tmp_path / 'a.db')!r}).dispose(); "
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    engine = make_engine(str(tmp_path / "a.db"), create=False)
    with engine.connect() as conn:
        assert migrate.stamped_revision(conn) == HEAD and migrate.schema_diff(conn) == []
    engine.dispose()


def test_backup_while_another_process_writes(tmp_path: Path) -> None:
    import threading

    from qa.store.backup import backup

    path = tmp_path / "busy.db"
    engine = make_engine(str(path))
    comment = "the refund took three weeks and nobody called me back " * 4
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO survey (call_external_id, comment) VALUES (:e, :c)"),
                     [{"e": f"S{i}", "c": comment} for i in range(20_000)])  # fmt: skip
    stop, started = threading.Event(), threading.Event()
    written = [0]
    insert_run = sa.text(
        "INSERT INTO run (command, params, counts, status, started_at) "
        "VALUES ('x', '{}', '{}', 'ok', '2026-01-01')"
    )

    def write() -> None:
        writer = make_engine(str(path))
        while not stop.is_set():
            with writer.begin() as conn:
                conn.execute(insert_run)
            written[0] += 1
            started.set()
        writer.dispose()

    thread = threading.Thread(target=write)
    thread.start()
    assert started.wait(30)
    try:
        result = backup(engine, tmp_path / "copy.db")
    finally:
        stop.set()
        thread.join(30)
    engine.dispose()
    with sqlite3.connect(result.path) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT COUNT(*) FROM survey").fetchone() == (20_000,)
        assert copy.execute("SELECT COUNT(*) FROM run").fetchone()[0] <= written[0]
    copy.close()
    assert written[0] > 0
