"""``qa nightly --ray`` on a real local Ray instance (2 CPUs) with the real models.

A few demo recordings: the Ray run stores the same turns and tags as the single-process run;
a worker that dies mid-call is replaced and its call retried (nothing lost, nothing written
twice); a call whose worker keeps dying is marked failed and the run goes on.
"""

from __future__ import annotations

import csv
import functools
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from qa.cli import app
from qa.config import Settings
from qa.demo.project import DATA_DIR
from qa.store.schema import Call, Run, Tag, Turn
from tests import pg
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.slow
KEEP_RECORDINGS = 3

try:
    import ray
except ImportError:  # the optional extra: pip install -e ".[ray]"
    ray = None


def demo_copy(target: Path) -> Path:
    """The demo folder with only the first few recordings kept."""
    shutil.copytree(DATA_DIR, target)
    with (target / "calls.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    kept = 0
    for row in rows:
        if row["recording"]:
            kept += 1
            if kept > KEEP_RECORDINGS:
                row["recording"] = ""
    with (target / "calls.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def snapshot(db: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Turns and tags, keyed by the call's external id (row ids differ between databases)."""
    from qa.store.engine import make_engine

    engine = make_engine(db)
    with Session(engine) as session:
        ids = {c.id: c.external_id for c in session.exec(select(Call))}
        turns = sorted(
            (ids[t.call_id], t.index, t.speaker, t.text) for t in session.exec(select(Turn))
        )
        tags = sorted(
            (ids[t.call_id], t.tag, t.source, t.turn_index or -1, t.span_start or -1, t.method)
            for t in session.exec(select(Tag))
        )
    engine.dispose()
    return turns, tags


def last_run(db: str) -> Run:
    from qa.store.engine import make_engine

    engine = make_engine(db)
    with Session(engine) as session:
        run = session.exec(select(Run).order_by(Run.id.desc())).first()  # type: ignore[union-attr]
    engine.dispose()
    assert run is not None
    return run


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    """One local Ray instance for the module; tests' task functions travel by value."""
    if ray is None:
        skip_or_fail('ray is not installed: pip install -e ".[ray]"')
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Any], list[Any]]:
    """Turns and tags of the single-process run on the same recordings."""
    tmp = tmp_path_factory.mktemp("single")
    db = str(tmp / "single.db")
    result = CliRunner().invoke(app, ["nightly", str(demo_copy(tmp / "drop")), "--db", db])
    assert result.exit_code == 0, result.output
    turns, tags = snapshot(db)
    assert len({t[0] for t in turns}) == KEEP_RECORDINGS and tags
    return turns, tags


@pytest.mark.parametrize("ship", [False, True], ids=["shared-path", "ship-audio"])
def test_ray_run_matches_the_single_process_run(
    ray_cluster: None, single: tuple[list[Any], list[Any]], tmp_path: Path, ship: bool
) -> None:
    db = str(tmp_path / "ray.db")
    args = ["nightly", str(demo_copy(tmp_path / "drop")), "--db", db, "--ray", "local"]
    args += ["--workers", "2"] + (["--ship-audio"] if ship else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "transcribe: 3 done, 0 failed" in result.output
    assert "2 workers" in result.output
    assert snapshot(db) == single
    run = last_run(db)
    executor = run.counts["executor"]
    assert executor["kind"] == "ray" and executor["workers"] == 2 and executor["retries"] == 0
    assert executor["task_seconds"]["transcribe"] > 0
    assert set(run.counts["seconds"]) >= {"ingest", "transcribe", "tag", "themes"}


def die_on_first_try(markers: Path, victim: str, always: bool, settings: Settings, path: Path):  # type: ignore[no-untyped-def]
    """A transcribe task that kills its worker process on the victim's first attempt (or
    every attempt with ``always``), and transcribes normally otherwise."""
    from qa.stages.ray_executor import transcribe_path

    marker = markers / f"{path.name}.tried"
    if path.name == victim and (always or not marker.exists()):
        marker.touch()
        os._exit(1)  # the worker dies mid-task, as on an OOM kill
    return transcribe_path(settings, path)


def run_with_crashes(folder: Path, db: str, *, always: bool, max_retries: int) -> Any:
    from qa.stages.nightly import run_nightly
    from qa.stages.ray_executor import RayExecutor, RayOptions
    from qa.store.engine import make_engine

    with (folder / "calls.csv").open(newline="") as handle:
        victim = Path(next(r for r in csv.DictReader(handle) if r["recording"])["recording"]).name
    crash = functools.partial(die_on_first_try, folder.parent, victim, always)
    options = RayOptions(address="local", workers=2, max_retries=max_retries)
    engine = make_engine(db)
    settings = Settings.from_env()
    with RayExecutor(settings, options, transcribe_fn=crash) as executor:
        report = run_nightly(folder, engine=engine, settings=settings, ray=executor)
    engine.dispose()
    return report, victim


@pytest.fixture
def pg_db(pg_cluster: pg.PgCluster) -> Iterator[str]:
    """A fresh database on the throwaway PostgreSQL cluster."""
    name = pg.unique_dbname()
    yield pg_cluster.create_database(name)
    pg_cluster.drop_database(name)


@pytest.mark.postgres
def test_a_dead_worker_is_retried_nothing_lost_nothing_twice(
    ray_cluster: None, single: tuple[list[Any], list[Any]], tmp_path: Path, pg_db: str
) -> None:
    """On PostgreSQL: the driver's per-call transactions, as a production cluster runs them."""
    folder = demo_copy(tmp_path / "drop")
    db = pg_db
    report, _ = run_with_crashes(folder, db, always=False, max_retries=2)
    transcribe = report.stages[0]
    assert (transcribe.done, transcribe.failed) == (KEEP_RECORDINGS, ())
    assert report.exit_code == 0 and report.executor["retries"] == 1
    assert snapshot(db) == single  # 0 lost, 0 duplicated
    assert last_run(db).counts["executor"]["retries"] == 1


def test_a_call_whose_worker_keeps_dying_fails_and_the_run_goes_on(
    ray_cluster: None, tmp_path: Path
) -> None:
    folder = demo_copy(tmp_path / "drop")
    db = str(tmp_path / "crash.db")
    report, victim = run_with_crashes(folder, db, always=True, max_retries=1)
    transcribe = report.stages[0]
    assert transcribe.done == KEEP_RECORDINGS - 1 and len(transcribe.failed) == 1
    assert "Ray worker lost 2 time(s)" in transcribe.failed[0][1]
    assert report.exit_code == 2 and report.executor["retries"] == 1
    from qa.store.engine import make_engine

    engine = make_engine(db)
    with Session(engine) as session:
        failed = session.exec(select(Call).where(Call.status == "failed")).one()
        assert failed.recording_path and failed.recording_path.endswith(victim)
        assert "Ray worker lost" in (failed.error or "")
    engine.dispose()


def test_ray_without_ray_installed_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    result = CliRunner().invoke(app, ["nightly", str(tmp_path), "--ray", "auto"])
    assert result.exit_code == 1
    assert 'pip install -e ".[ray]"' in result.output


def test_an_unreachable_cluster_fails_at_once() -> None:
    """Ray itself retries an unreachable address for minutes; `qa nightly` exits 1 at once
    (the command prints "--ray ADDRESS: cannot reach the Ray cluster: ...")."""
    from qa.stages.ray_executor import _check_reachable

    with pytest.raises(ConnectionError, match=r"nothing answers at 127\.0\.0\.1:1"):
        _check_reachable("127.0.0.1:1", timeout=2)
    _check_reachable("auto")  # Ray finds the local cluster itself
