"""Several processes opening a brand-new database at once all succeed (schema creation is
serialised: an advisory lock on PostgreSQL, a write transaction on SQLite)."""

from __future__ import annotations

import multiprocessing

from sqlmodel import Session, func, select

from qa.store.schema import Call

PROCESSES = 4


def _open(url: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from qa.store.engine import make_engine

    try:
        engine = make_engine(url)
        engine.dispose()
        results.put("ok")
    except Exception as exc:  # report any failure to the parent, whatever it is
        results.put(repr(exc)[:300])


def test_concurrent_first_opens_create_the_schema_once(db_url: str) -> None:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_open, args=(db_url, results)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    outcomes = [results.get(timeout=5) for _ in workers]
    assert outcomes == ["ok"] * PROCESSES, outcomes
    from qa.store.engine import make_engine

    engine = make_engine(db_url)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Call)).one() == 0
    engine.dispose()
