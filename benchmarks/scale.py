"""Call list, search, call view, KPIs and Insights at a million calls.

    .venv/bin/python benchmarks/scale.py                        # 1,000,000 calls, SQLite
    .venv/bin/python benchmarks/scale.py --calls 100000 --pg    # and PostgreSQL
    .venv/bin/python benchmarks/scale.py --db /tmp/scale.db --reuse   # time an existing one
    .venv/bin/python benchmarks/scale.py --skip-heavy           # list/search/open only

Generates the center (``benchmarks/scale_data.py``: 40 % surveys with comments, about two tag
hits per call, transcripts for 5 %), then times each operation ``--runs`` times after a
warm-up run (KPIs and Insights ``--heavy-runs`` times, no warm-up), each in a fresh
transaction, through the functions the UI and the CLI call:
``qa.store.calllist.list_calls_page`` (first page; agent + tag + 90 days; a phrase search;
sorted by CSAT), ``qa.store.reads.call_detail`` (a random call), ``qa kpis``' rows and the
Insights tab's sections, each both computed (``qa.metrics.kpi_table.kpi_table`` and
``qa.report.insights_view.served_sections`` with no stored result: computed and stored) and
then served from that stored result (``qa.store.snapshots``). Run the "computed" row before
the "served" one (``--only`` keeps this order). PostgreSQL runs on
a throwaway cluster started as ``tests/pg.py`` does. Prints one Markdown table per backend.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "benchmarks"]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.scale_data import SENTENCES, ScaleSpec, agent_of, generate  # noqa: E402

TARGET_FAST_MS = 300.0
TARGET_HEAVY_MS = 3000.0
HEAVY_VIEWS = ("qa kpis", "Insights")
"""Operations whose target is ``TARGET_HEAVY_MS`` however they are served."""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _time(
    runs: int, work: Callable[[int], Any], warm: bool
) -> tuple[list[float], list[float], Any]:
    """Wall and CPU milliseconds of each run (CPU of this process: all of SQLite's work, none
    of PostgreSQL's server), and the last result."""
    if warm:
        work(0)  # warm-up, not counted
    took, cpu, result = [], [], None
    for run in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = work(run)
        took.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return took, cpu, result


def _phrase(run: int) -> str:
    words = SENTENCES[run % len(SENTENCES)].split()
    return '"' + " ".join(words[1:3]) + '"'


_OPTIONS: dict[str, Any] = {"by": None, "since": None, "until": None}


def _forget(engine: Any, kind: str) -> None:
    """Drop the stored results of ``kind``, so that the next call computes (and stores)."""
    from sqlalchemy import delete

    from qa.store.schema import Snapshot

    with engine.begin() as conn:
        conn.execute(delete(Snapshot).where(Snapshot.kind == kind))


def _view(engine: Any, kind: str, serve: Callable[[], Any], *, stored: bool) -> Any:
    """``serve()`` (a function going through ``qa.store.snapshots``) computed and stored, or
    served from that snapshot (``stored``); the run must be what its row says."""
    if not stored:
        _forget(engine, kind)
    served = serve()
    assert served.stored is stored, "the timed run was not what its row says"
    return served


def _kpis(engine: Any, *, stored: bool) -> Any:
    """What ``qa kpis`` prints (``qa.metrics.kpi_table``)."""
    from qa.metrics.base import KpiOptions
    from qa.metrics.kpi_table import KIND, kpi_table

    options = KpiOptions(48.0, 20.0)
    return _view(engine, KIND, lambda: kpi_table(engine, **_OPTIONS, options=options),
                 stored=stored)  # fmt: skip


def _insights(engine: Any, *, stored: bool) -> Any:
    """The Insights tab's all-data sections (``qa.report.insights_view``)."""
    from qa.report.insights_view import KIND, served_sections

    return _view(engine, KIND, lambda: served_sections(engine), stored=stored)


def operations(spec: ScaleSpec) -> list[tuple[str, bool, Callable[[Any, int], Any]]]:
    """(name, heavy, work(engine, run)) for every timed operation."""
    from qa.store import reads
    from qa.store.api import CallFilter, list_calls_page, transact

    rng = random.Random(1)
    since, until = datetime(2025, 6, 1), datetime(2025, 9, 1)

    def page(flt: CallFilter) -> Callable[[Any, int], Any]:
        return lambda engine, run: list_calls_page(engine, flt)

    def filtered(engine: Any, run: int) -> Any:
        flt = CallFilter(agent=agent_of(run % spec.agents)[0], tags_any=("long-wait",),
                         since=since, until=until)  # fmt: skip
        return list_calls_page(engine, flt)

    def search(engine: Any, run: int) -> Any:
        return list_calls_page(engine, CallFilter(search=_phrase(run)))

    def open_call(engine: Any, run: int) -> Any:
        call_id = rng.randint(1, spec.calls)
        return transact(engine, reads.call_detail, call_id=call_id)

    return [
        ("list: first page (newest 50)", False, page(CallFilter())),
        ("list: agent + tag + 90 days", False, filtered),
        ("list: phrase search", False, search),
        ("list: one tag, all history", False, page(CallFilter(tags_any=("rushed",)))),
        (
            "list: not tag + unreviewed",
            False,
            page(CallFilter(tags_none=("transfer", "rushed"), reviewed=False)),
        ),
        ("list: sorted by CSAT, ascending", False, page(CallFilter(sort="csat", desc=False))),
        ("open a call (call_detail)", False, open_call),
        ("qa kpis: computed (all calls)", True, lambda engine, run: _kpis(engine, stored=False)),
        ("qa kpis: served (snapshot)", False, lambda engine, run: _kpis(engine, stored=True)),
        ("Insights: computed (all data)", True, lambda e, run: _insights(e, stored=False)),
        ("Insights: served (snapshot)", False, lambda e, run: _insights(e, stored=True)),
    ]


def _ms(value: float) -> str:
    """Milliseconds: whole above 10, one decimal below (a stored result is served in ~1 ms)."""
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _total(result: Any) -> str:
    total = getattr(result, "total", None)
    return f"{total:,}" if isinstance(total, int) else ""


def bench(engine: Any, spec: ScaleSpec, args: argparse.Namespace, label: str) -> list[str]:
    """Time every operation on ``engine``; returns Markdown table lines."""
    lines = [
        f"**{label}**, {spec.calls:,} calls",
        "",
        "| operation | runs | p50 ms | p95 ms | max ms | CPU p50 ms | CPU p95 ms | target ms "
        "| matching calls |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, heavy, work in operations(spec):
        if args.only and not any(part in name for part in args.only.split(",")):
            continue
        if heavy and args.skip_heavy:
            continue
        runs = args.heavy_runs if heavy else args.runs
        try:
            took, cpu, result = _time(runs, lambda run, w=work: w(engine, run), not heavy)  # type: ignore[misc]
        except Exception as exc:  # a heavy step failing must not lose the other numbers
            lines.append(f"| {name} | - | failed: {type(exc).__name__}: {exc} | | | | | | |")
            continue
        target = TARGET_HEAVY_MS if heavy or name.startswith(HEAVY_VIEWS) else TARGET_FAST_MS
        cells = [statistics.median(took), _percentile(took, 0.95), max(took),
                 statistics.median(cpu), _percentile(cpu, 0.95)]  # fmt: skip
        lines.append(
            f"| {name} | {runs} | "
            + " | ".join(_ms(v) for v in cells)
            + f" | {target:.0f} | {_total(result)} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    return lines


def _prepare(url: str, spec: ScaleSpec, reuse: bool) -> tuple[Any, list[str]]:
    from qa.store.engine import make_engine

    engine = make_engine(url)
    if reuse:
        return engine, []
    started = time.perf_counter()
    steps = generate(engine, spec)
    notes = [f"generated in {time.perf_counter() - started:.0f} s: " + ", ".join(
        f"{k} {v:,.0f}" if k.startswith("rows:") else f"{k} {v:.1f} s" for k, v in steps.items()
    )]  # fmt: skip
    print(notes[0], file=sys.stderr, flush=True)
    return engine, notes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--heavy-runs", type=int, default=3, help="Runs of KPIs / Insights.")
    parser.add_argument("--db", type=Path, default=Path("/tmp/callqa-scale.db"))
    parser.add_argument("--reuse", action="store_true", help="Time --db as it is.")
    parser.add_argument("--pg", action="store_true", help="Also PostgreSQL (throwaway).")
    parser.add_argument("--skip-sqlite", action="store_true", help="Only PostgreSQL.")
    parser.add_argument("--skip-heavy", action="store_true", help="No KPIs / Insights.")
    parser.add_argument("--only", default="", help="Comma-separated operation name parts.")
    args = parser.parse_args(argv)
    spec = ScaleSpec(calls=args.calls)
    out: list[str] = []
    if not args.skip_sqlite:
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{args.db}{suffix}").unlink(missing_ok=True)
        engine, notes = _prepare(f"sqlite:///{args.db}", spec, args.reuse)
        out += [*bench(engine, spec, args, "SQLite"), "", *notes]
        engine.dispose()
    if args.pg:
        from tests.pg import start_cluster

        cluster, url = start_cluster("callqa_scale")
        try:
            engine, notes = _prepare(url, spec, False)
            out += ["", *bench(engine, spec, args, "PostgreSQL"), "", *notes]
            engine.dispose()
        finally:
            cluster.stop()
    print("\n".join(out))


if __name__ == "__main__":
    main()
