"""One pipeline run at a time per database: ``qa nightly``, ``qa tag``, ``qa transcribe`` and
``qa demo`` hold the database's run lock while they write.

Two runs at once on one database duplicated work (every recording transcribed twice and empty
theme rows on SQLite) or crashed one of them (``UniqueViolation`` on PostgreSQL). With the
lock, a second run either waits for the first or stops at once with exit code 3, saying which
process holds the lock.

* SQLite: ``fcntl.flock`` on ``<database>.lock`` beside the database file. The kernel releases
  it when its holder dies, however it dies, so a killed run never blocks the next one. The
  holder's pid, host and start time are written inside the file and cleared on release: a file
  that still names a holder when the lock is free was left by a run that died, and the run
  that takes the lock over says so on stderr.
* PostgreSQL: a session-level advisory lock held on a dedicated connection for the whole run;
  the server releases it when that connection ends (process killed, network lost). Who holds
  it is written to the ``runlock`` table, and that row is believed only while its backend pid
  is the one holding the advisory lock.
* An in-memory SQLite database is private to its process and needs no lock.

The per-database backends and ``Holder`` live in ``qa.store.lock_backends``.

Whoever takes the lock also closes the ``run`` audit rows of runs that died: while it holds the
lock no other run can be running, so a row still ``running`` is marked ``crashed``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from qa.store.lock_backends import Holder, LockBackend, lock_for

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from qa.store.schema import Run

EXIT_LOCKED = 3
POLL_SECONDS = 0.5
Notify = Callable[[str], None]


class LockBusy(RuntimeError):
    """Another run holds the run lock; the commands exit 3 with this message."""

    def __init__(self, db: str, holder: Holder | None, waited: float | None = None) -> None:
        self.db, self.holder, self.waited = db, holder, waited
        who = holder.describe() if holder else "holder unknown"
        if waited is None:
            message = f"another run ({who}) holds the lock on {db}; wait for it, or pass --wait"
        else:
            message = (
                f"another run ({who}) still holds the lock on {db} after waiting {waited:g} s;"
                " wait longer (--wait-timeout SECONDS), or pass --wait alone to wait until it"
                " finishes"
            )
        super().__init__(message)


@dataclass(frozen=True)
class RunLock:
    """A held run lock: this process, the dead holder it took over (if any), closed runs."""

    db: str
    holder: Holder
    stale: Holder | None = None
    crashed: tuple[int, ...] = ()  # ids of ``run`` rows found ``running`` and marked crashed


def describe_db(engine: Engine) -> str:
    """The database as messages name it: the SQLite file, or the URL without its password."""
    if engine.dialect.name == "sqlite":
        return engine.url.database or ":memory:"
    return engine.url.render_as_string(hide_password=True)


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def run_lock(
    engine: Engine,
    *,
    wait: bool = False,
    timeout: float | None = None,
    notify: Notify = _to_stderr,
    poll: float = POLL_SECONDS,
) -> Iterator[RunLock]:
    """Hold ``engine``'s run lock for the body of the ``with``; released on every exit path.

    When another run holds it: raise ``LockBusy`` at once, or with ``wait`` (implied by a
    ``timeout``) poll until it is free, at most ``timeout`` seconds (None: no limit), then raise
    ``LockBusy``. Taking the lock over from a run that died, and marking that run's audit row
    ``crashed``, are said through ``notify`` (stderr).
    """
    db, me = describe_db(engine), Holder.me()
    backend = lock_for(engine)
    try:
        _acquire(backend, me, db, wait or timeout is not None, timeout, notify, poll)
        if backend.stale is not None:
            notify(f"taking over the lock on {db}: its holder ({backend.stale.describe()}) is gone")
        crashed = close_dead_runs(engine)
        for run in crashed:
            notify(f"run {run.id} ({_who(run)}) never finished: marked crashed")
        yield RunLock(db, me, backend.stale, tuple(r.id for r in crashed if r.id is not None))
    finally:
        backend.close()


def _acquire(
    backend: LockBackend,
    me: Holder,
    db: str,
    wait: bool,
    timeout: float | None,
    notify: Notify,
    poll: float,
) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    announced = False
    while not backend.try_acquire(me):
        holder = backend.holder()
        if not wait:
            raise LockBusy(db, holder)
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise LockBusy(db, holder, waited=timeout)
        if not announced:
            who = holder.describe() if holder else "holder unknown"
            notify(f"waiting for the lock on {db}: another run ({who}) holds it")
            announced = True
        time.sleep(poll if left is None else min(poll, left))


def close_dead_runs(engine: Engine) -> list[Run]:
    """Mark every ``run`` row still ``running`` as ``crashed`` (call it holding the lock only).

    ``finished_at`` becomes the time the crash was noticed; the dead run's own end is unknown.
    """
    from sqlmodel import Session, select

    from qa.store.schema import Run

    with Session(engine, expire_on_commit=False) as session:
        runs = list(session.exec(select(Run).where(Run.status == "running")))
        now = datetime.now()
        for run in runs:
            run.status, run.finished_at = "crashed", now
            session.add(run)
        session.commit()
    return runs


def _who(run: Run) -> str:
    params = run.params or {}
    where = f", pid {params['pid']} on {params.get('host', '?')}" if "pid" in params else ""
    return f"qa {run.command}{where}, started {run.started_at:%Y-%m-%d %H:%M:%S}"
