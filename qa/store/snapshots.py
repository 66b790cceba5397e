"""Stored results of long computations, served while nothing they read has changed.

``qa kpis`` and the Insights tab read every call, survey and tag: at a million calls that
is tens of seconds, although most views are asked for again and again between two nightly
runs. :func:`serve` computes such a result once, stores it as JSON (``Snapshot``) and hands
the stored copy back until something it depends on changes::

    served = serve(engine, kind="kpis", params={"by": None}, compute=lambda: rows())
    served.payload, served.stored   # the result; True when it came from the snapshot

"Changed" is exact, not a timeout. Database triggers count every insert, update and delete
of the watched tables (``DataVersion``, one row per table; SQLite: a row trigger, PostgreSQL:
a statement trigger), whoever writes, and a snapshot records the counts it was computed
from. It is served only while they are the same, and while callqa's code is the same
(:func:`code_fingerprint`: a new release, or an edited module, recomputes). The counts are
read before the computation reads its data, so a write that lands in between makes the
snapshot look older than it is (recomputed next time), never newer.

What the counters cannot see: writes made with the triggers off (PostgreSQL
``session_replication_role = replica``, as ``pg_restore --disable-triggers`` and logical
replication apply; ``ALTER TABLE ... DISABLE TRIGGER``). A disabled trigger is found and put
back on the next open (``versioning_installed``); after a restore made that way, open the
database once before serving. On PostgreSQL a transaction that writes a watched table holds
that table's counter row until it commits, so writers of one table queue there; a deadlock
needs two transactions writing two watched tables in opposite orders, which callqa's own
writers never do (hits and decisions are written before ``calltag``).

:func:`install_versioning` creates the counters and triggers (a new database, migration
0003); ``qa nightly`` calls the views' ``serve`` functions once the night's data is in.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from qa.store.schema import DataVersion, Snapshot

log = logging.getLogger(__name__)

WATCHED = (
    "call", "survey", "turn", "callmetrics", "tag", "decision", "calltag", "review",
    "agentstate", "scheduleblock", "costentry", "cluster", "themefit", "thememember",
)  # fmt: skip
"""The tables a stored result may read: a write to any of them makes every snapshot stale."""
KEEP = 50
"""Snapshots kept per kind (the most recently computed); older views are computed again."""
_FUNCTION = "qa_bump_data_version"
_LIBRARIES = ("numpy", "pandas", "scikit-learn", "scipy", "statsmodels", "sqlalchemy")


@dataclass(frozen=True)
class Served:
    """What :func:`serve` hands back: the JSON ``payload`` (the same decoded value whether
    it was just computed or stored), when and in how many seconds it was computed, and
    whether it came from the snapshot (``stored``)."""

    payload: Any
    computed_at: datetime
    seconds: float
    stored: bool

    def describe(self) -> str:
        """One line for a footer: where the numbers come from."""
        when = f"{self.computed_at:%Y-%m-%d %H:%M:%S}"
        if self.stored:
            return (
                f"stored result of {when} (computed in {self.seconds:.1f} s); nothing it reads "
                "has changed since"
            )
        return f"computed at {when} in {self.seconds:.1f} s"


# --------------------------------------------------------------------------- DDL


def _sqlite_ddl(table: str) -> list[str]:
    bump = f"UPDATE dataversion SET version = version + 1 WHERE source = '{table}';"
    return [
        f"CREATE TRIGGER IF NOT EXISTS dv_{table}_{op[0].lower()} AFTER {op} ON {table} "
        f"BEGIN {bump} END"
        for op in ("INSERT", "UPDATE", "DELETE")
    ]


# One bump per table per transaction (a transaction-local setting remembers it): fewer row
# locks on the counter and no overflow from statement-by-statement ORM writes. The
# function keeps the schema it was made in (``SET search_path FROM CURRENT``), so a writer
# with another search path still bumps this database's counters.
_PG_FUNCTION = (
    f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql "
    "SET search_path FROM CURRENT AS $$ BEGIN "
    "IF current_setting('qa_dv.' || TG_TABLE_NAME, true) IS DISTINCT FROM '1' THEN "
    "UPDATE dataversion SET version = version + 1 WHERE source = TG_TABLE_NAME; "
    "PERFORM set_config('qa_dv.' || TG_TABLE_NAME, '1', true); "
    "END IF; RETURN NULL; END $$"
)


def _pg_ddl(table: str) -> list[str]:
    # One bump per statement, not per row: a bulk insert of a million rows costs one update.
    return [
        f"DROP TRIGGER IF EXISTS dv_{table} ON {table}",
        f"CREATE TRIGGER dv_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()",
    ]


def install_versioning(conn: Connection, tables: Sequence[str] = WATCHED) -> None:
    """Create the ``DataVersion`` rows and the triggers that bump them for ``tables``
    (idempotent). The tables themselves come from the models (``create_all``) or migration
    0003."""
    dialect = conn.dialect.name
    for table in tables:
        conn.execute(
            text(
                "INSERT INTO dataversion (source, version) VALUES (:t, 0) "
                "ON CONFLICT (source) DO NOTHING"
            ),
            {"t": table},
        )
    if dialect == "postgresql":
        conn.exec_driver_sql(_PG_FUNCTION)
    for table in tables:
        statements = _pg_ddl(table) if dialect == "postgresql" else _sqlite_ddl(table)
        for statement in statements:
            conn.exec_driver_sql(statement)


def versioning_installed(conn: Connection) -> bool:
    """Whether every counter row and trigger :func:`install_versioning` makes is there (and,
    on PostgreSQL, enabled): two small queries."""
    if set(read_versions(conn)) != set(WATCHED):
        return False
    if conn.dialect.name == "postgresql":
        found = conn.execute(
            text("SELECT COUNT(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                 "JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname = current_schema() AND t.tgname LIKE 'dv\\_%' "
                 "AND t.tgenabled <> 'D'")
        ).scalar()  # fmt: skip
        return found == len(WATCHED)
    found = conn.execute(
        text("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'dv\\_%' "
             "ESCAPE '\\'")
    ).scalar()  # fmt: skip
    return found == 3 * len(WATCHED)


def drop_versioning(conn: Connection, tables: Sequence[str] = WATCHED) -> None:
    """Drop the triggers (a downgrade below migration 0003; the tables go with it)."""
    for table in tables:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS dv_{table} ON {table}")
        else:
            for op in "iud":
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS dv_{table}_{op}")
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")


# --------------------------------------------------------------------------- serving


def read_versions(conn: Connection) -> dict[str, int]:
    """Each watched table's write count."""
    rows = conn.execute(select(DataVersion.source, DataVersion.version))
    return {source: int(version) for source, version in rows}


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of callqa's own source (``qa`` and, beside it, ``review_ui`` and ``classify``)
    and of the versions of the numeric libraries the results come from: a stored result is
    only as current as the code that computed it. Read once per process (~10 ms)."""
    from importlib.metadata import PackageNotFoundError, version

    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={version(name)}\n".encode())
        except PackageNotFoundError:
            digest.update(f"{name}=-\n".encode())
    for root in (package, package.parent / "review_ui", package.parent / "classify"):
        for path in sorted(root.rglob("*.py")) if root.is_dir() else ():
            digest.update(str(path.relative_to(root.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _key(params: Mapping[str, Any]) -> str:
    return json.dumps(dict(params), sort_keys=True, default=str)


def serve(
    engine: Engine,
    *,
    kind: str,
    params: Mapping[str, Any],
    compute: Callable[[], Any],
) -> Served:
    """The stored result of ``kind`` for ``params`` if it is current, else ``compute()``'s
    (stored for next time). ``compute`` must return JSON-able data (tuples come back as
    lists, other non-JSON values as strings: both paths return the decoded JSON)."""
    key = _key({**params, "code": code_fingerprint()})
    with engine.connect() as conn:
        counts = read_versions(conn)
        versions = json.dumps(counts, sort_keys=True)
    if set(counts) != set(WATCHED):  # counters missing: nothing could tell a stale result
        log.warning("write counters missing for %s: %s computed, not stored",
                    sorted(set(WATCHED) - set(counts)), kind)  # fmt: skip
        encoded, at, seconds = _computed(compute)
        return Served(json.loads(encoded), at, seconds, stored=False)
    with engine.connect() as conn:
        row = conn.execute(
            select(Snapshot.payload, Snapshot.computed_at, Snapshot.seconds).where(
                Snapshot.kind == kind, Snapshot.key == key, Snapshot.versions == versions
            )
        ).first()
    if row is not None:
        return Served(json.loads(row.payload), row.computed_at, row.seconds, stored=True)
    encoded, at, seconds = _computed(compute)
    _store(engine, kind, key, versions, encoded, at, seconds)
    return Served(json.loads(encoded), at, seconds, stored=False)


def _computed(compute: Callable[[], Any]) -> tuple[str, datetime, float]:
    """``compute()`` as JSON text (key order kept: it is the columns), when it started and
    the seconds it took."""
    started, at = time.perf_counter(), datetime.now()
    encoded = json.dumps(compute(), default=str)
    return encoded, at, time.perf_counter() - started


def _store(
    engine: Engine, kind: str, key: str, versions: str, payload: str, at: datetime, seconds: float
) -> None:
    """Upsert the snapshot and prune the kind to :data:`KEEP`. A failure (a read-only
    database, a busy lock) only costs the next caller a recomputation."""
    values = {"versions": versions, "payload": payload, "computed_at": at, "seconds": seconds}
    try:
        with engine.begin() as conn:
            found = conn.execute(
                select(Snapshot.id).where(Snapshot.kind == kind, Snapshot.key == key)
            ).scalar()
            if found is None:
                conn.execute(Snapshot.__table__.insert().values(kind=kind, key=key, **values))
            else:
                conn.execute(
                    Snapshot.__table__.update().where(Snapshot.id == found).values(**values)
                )
            # A snapshot of other counts can never be served again (they only grow): gone,
            # with whatever call and customer ids its pages held.
            conn.execute(delete(Snapshot).where(Snapshot.versions != versions))
            keep = (
                select(Snapshot.id)
                .where(Snapshot.kind == kind)
                .order_by(Snapshot.computed_at.desc(), Snapshot.id.desc())
                .limit(KEEP)
            )
            conn.execute(delete(Snapshot).where(Snapshot.kind == kind, Snapshot.id.not_in(keep)))
    except SQLAlchemyError as exc:
        log.warning("could not store the %s result (%s); it is computed again next time",
                    kind, exc.__class__.__name__)  # fmt: skip
