"""The scale benchmark's generator at 20,000 calls (correctness, not time): the call list over
its bulk-loaded database agrees with plain SQL read into pandas, and ``CallTag`` equals the
effective tags computed in Python."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from sqlmodel import Session

from benchmarks.scale_data import ScaleSpec, agent_of, generate
from qa.store.callfilter import CallFilter
from qa.store.calllist import iter_calls, list_calls_page
from qa.store.calltags import stale_call_tags
from qa.store.engine import make_engine
from tests.calllist_data import holds_phrase

N = 20_000


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    engine = make_engine(str(tmp_path_factory.mktemp("scale") / "scale.db"))
    counts = generate(engine, ScaleSpec(calls=N, seed=5))
    sql = (
        "SELECT c.id, c.external_id, c.started_at, c.agent_id, c.team, c.transferred, "
        "s.csat, s.comment FROM call c LEFT JOIN survey s ON s.call_external_id = c.external_id"
    )
    with engine.connect() as conn:
        frame = pd.read_sql(sql, conn, parse_dates=["started_at"])
        tags = pd.read_sql("SELECT call_id, tag FROM calltag", conn)
        turns = pd.read_sql("SELECT call_id, text FROM turn", conn)
    frame["tags"] = (
        frame["id"]
        .map(tags.groupby("call_id")["tag"].agg(set))
        .map(lambda t: t if isinstance(t, set) else set())
    )
    texts = turns.groupby("call_id")["text"].agg(list)
    frame["turns"] = frame["id"].map(texts).map(lambda t: t if isinstance(t, list) else [])
    frame["comment"] = frame["comment"].fillna("")
    yield engine, frame, counts
    engine.dispose()


def _ids(engine, flt: CallFilter) -> list[int]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return [r.id for r in iter_calls(session=session, flt=flt)]


def test_generator_sizes(scaled) -> None:  # type: ignore[no-untyped-def]
    _, frame, counts = scaled
    assert counts["rows:call"] == len(frame) == N
    assert 0.37 < counts["rows:survey"] / N < 0.43
    assert 1.9 < counts["rows:tag"] / N < 2.2
    assert 0.04 < counts["rows:turn"] / (N * ScaleSpec().turns_per_call) < 0.06


def test_call_tags_equal_effective_tags(scaled) -> None:  # type: ignore[no-untyped-def]
    engine, _, _ = scaled
    with Session(engine) as session:
        assert stale_call_tags(session) == {}


def test_list_agrees_with_pandas(scaled) -> None:  # type: ignore[no-untyped-def]
    engine, f, _ = scaled
    since, until = datetime(2025, 3, 1), datetime(2025, 9, 1)
    agent = agent_of(7)[0]
    has = f["tags"].map(lambda t: "long-wait" in t)
    phrase = f["comment"].map(lambda c: holds_phrase(c, "refund policy")) | f["turns"].map(
        lambda ts: any(holds_phrase(t, "refund policy") for t in ts)
    )
    cases = [
        (CallFilter(agent=agent, tags_any=("long-wait",), since=since, until=until),
         (f.agent_id == agent) & has & (f.started_at >= since) & (f.started_at < until)),
        (CallFilter(csat_min=4, transferred=True), (f.csat >= 4) & f.transferred.astype(bool)),
        (CallFilter(tags_none=("transfer", "rushed"), team="team-03"),
         ~f["tags"].map(lambda t: bool(t & {"transfer", "rushed"})) & (f.team == "team-03")),
        (CallFilter(search='"refund policy"'), phrase),
    ]  # fmt: skip
    for flt, mask in cases:
        want = f.loc[mask].sort_values(["started_at", "id"], ascending=False)["id"].tolist()
        assert _ids(engine, flt) == want, flt
    page = CallFilter(sort="csat", desc=False, page=3, page_size=100)
    ordered = f.sort_values(["csat", "id"], na_position="last", kind="stable")["id"].tolist()
    with Session(engine) as session:
        got = list_calls_page(session=session, flt=page)
    assert [r.id for r in got.rows] == ordered[200:300] and got.total == N


def test_benchmark_times_kpis_computed_then_served(scaled) -> None:  # type: ignore[no-untyped-def]
    """The benchmark's KPI rows at 20,000 calls: the computed run stores the result, the
    served runs find it current and return the same numbers as a computation without it."""
    import json
    from argparse import Namespace

    from benchmarks.scale import bench
    from qa.metrics.base import KpiOptions
    from qa.metrics.kpi_table import compute_kpi_rows, kpi_table

    engine, _, _ = scaled
    args = Namespace(only="qa kpis", skip_heavy=False, runs=2, heavy_runs=1)
    lines = bench(engine, ScaleSpec(calls=N, seed=5), args, "SQLite")
    rows = [line for line in lines if line.startswith("| qa kpis")]
    assert [r.split(" | ")[0] for r in rows] == ["| qa kpis: computed (all calls)",
                                                 "| qa kpis: served (snapshot)"]  # fmt: skip
    assert not any("failed" in r for r in rows)
    options = KpiOptions(48.0, 20.0)
    served = kpi_table(engine, by=None, since=None, until=None, options=options)
    fresh = compute_kpi_rows(engine, by=None, since=None, until=None, options=options)
    assert served.stored and served.payload == json.loads(json.dumps(fresh, default=str))
