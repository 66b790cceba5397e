"""Shared fixtures: offline model hubs, SQLite/PostgreSQL databases, the shared datasets."""

from __future__ import annotations

import os
import tempfile

# Before anything imports huggingface_hub / transformers / gradio: nothing may reach a hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
# Sentence vectors the tests embed go to a throwaway folder, not the checkout's models/cache
# (classify.vector_cache); a test of the cache itself points it elsewhere.
os.environ.setdefault("CALLQA_VECTOR_CACHE", tempfile.mkdtemp(prefix="callqa-test-vectors-"))

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; in CI a missing prerequisite is a failure."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this fails rather than skips)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pg.PgCluster]:
    """A throwaway PostgreSQL cluster, started the first time a test asks for one."""
    try:
        cluster, _url = pg.start_cluster(dbname=None)
    except pg.PgUnavailable as exc:
        skip_or_fail(str(exc))
    except pg.PgStartError as exc:
        skip_or_fail(f"the throwaway PostgreSQL cluster did not start: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_url(pg_cluster: pg.PgCluster) -> str:
    """SQLAlchemy URL of the session's ``callqa_test`` database on the throwaway cluster."""
    return pg_cluster.create_database("callqa_test")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, or a new database on the PostgreSQL cluster."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'callqa.db'}"
        return
    cluster: pg.PgCluster = request.getfixturevalue("pg_cluster")
    name = pg.unique_dbname()
    yield cluster.create_database(name)
    cluster.drop_database(name)  # WITH (FORCE): a leaked connection doesn't block it


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    """``qa.store.engine.make_engine`` on ``db_url``, tables created; disposed after the test."""
    from qa.store.engine import make_engine

    eng = make_engine(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repository: the public datasets for tests."""
    if not SHARED_DATA.is_dir():
        skip_or_fail(f"shared datasets not found at {SHARED_DATA}")
    return SHARED_DATA
