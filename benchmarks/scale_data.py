"""A generated call center of any size, bulk-loaded into a callqa database, for
``benchmarks/scale.py`` and its CI check (``tests/test_scale.py``).

``generate(engine, ScaleSpec(calls=N))`` writes N calls (a year of them, 400 agents in 20
teams, 8 queues), surveys with comments for 40 %, about two tag hits per call, transcripts
for 5 %, reviewer decisions and scorecard reviews for a few; then fills ``CallTag`` through
``qa.store.calltags.rebuild_call_tags`` (the upgrade path) and refreshes the planner's
statistics. Rows go in through the driver in bulk: ``executemany`` in one transaction on
SQLite, ``COPY`` on PostgreSQL. The schema (tables, search index and triggers) comes from
``qa.store.engine.make_engine``, so the text-search triggers index turns and comments as
they are loaded.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from qa.store.calltags import rebuild_call_tags

START = datetime(2025, 1, 1)
TEAMS = tuple(f"team-{i:02d}" for i in range(20))
QUEUES = ("billing", "tech", "sales", "retention", "moves", "outage", "fraud", "general")
TAGS = (
    "re-explain", "transfer", "long-wait", "broken-callback", "unresolved", "agent-rude",
    "agent-praise", "rushed", "transfer:billing", "transfer:technical", "transfer:sales",
)  # fmt: skip
TAG_COUNTS = ((0, 1, 2, 3, 4), (0.1, 0.25, 0.3, 0.2, 0.15))  # mean 2.05 hits per call
SENTENCES = (
    "I was on hold for ages before anyone picked up", "the agent was lovely and patient",
    "they passed me to another department", "nobody called me back as promised",
    "my bill is higher than last month", "the router keeps dropping the connection",
    "I had to explain my problem three times", "sorted in no time thank you",
    "I want to cancel my contract", "the refund policy was explained clearly",
    "the app logs me out every day", "he rushed me off the phone",
    "still not fixed after two weeks", "the engineer never turned up",
    "great service from start to finish", "the signal in my area is patchy",
    "can you move me to the cheaper package", "the parcel arrived a day late",
    "I need my account number", "the hold music went on and on",
)  # fmt: skip
CHUNK = 50_000


@dataclass(frozen=True)
class ScaleSpec:
    """How big and how rich the generated call center is."""

    calls: int = 1_000_000
    survey_rate: float = 0.40
    transcript_rate: float = 0.05
    turns_per_call: int = 12
    decision_rate: float = 0.005
    review_rate: float = 0.003
    agents: int = 400
    days: int = 365
    seed: int = 0


def agent_of(i: int) -> tuple[str, str, str]:
    """(agent id, name, team) of agent ``i``."""
    return f"a{i:03d}", f"Agent {i:03d}", TEAMS[i % len(TEAMS)]


def _columns(table: Table) -> tuple[list[str], dict[str, Any]]:
    """Column names and a value for each column a generated row may leave out."""
    names, fill = [], {}
    for column in table.columns:
        names.append(column.name)
        default = column.default
        if column.nullable or default is None:
            fill[column.name] = None
        elif getattr(default, "is_scalar", False):
            fill[column.name] = default.arg  # type: ignore[attr-defined]
        else:
            fill[column.name] = default.arg(None)  # type: ignore[attr-defined]
    return names, fill


class Loader:
    """Bulk inserts of generated rows (dicts) into one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection

    def _value(self, value: Any) -> Any:
        if self.dialect == "sqlite" and isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, dict | list):
            return json.dumps(value)
        return value

    def load(self, name: str, rows: Iterator[dict[str, Any]]) -> int:
        """Insert ``rows`` into table ``name``; returns how many."""
        table = SQLModel.metadata.tables[name]
        names, fill = _columns(table)
        first = next(rows, None)
        if first is None:
            return 0
        if "id" not in first:  # the database numbers them
            names.remove("id")
        count = 0
        batch: list[tuple[Any, ...]] = []
        for row in itertools.chain([first], rows):
            batch.append(tuple(self._value(row.get(n, fill[n])) for n in names))
            if len(batch) >= CHUNK:
                count += self._flush(name, names, batch)
                batch = []
        return count + self._flush(name, names, batch)

    def _flush(self, name: str, names: Sequence[str], batch: list[tuple[Any, ...]]) -> int:
        if not batch:
            return 0
        cols = ", ".join(f'"{n}"' for n in names)
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in names)
            self.conn.executemany(f'INSERT INTO "{name}" ({cols}) VALUES ({marks})', batch)
        else:
            with self.conn.cursor() as cur, cur.copy(f'COPY "{name}" ({cols}) FROM STDIN') as cp:
                for row in batch:
                    cp.write_row(row)
        return len(batch)

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.raw.close()


def _calls(spec: ScaleSpec, rng: random.Random) -> Iterator[dict[str, Any]]:
    customers = max(1, spec.calls // 3)
    for i in range(1, spec.calls + 1):
        agent_id, name, team = agent_of(rng.randrange(spec.agents))
        talk, hold, acw = rng.uniform(60, 900), rng.uniform(0, 120), rng.uniform(10, 90)
        yield {
            "id": i, "external_id": f"S{i:07d}",
            "started_at": START + timedelta(seconds=rng.randrange(spec.days * 86400)),
            "agent_id": agent_id, "agent_name": name, "team": team,
            "queue": rng.choice(QUEUES), "customer_id": f"K{rng.randrange(customers):07d}",
            "direction": "inbound", "wait_seconds": rng.uniform(0, 300), "talk_seconds": talk,
            "hold_seconds": hold, "acw_seconds": acw, "abandoned": rng.random() < 0.03,
            "transferred": rng.random() < 0.2, "status": "tagged",
        }  # fmt: skip


def _comment(rng: random.Random) -> str:
    return ". ".join(rng.sample(SENTENCES, rng.randint(1, 3))) + "."


def _surveys(spec: ScaleSpec, rng: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(1, spec.calls + 1):
        if rng.random() >= spec.survey_rate:
            continue
        yield {
            "call_external_id": f"S{i:07d}", "submitted_at": START,
            "csat": rng.randint(1, 5), "nps": rng.randint(0, 10), "ces": rng.randint(1, 7),
            "fcr": rng.random() < 0.7, "comment": _comment(rng),
        }  # fmt: skip


def _tags(spec: ScaleSpec, rng: random.Random) -> Iterator[dict[str, Any]]:
    values, weights = TAG_COUNTS
    for i in range(1, spec.calls + 1):
        for tag in rng.sample(TAGS, rng.choices(values, weights)[0]):
            yield {"call_id": i, "tag": tag, "source": "comment", "span_start": 0,
                   "span_end": 10, "method": "rule", "score": 1.0, "present": True,
                   "created_at": START}  # fmt: skip


def _turns(spec: ScaleSpec, rng: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(1, spec.calls + 1):
        if rng.random() >= spec.transcript_rate:
            continue
        for k in range(spec.turns_per_call):
            speaker = ("agent", "customer")[k % 2]
            yield {"call_id": i, "index": k, "speaker": speaker, "start": k * 10.0,
                   "end": k * 10.0 + 9, "text": rng.choice(SENTENCES)}  # fmt: skip


def _decisions(spec: ScaleSpec, rng: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(1, spec.calls + 1):
        if rng.random() < spec.decision_rate:
            yield {"call_id": i, "tag": rng.choice(TAGS), "present": rng.random() < 0.5,
                   "reviewer": "bench", "role": "reviewer", "evidence": "", "comment": "",
                   "origin": "import", "created_at": START + timedelta(days=400)}  # fmt: skip


def _reviews(spec: ScaleSpec, rng: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(1, spec.calls + 1):
        if rng.random() < spec.review_rate:
            yield {"call_id": i, "reviewer": "bench", "scorecard": {}, "notes": "",
                   "score": float(rng.randint(0, 100)), "created_at": START}  # fmt: skip


STEPS: tuple[tuple[str, Callable[[ScaleSpec, random.Random], Iterator[dict[str, Any]]]], ...] = (
    ("call", _calls), ("survey", _surveys), ("tag", _tags), ("turn", _turns),
    ("decision", _decisions), ("review", _reviews),
)  # fmt: skip


def generate(engine: Engine, spec: ScaleSpec) -> dict[str, float]:
    """Load the generated center into ``engine``'s (empty) database; returns seconds per
    step and the row count per table (``rows:<table>``)."""
    rng = random.Random(spec.seed)
    loader = Loader(engine)
    out: dict[str, float] = {}
    try:
        if loader.dialect == "sqlite":
            loader.conn.execute("PRAGMA synchronous=OFF")
        for name, rows in STEPS:
            started = time.perf_counter()
            out[f"rows:{name}"] = loader.load(name, rows(spec, rng))
            loader.commit()
            out[f"load {name}"] = time.perf_counter() - started
        if loader.dialect == "postgresql":
            for name in ("call", "survey", "tag", "turn", "decision", "review"):
                loader.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f'COALESCE((SELECT MAX(id) FROM "{name}"), 1))'
                )
            loader.commit()
    finally:
        loader.close()
    started = time.perf_counter()
    with Session(engine) as session:
        out["rows:calltag"] = rebuild_call_tags(session)
        session.commit()
    out["CallTag rebuild"] = time.perf_counter() - started
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    out["ANALYZE"] = time.perf_counter() - started
    return out
