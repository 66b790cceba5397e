"""The nightly run at scale: single process vs Ray, and the cores 20,000 calls/night need.

    .venv/bin/python benchmarks/nightly_scale.py                  # ~60 calls; 1, then 2 workers
    .venv/bin/python benchmarks/nightly_scale.py --calls 20 --workers 1   # a quick look

Builds a night from the demo call center (``qa/demo/data``): the calls that have a recording
(and their surveys), repeated under new call ids up to ``--calls``. Runs
``qa.stages.nightly.run_nightly`` on it three ways, each into a fresh SQLite database: in one
process (the default executor), then with ``--ray local`` at each ``--workers`` count (a fresh
local Ray instance with that many CPUs). Times come from the run's own audit numbers
(``Run.counts["seconds"]``: transcribe + tag, model loading included, as a nightly run pays
it). Ray's overhead per task is measured twice: the round trip of an empty task, and the
run's worker time not spent inside tasks ((wall x workers - task seconds) / tasks).

From the fastest row's cost (wall x this machine's cores, per audio second) it estimates
the cores, and the machines of ``--machine-cores``, that 20,000 calls of ``--call-minutes``
need in an 8-hour window. Prints one Markdown table, then the estimate.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "benchmarks"]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

NIGHT_CALLS, WINDOW_HOURS = 20_000, 8.0
# Every mode may use all of this machine's cores (faster-whisper runs 4 threads per process,
# both channels at once), so a call costs wall x cores, not wall x workers.
CORES = len(os.sched_getaffinity(0))


def build_night(target: Path, calls: int) -> tuple[Path, float]:
    """The demo's recorded calls (and their surveys) repeated to ``calls``; (folder, audio s)."""
    from faster_whisper import decode_audio

    from qa.demo.project import DATA_DIR

    shutil.copytree(DATA_DIR, target)
    with (target / "calls.csv").open(newline="") as handle:
        recorded = [r for r in csv.DictReader(handle) if r["recording"]]
    with (target / "surveys.csv").open(newline="") as handle:
        surveys = {r["call_id"]: r for r in csv.DictReader(handle)}
    lengths = {
        r["recording"]: len(decode_audio(str(target / r["recording"]))) / 16000 for r in recorded
    }
    rows, survey_rows, audio = [], [], 0.0
    for n in range(calls):
        row = dict(recorded[n % len(recorded)])
        survey = surveys.get(row["call_id"])
        row["call_id"] = f"{row['call_id']}-{n:04d}"
        rows.append(row)
        audio += lengths[row["recording"]]
        if survey:
            survey_rows.append({**survey, "call_id": row["call_id"]})
    for name, out in (("calls.csv", rows), ("surveys.csv", survey_rows)):
        with (target / name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(out[0]))
            writer.writeheader()
            writer.writerows(out)
    return target, audio


def run_once(folder: Path, db: Path, workers: int | None) -> dict[str, Any]:
    """One nightly run; ``workers`` None: single process, else a fresh local Ray instance."""
    from qa.config import Settings
    from qa.stages.nightly import run_nightly
    from qa.store.engine import make_engine

    engine = make_engine(f"sqlite:///{db}")
    settings = Settings.from_env()
    row: dict[str, Any] = {"mode": "single process" if workers is None else f"ray x{workers}"}
    if workers is None:
        report = run_nightly(folder, engine=engine, settings=settings)
    else:
        import ray

        from qa.stages.ray_executor import RayExecutor, RayOptions

        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        try:
            row["noop_ms"] = _noop_round_trip_ms()
            with RayExecutor(settings, RayOptions("local", workers)) as executor:
                report = run_nightly(folder, engine=engine, settings=settings, ray=executor)
        finally:
            ray.shutdown()
    engine.dispose()
    stages = {s.stage: s for s in report.stages}
    row |= {
        "workers": workers or 1,
        "seconds": report.seconds["transcribe"] + report.seconds["tag"],
        "failed": sum(len(s.failed) for s in stages.values()),
        "calls": stages["transcribe"].done,
        "executor": report.executor,
    }
    return row


def _noop_round_trip_ms(tasks: int = 200) -> float:
    import ray

    @ray.remote(num_cpus=1)
    def noop() -> None:
        return None

    ray.get([noop.remote() for _ in range(8)])  # workers started
    start = time.perf_counter()
    for _ in range(tasks):
        ray.get(noop.remote())
    return (time.perf_counter() - start) / tasks * 1000


def table(rows: list[dict[str, Any]], audio: float) -> list[str]:
    lines = [
        "| mode | workers | calls | failed | transcribe+tag s | calls/min | audio h/h "
        "| core-s per audio min | ray no-op round trip ms | ray overhead per task s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        wall, ex = r["seconds"], r["executor"]
        overhead = "-"
        if ex.get("kind") == "ray" and ex.get("tasks"):
            busy = sum(ex["task_seconds"].values())
            overhead = f"{(wall * r['workers'] - busy) / ex['tasks']:.2f}"
        noop = f"{r['noop_ms']:.1f}" if "noop_ms" in r else "-"
        lines.append(
            f"| {r['mode']} | {r['workers']} | {r['calls']} | {r['failed']} | {wall:.1f} "
            f"| {r['calls'] / wall * 60:.1f} | {audio / wall:.1f} "
            f"| {wall * CORES / (audio / 60):.2f} | {noop} | {overhead} |"
        )
    return lines


def estimate(rows: list[dict[str, Any]], audio: float, args: argparse.Namespace) -> list[str]:
    """Cores for 20,000 calls in 8 h from the cheapest measured core-seconds per audio second."""
    best = min(rows, key=lambda r: r["seconds"])
    per_audio_s = best["seconds"] * CORES / audio
    demo_call = audio / best["calls"]
    out = [f"Estimate from '{best['mode']}' ({per_audio_s:.3f} core-s per audio s, load incl.):"]
    for label, call_s in (
        (f"demo-length calls ({demo_call:.0f} s)", demo_call),
        (f"{args.call_minutes:g}-minute calls", args.call_minutes * 60),
    ):
        cores = NIGHT_CALLS * call_s * per_audio_s / (WINDOW_HOURS * 3600)
        machines = math.ceil(cores / args.machine_cores)
        out.append(
            f"- {NIGHT_CALLS:,} {label} in {WINDOW_HOURS:g} h: {cores:.1f} cores"
            f" = {machines} machine(s) of {args.machine_cores} cores"
        )
    if args.gpu_x_realtime:  # one ASR stream per GPU at the x real time asr.py measured
        hours = NIGHT_CALLS * args.call_minutes / 60 / args.gpu_x_realtime
        out.append(
            f"- GPU ASR at {args.gpu_x_realtime:g}x real time (benchmarks/asr.py gpu row):"
            f" {hours:.1f} GPU-hours = {math.ceil(hours / WINDOW_HOURS)} GPU(s) for the ASR"
            f" of {NIGHT_CALLS:,} {args.call_minutes:g}-minute calls; tagging stays on CPUs"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60, help="calls in the night (default 60)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Ray sizes")
    parser.add_argument("--call-minutes", type=float, default=6.0, help="typical call length")
    parser.add_argument("--machine-cores", type=int, default=16, help="cores per machine")
    parser.add_argument(
        "--gpu-x-realtime", type=float, help="also size GPUs: asr.py's gpu row, x real time"
    )
    parser.add_argument("--skip-single", action="store_true", help="only the Ray rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qa-nightly-scale-") as tmp:
        folder, audio = build_night(Path(tmp) / "night", args.calls)
        sizes = ([] if args.skip_single else [None]) + list(args.workers)
        rows = []
        for n, workers in enumerate(sizes):
            rows.append(run_once(folder, Path(tmp) / f"run{n}.db", workers))
            print(f"# {rows[-1]['mode']}: {rows[-1]['seconds']:.1f} s", file=sys.stderr)
    load = os.getloadavg()[0]
    print(f"{args.calls} calls, {audio / 3600:.2f} h of audio; {os.cpu_count()} CPUs,"
          f" load average {load:.1f} at the end\n")  # fmt: skip
    print("\n".join(table(rows, audio)))
    print()
    print("\n".join(estimate(rows, audio, args)))


if __name__ == "__main__":
    main()
