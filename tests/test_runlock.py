"""One run at a time (``qa.store.lock``): real locks held by real processes, on SQLite and on the
throwaway PostgreSQL cluster.

A second run exits 3 naming the holder, or waits with ``--wait`` (at most ``--wait-timeout``);
a holder killed with SIGKILL never blocks the next run, which marks its audit row ``crashed``;
two ``qa nightly`` runs started at once never duplicate anything or crash with a traceback.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from qa.store.engine import make_engine
from qa.store.lock import EXIT_LOCKED, LockBusy, run_lock
from qa.store.schema import Call, Cluster, Run, Survey, Tag, ThemeMember, Turn

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = socket.gethostname()
RUN_TIMEOUT = 600  # seconds for one ``qa`` process; the first theme run builds MiniLM's ONNX

# Takes the lock like a nightly run does (lock, then a ``running`` audit row with pid and
# host), says it is ready by renaming a file into place, and sleeps until it is killed.
HOLDER = """
import os, socket, sys, time
from pathlib import Path
from sqlmodel import Session
from qa.store.engine import make_engine
from qa.store.lock import run_lock
from qa.store.schema import Run

engine = make_engine(sys.argv[1])
with run_lock(engine):
    with Session(engine) as session:
        params = {"pid": os.getpid(), "host": socket.gethostname()}
        session.add(Run(command="nightly", params=params))
        session.commit()
    ready = Path(sys.argv[2])
    ready.with_suffix(".tmp").write_text(str(os.getpid()))
    ready.with_suffix(".tmp").rename(ready)
    time.sleep(600)
"""

# Survey comments for the nightly runs: 24 of them, so that the theme stage really clusters
# (it needs 20 texts) and the tag stage finds something in most.
COMMENTS = [
    "I had to explain my problem three times to three different people.",
    "I waited forty minutes in the queue before anyone answered.",
    "Nobody called me back even though they promised to.",
    "The agent was friendly and sorted my broadband quickly.",
    "There is a wrong fee on my statement again.",
    "She was very helpful and patient with me.",
    "They transferred me to billing and I had to start over.",
    "The engineer came the next day and fixed the router.",
]


def qa_env() -> dict[str, str]:
    """The tests' environment for ``qa`` subprocesses: offline, no redaction models."""
    env = {k: v for k, v in os.environ.items() if k != "QA_DB_URL"}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", QA_REDACTION="off")
    return env


def qa(*args: str) -> subprocess.Popen[str]:
    """Start ``python -m qa ARGS`` (stdout and stderr captured)."""
    return subprocess.Popen(
        [sys.executable, "-m", "qa", *args],
        cwd=REPO_ROOT,
        env=qa_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Wait for a ``qa`` process; its exit code and its stderr."""
    _out, err = proc.communicate(timeout=RUN_TIMEOUT)
    return proc.returncode, err


def hold_lock(db: str, tmp_path: Path) -> subprocess.Popen[str]:
    """A process that holds ``db``'s run lock (and a ``running`` run row) until killed."""
    ready = tmp_path / "holder.ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db, str(ready)],
        cwd=REPO_ROOT,
        env=qa_env(),
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not ready.exists():
        if proc.poll() is not None:
            pytest.fail(f"the lock holder exited {proc.returncode}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the lock holder did not take the lock within 120 s")
        time.sleep(0.05)
    assert ready.read_text() == str(proc.pid)
    return proc


def existing_database(url: str) -> None:
    """Create the tables first, as on any night but the first: two processes creating the
    tables of a new database at the same moment is another race, in ``qa.store.engine.make_engine``
    (``create_all``), which no run lock can cover since it happens before one is taken."""
    make_engine(url).dispose()


def nightly_folder(folder: Path, n: int = 24) -> Path:
    """A folder of ``n`` calls without recordings (transcription has nothing to do) and a survey
    with a comment for each."""
    folder.mkdir()
    calls = ["call_id,started_at,agent_id,team,queue,customer_id,talk_seconds,recording"]
    surveys = ["call_id,submitted_at,csat,nps,ces,fcr,comment"]
    for i in range(n):
        calls.append(f"L{i:03d},2026-11-02T{8 + i // 4:02d}:{(i % 4) * 15:02d}:00,A{i % 3},"
                     f"North,billing,K{i},300,")  # fmt: skip
        comment = f"{COMMENTS[i % len(COMMENTS)]} (call {i})"
        surveys.append(f'L{i:03d},2026-11-02T20:00:00,{1 + i % 5},{i % 11},3,no,"{comment}"')
    (folder / "calls.csv").write_text("\n".join(calls) + "\n")
    (folder / "surveys.csv").write_text("\n".join(surveys) + "\n")
    return folder


def count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def runs(engine: Engine) -> list[Run]:
    with Session(engine) as session:
        return list(session.exec(select(Run).order_by(Run.id)))


# --- the lock itself, in this process -----------------------------------------------------


def test_second_taker_is_told_who_holds_it_and_the_lock_survives_errors(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with run_lock(engine) as lock:
            assert (lock.holder.pid, lock.holder.host) == (os.getpid(), HOST)
            with pytest.raises(LockBusy) as busy, run_lock(engine):
                pass
            message = str(busy.value)
            assert message.startswith(f"another run (pid {os.getpid()} on {HOST}, started ")
            assert message.endswith(f"holds the lock on {lock.db}; wait for it, or pass --wait")

            started = time.monotonic()
            with pytest.raises(LockBusy) as timed_out, run_lock(engine, timeout=0.6):
                pass
            assert time.monotonic() - started >= 0.6
            assert "still holds the lock" in str(timed_out.value)
            assert "after waiting 0.6 s" in str(timed_out.value)

        # Released on an exception too, and free at once for the next taker.
        with pytest.raises(ZeroDivisionError), run_lock(engine):
            _ = 1 / 0
        with run_lock(engine) as again:
            assert again.stale is None  # released cleanly: nobody to take over from
    finally:
        engine.dispose()


def test_taking_the_lock_marks_runs_left_running_as_crashed(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            session.add(Run(command="nightly", params={"pid": 999999, "host": "gone"}))
            session.add(Run(command="nightly", status="ok", finished_at=datetime.now()))
            session.commit()
        said: list[str] = []
        with run_lock(engine, notify=said.append) as lock:
            assert len(lock.crashed) == 1
        crashed, ok = runs(engine)
        assert crashed.status == "crashed" and crashed.finished_at is not None
        assert ok.status == "ok"
        assert said == [
            f"run {crashed.id} (qa nightly, pid 999999 on gone, started "
            f"{crashed.started_at:%Y-%m-%d %H:%M:%S}) never finished: marked crashed"
        ]
    finally:
        engine.dispose()


# --- other processes ------------------------------------------------------------------------


@pytest.mark.slow  # the last ``qa tag`` loads spaCy
def test_qa_tag_exits_3_while_another_process_holds_the_lock_until_it_is_killed(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "callqa.db")
    holder = hold_lock(db, tmp_path)
    try:
        code, err = finish(qa("tag", "--db", db, "--no-themes"))
        assert code == EXIT_LOCKED, err
        assert f"another run (pid {holder.pid} on {HOST}, started " in err
        assert f"holds the lock on {db}; wait for it, or pass --wait" in err
        assert "Traceback" not in err

        started = time.monotonic()
        code, err = finish(qa("tag", "--db", db, "--no-themes", "--wait", "--wait-timeout", "1"))
        assert code == EXIT_LOCKED, err
        assert time.monotonic() - started >= 1
        assert f"waiting for the lock on {db}: another run (pid {holder.pid}" in err
        assert f"still holds the lock on {db} after waiting 1 s" in err
    finally:
        holder.send_signal(signal.SIGKILL)  # no chance to clean up: as after a crash
        holder.communicate(timeout=30)  # reaps it and closes its stderr pipe

    code, err = finish(qa("tag", "--db", db, "--no-themes"))
    assert code == 0, err
    assert f"taking over the lock on {db}: its holder (pid {holder.pid} on {HOST}" in err
    engine = make_engine(db)
    try:
        (dead,) = runs(engine)
        assert dead.status == "crashed" and dead.finished_at is not None
        assert dead.params["pid"] == holder.pid
        assert f"run {dead.id} (qa nightly, pid {holder.pid} on {HOST}" in err
    finally:
        engine.dispose()


@pytest.mark.slow  # real nightly runs: spaCy, MiniLM
def test_two_nightly_runs_at_once_one_runs_and_one_exits_3(db_url: str, tmp_path: Path) -> None:
    folder = nightly_folder(tmp_path / "drop")
    existing_database(db_url)
    procs = [qa("nightly", str(folder), "--db", db_url) for _ in range(2)]
    results = sorted(finish(p) for p in procs)
    (ok_code, _), (busy_code, busy_err) = results
    assert (ok_code, busy_code) == (0, EXIT_LOCKED), results
    assert "another run (pid " in busy_err and "; wait for it, or pass --wait" in busy_err
    for _code, err in results:
        assert "Traceback" not in err and "UniqueViolation" not in err, err
    engine = make_engine(db_url)
    try:
        (run,) = runs(engine)  # the run that exited 3 left no audit row
        assert run.status == "ok" and run.finished_at is not None
        assert {"pid", "host"} <= set(run.params) and run.params["host"] == HOST
        assert count(engine, Call) == count(engine, Survey) == 24
    finally:
        engine.dispose()


@pytest.mark.slow  # real nightly runs: spaCy, MiniLM
def test_two_nightly_runs_at_once_with_wait_both_finish_without_duplicates(
    db_url: str, tmp_path: Path
) -> None:
    folder = nightly_folder(tmp_path / "drop")
    existing_database(db_url)
    procs = [qa("nightly", str(folder), "--db", db_url, "--wait") for _ in range(2)]
    results = [finish(p) for p in procs]
    assert [code for code, _err in results] == [0, 0], results
    assert any("waiting for the lock on" in err for _code, err in results), results
    for _code, err in results:
        assert "Traceback" not in err and "UniqueViolation" not in err, err

    engine = make_engine(db_url)
    try:
        assert [r.status for r in runs(engine)] == ["ok", "ok"]
        assert count(engine, Call) == count(engine, Survey) == 24
        assert count(engine, Turn) == 0  # no recordings: nothing was transcribed, twice or once
        with Session(engine) as session:
            tags = Counter(
                (t.call_id, t.tag, t.source, t.turn_index, t.span_start, t.method)
                for t in session.exec(select(Tag))
            )
            members = Counter(
                (m.call_id, m.source, m.turn_index) for m in session.exec(select(ThemeMember))
            )
            empty = session.exec(select(Cluster).where(Cluster.size == 0)).all()
        assert tags and max(tags.values()) == 1
        assert members and max(members.values()) == 1
        assert empty == []
    finally:
        engine.dispose()
