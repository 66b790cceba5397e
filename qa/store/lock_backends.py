"""How the run lock (``qa.store.lock``) is taken on each kind of database, and who holds it.

* SQLite: ``fcntl.flock`` on ``<database>.lock``, with the holder's JSON inside.
* PostgreSQL: a session-level advisory lock on a dedicated connection; holder in ``runlock``.
* In-memory SQLite: no lock (private to its process).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# "callqa_1" in ASCII: one fixed, positive 64-bit key, so that every callqa process asks for
# the same advisory lock (advisory locks are per database, so two databases never collide).
PG_LOCK_KEY = 0x63616C6C71615F31
PG_LOCK_ROW = "run"  # the primary key of the single ``runlock`` row


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the run lock: enough to find the process, or to see it is gone."""

    pid: int | None
    host: str
    started_at: datetime | None
    backend_pid: int | None = None  # PostgreSQL: the server process of the lock's connection

    @classmethod
    def me(cls) -> Holder:
        """This process, now."""
        return cls(os.getpid(), socket.gethostname(), datetime.now().replace(microsecond=0))

    def describe(self) -> str:
        """``pid 123 on HOST, started 2026-11-23 02:30:00``."""
        when = self.started_at.isoformat(sep=" ", timespec="seconds") if self.started_at else "?"
        if self.pid is not None:
            return f"pid {self.pid} on {self.host or '?'}, started {when}"
        if self.backend_pid is not None:  # a holder that has not said who it is (yet)
            return f"PostgreSQL backend pid {self.backend_pid}, connected {when}"
        return "holder unknown"


class LockBackend(Protocol):
    """How one kind of database is locked."""

    stale: Holder | None  # set by a successful ``try_acquire``: the dead holder taken over

    def try_acquire(self, me: Holder) -> bool: ...
    def holder(self) -> Holder | None: ...
    def close(self) -> None: ...


class _NoLock:
    """In-memory SQLite: nobody else can open it."""

    stale: Holder | None = None

    def try_acquire(self, me: Holder) -> bool:
        return True

    def holder(self) -> Holder | None:
        return None

    def close(self) -> None:
        pass


class _FileLock:
    """SQLite: ``flock`` on ``<database>.lock``, with the holder's JSON inside."""

    def __init__(self, path: Path) -> None:
        # The file is never deleted: a process that opened it just before it was unlinked
        # would lock the old inode while the next one locks a new file, and both would run.
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self._held = False
        self.stale: Holder | None = None

    def try_acquire(self, me: Holder) -> bool:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._held = True
        self.stale = self._read()  # still there although the lock was free: its holder died
        started = me.started_at.isoformat() if me.started_at else None
        payload = json.dumps({"pid": me.pid, "host": me.host, "started_at": started}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, payload, 0)
        return True

    def holder(self) -> Holder | None:
        # The holder writes its JSON right after taking the lock; a reader may land in between.
        for _ in range(3):
            found = self._read()
            if found is not None:
                return found
            time.sleep(0.05)
        return None

    def _read(self) -> Holder | None:
        raw = os.pread(self._fd, 4096, 0)
        try:
            data = json.loads(raw)
            started = data.get("started_at")
            return Holder(
                int(data["pid"]),
                str(data["host"]),
                datetime.fromisoformat(started) if started else None,
            )
        except (ValueError, KeyError, TypeError):
            return None

    def close(self) -> None:
        try:
            if self._held:  # cleared, so that the next holder does not take us for a dead run
                os.ftruncate(self._fd, 0)
        finally:
            os.close(self._fd)  # releases the flock


class _AdvisoryLock:
    """PostgreSQL: ``pg_try_advisory_lock`` on a dedicated connection; holder in ``runlock``."""

    def __init__(self, engine: Engine) -> None:
        # Autocommit: the connection sits idle for hours, and must not sit idle *in a
        # transaction*. Detached: closing it must end the server session (and so release the
        # lock), never hand a connection that still holds the lock back to the pool.
        self._conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._conn.detach()
        self._held = False
        self.stale: Holder | None = None

    def try_acquire(self, me: Holder) -> bool:
        from sqlalchemy import select
        from sqlalchemy.dialects.postgresql import insert

        from qa.store.schema import RunLock

        got = self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY})
        if not got.scalar_one():
            return False
        self._held = True
        row = self._conn.execute(select(RunLock).where(RunLock.name == PG_LOCK_ROW)).first()
        # A clean release deletes the row, so a row found now was left by a run that died.
        self.stale = Holder(row.pid, row.host, row.started_at) if row else None
        values = {
            "name": PG_LOCK_ROW,
            "pid": me.pid,
            "host": me.host,
            "started_at": me.started_at,
            "backend_pid": self._conn.execute(text("SELECT pg_backend_pid()")).scalar_one(),
        }
        upsert = insert(RunLock).values(**values)
        self._conn.execute(upsert.on_conflict_do_update(index_elements=["name"], set_=values))
        return True

    def holder(self) -> Holder | None:
        from sqlalchemy import select

        from qa.store.schema import RunLock

        owner = self._conn.execute(
            text(
                "SELECT l.pid, a.backend_start FROM pg_locks l"
                " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
                " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"
            ),
            {"k": PG_LOCK_KEY},
        ).first()
        if owner is None:  # released since we asked
            return None
        row = self._conn.execute(select(RunLock).where(RunLock.name == PG_LOCK_ROW)).first()
        if row is not None and row.backend_pid == owner.pid:
            return Holder(row.pid, row.host, row.started_at, row.backend_pid)
        # Taken a moment ago and not yet described; backend_start is NULL unless we may see it.
        start = owner.backend_start.replace(tzinfo=None) if owner.backend_start else None
        return Holder(None, "", start, owner.pid)

    def close(self) -> None:
        try:
            if self._held:
                from sqlalchemy import delete

                from qa.store.schema import RunLock

                self._conn.execute(delete(RunLock).where(RunLock.name == PG_LOCK_ROW))
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
        except SQLAlchemyError:
            pass  # the connection is gone; the server has released the lock with it
        finally:
            self._conn.close()


def _sqlite_lock(engine: Engine) -> LockBackend:
    database = engine.url.database
    if not database or database == ":memory:":
        return _NoLock()
    return _FileLock(Path(database + ".lock"))


# Database dialect name -> how its run lock is taken.
LOCKS: dict[str, Callable[[Engine], LockBackend]] = {
    "sqlite": _sqlite_lock,
    "postgresql": _AdvisoryLock,
}


def lock_for(engine: Engine) -> LockBackend:
    """The lock for ``engine``'s kind of database."""
    make = LOCKS.get(engine.dialect.name)
    if make is None:
        raise ValueError(
            f"no run lock for {engine.dialect.name!r} databases; valid: {', '.join(LOCKS)}"
        )
    return make(engine)
