"""ASR benchmark: one table of speed (whole `qa asr` process) and accuracy (WER) per row.

    .venv/bin/python benchmarks/asr.py                  # ~10-min stereo call, every row
    .venv/bin/python benchmarks/asr.py --quick          # ~1-min call (a smoke run)
    .venv/bin/python benchmarks/asr.py --rows fw-tiny-b5,ow   # rows whose name starts so
    .venv/bin/python benchmarks/asr.py --list           # the row names

Speed: each row runs `python -m qa.commands.asr CALL` (the code behind `qa asr`) as its own
process on a stereo call of ~10 minutes built from the demo recordings (agent left,
customer right, silences between turns and holds); wall seconds include interpreter
start-up, imports, model load, decoding and writing the JSON, and peak memory is that
process's maximum RSS (os.wait4). The call is 8 kHz like telephony; "mono" rows get the
two channels mixed into one.
Accuracy: WER (jiwer, Whisper's English text normaliser) on the call against its script,
and on ../shared/data/speech_samples against transcripts.tsv (one process per row, not
timed). A row whose engine, option or model is not available prints "n/a (reason)".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# benchmarks/ is on sys.path when this file runs as a script (and for the worker).
from asr_inputs import RATE, REPO, SAMPLES, Call, Scorer, build_call, sample_refs


@dataclass(frozen=True)
class Row:
    name: str
    engine: str = "faster-whisper"
    model: str = "tiny.en"
    beam: int = 5
    vad: bool = True
    batch: int | None = None
    workers: int | None = None  # channel workers; None = the engine default (2)
    layout: str = "stereo"  # or "mono": both channels mixed into one
    device: str = "cpu"
    default: bool = False  # exactly `qa asr CALL [--model M]`: the engine's defaults

    @property
    def mode(self) -> str:
        if self.default:
            return "qa asr defaults"
        parts = ["greedy" if self.beam == 1 else f"beam{self.beam}"]
        parts += ["vad" if self.vad else "no-vad", self.layout]
        parts += [f"batch{self.batch}"] if self.batch else []
        return " ".join(parts + (["one-channel-at-a-time"] if self.workers == 1 else []))

    def options(self) -> dict:
        """make_engine keyword arguments, as `qa asr` builds them from its flags."""
        if self.default:
            return {"model": self.model}
        opts: dict = {"model": self.model, "beam_size": self.beam, "vad_filter": self.vad}
        if self.batch:
            opts["batch_size"] = self.batch
        if self.workers:
            opts["channel_workers"] = self.workers
        if self.device != "cpu":
            opts.update(device=self.device, compute_type="float16")
        return opts

    def flags(self) -> list[str]:
        if self.default:
            return [] if self.model == "tiny.en" else ["--model", self.model]
        flags = ["--engine", self.engine, "--model", self.model, "--beam-size", str(self.beam)]
        flags.append("--vad" if self.vad else "--no-vad")
        if self.batch:
            flags += ["--batch-size", str(self.batch)]
        if self.workers:
            flags += ["--channel-workers", str(self.workers)]
        return flags + (["--device", self.device] if self.device != "cpu" else [])


ROWS = (
    Row("qa-asr-default", default=True),
    Row("fw-tiny-b5-vad"),
    Row("fw-tiny-greedy-vad", beam=1),
    Row("fw-tiny-b5-vad-serial", workers=1),
    Row("fw-tiny-greedy-vad-serial", beam=1, workers=1),
    Row("fw-tiny-b5-novad", vad=False),
    Row("fw-tiny-b5-vad-mono", layout="mono"),
    Row("fw-tiny-b5-vad-batch8", batch=8),
    Row("fw-tiny-greedy-vad-batch8", beam=1, batch=8),
    Row("ow-tiny-b5-vad", engine="openai-whisper"),
    Row("ow-tiny-greedy-vad", engine="openai-whisper", beam=1),
    Row("ow-tiny-b5-novad", engine="openai-whisper", vad=False),
    Row("qa-asr-base", model="base", default=True),
)
GPU_ROWS = (Row("gpu-fw-tiny-b5-vad-batch16", batch=16, device="cuda"),)
# ------------------------------------------------------------------------- measuring


def availability(row: Row) -> str | None:
    """Why the row cannot run here (None when it can): engine, options, model."""
    from transcribe.engine import make_engine

    try:
        engine = make_engine(row.engine, **row.options())
    except (ValueError, TypeError) as exc:
        return str(exc).splitlines()[0]
    if row.engine == "faster-whisper":
        from transcribe.models import resolve_model

        try:
            resolve_model(getattr(engine, "model", row.model))
        except ValueError as exc:
            return str(exc)
    return None


def compute_type(row: Row) -> str:
    from transcribe.engine import make_engine

    engine = make_engine(row.engine, **row.options())
    return str(getattr(engine, "compute_type", None) or "float32")


def run_speed(row: Row, call: Call, workdir: Path) -> dict:
    """Run `qa asr` on the call as one process: wall seconds, peak RSS, its JSON."""
    out = workdir / f"{row.name}.json"
    audio = call.mono if row.layout == "mono" else call.stereo
    cmd = [sys.executable, "-m", "qa.commands.asr", str(audio), "-o", str(out), *row.flags()]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    stderr = proc.stderr.read() if proc.stderr else ""
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        return {"error": (stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    data = json.loads(out.read_text())
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall": wall, "cpu": cpu, "peak_mb": usage.ru_maxrss / 1024, "json": data}


def run_samples(row: Row) -> dict[str, str] | str:
    """Transcripts of the reference samples (one untimed process), or an error line."""
    spec = json.dumps({"engine": row.engine, "options": row.options()})
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, __file__, "--samples-worker", spec]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    return json.loads(proc.stdout)


def samples_worker(spec: str) -> None:
    from transcribe import make_engine, transcribe_file

    cfg = json.loads(spec)
    engine = make_engine(cfg["engine"], **cfg["options"])
    texts: dict[str, str] = {}
    for name in sorted({r["file"].partition("#")[0] for r in sample_refs()}):
        t = transcribe_file(SAMPLES / name, engine)
        texts[name] = t.text
        texts[f"{name}#left"], texts[f"{name}#right"] = (
            t.speaker_text("agent"),
            t.speaker_text("customer"),
        )
    print(json.dumps(texts))


# ------------------------------------------------------------------------- the table

COLUMNS = (
    "row",
    "engine",
    "model",
    "compute",
    "mode",
    "audio s",
    "wall s",
    "CPU s",
    "RTF",
    "x real time",
    "peak MB",
    "WER call %",
    "WER samples %",
)


def measure(row: Row, call: Call, workdir: Path, scorer: Scorer) -> list[str]:
    head = [row.name, row.engine, row.model]
    why = availability(row)
    if why is not None:
        return [*head, "", row.mode, f"n/a ({why})"]
    samples = run_samples(row)  # first: it also warms caches and builds converted models
    speed = run_speed(row, call, workdir)
    if "error" in speed:
        return [*head, compute_type(row), row.mode, f"n/a ({speed['error']})"]
    wall = speed["wall"]
    wer_call = scorer.call(speed["json"], call.refs, row.layout) if call.refs else None
    if isinstance(samples, str):
        wer_samples = f"n/a ({samples})"
    elif row.layout == "mono":
        wer_samples = "-"  # the samples are single-speaker already: same as the stereo row
    else:
        wer_samples = f"{scorer.samples(samples):.1f}"
    return [
        *head,
        compute_type(row),
        row.mode,
        f"{call.seconds:.0f}",
        f"{wall:.1f}",
        f"{speed['cpu']:.1f}",
        f"{wall / call.seconds:.3f}",
        f"{call.seconds / wall:.1f}",
        f"{speed['peak_mb']:.0f}",
        "-" if wer_call is None else f"{wer_call:.1f}",
        wer_samples,
    ]


def markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for cells in rows:
        cells = cells + [""] * (len(COLUMNS) - len(cells))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(rows: list[list[str]]) -> list[str]:
    """The issue's targets, checked on the row that is exactly `qa asr CALL`."""
    table = [dict(zip(COLUMNS, r, strict=True)) for r in rows if len(r) == len(COLUMNS)]
    by_name = {r["row"]: r for r in table}
    base = by_name.get("qa-asr-default")
    if base is None:
        return ["targets: the qa-asr-default row did not run"]
    xrt = float(base["x real time"])
    notes = [
        f"qa asr defaults, whole process: {xrt:.1f}x real time (target >= 25x on 2 cores): "
        + ("PASS" if xrt >= 25 else "FAIL")
    ]
    for other in (r for r in table if r["engine"] == "openai-whisper"):
        ratio = float(other["wall s"]) / float(base["wall s"])
        line = f"qa asr defaults vs {other['row']}: {ratio:.1f}x faster (target >= 4x): " + (
            "PASS" if ratio >= 4 else "FAIL"
        )
        for column in ("WER call %", "WER samples %"):
            mine, theirs = base[column], other[column]
            if _number(mine) and _number(theirs):
                delta = float(mine) - float(theirs)
                line += f"; {column} {mine} vs {theirs} ({delta:+.1f} points, target <= +1)"
        notes.append(line)
    return notes


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def machine() -> str:
    import platform

    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs ({cpu}), load average {load}"


def gpu_available() -> bool:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a ~1-minute call instead of ~10")
    parser.add_argument("--rows", help="comma-separated row names or name prefixes")
    parser.add_argument("--list", action="store_true", help="print the row names and exit")
    parser.add_argument("--samples-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.samples_worker:
        samples_worker(args.samples_worker)
        return 0
    rows = list(ROWS) + (list(GPU_ROWS) if gpu_available() else [])
    if args.list:
        print("\n".join(f"{r.name:28} {r.engine} {r.model} {r.mode}" for r in rows))
        return 0
    if args.rows:
        wanted = [w.strip() for w in args.rows.split(",") if w.strip()]
        rows = [r for r in rows if any(r.name.startswith(w) for w in wanted)]
        if not rows:
            parser.error(f"no row matches {args.rows!r}; see --list")

    os.environ["HF_HUB_OFFLINE"] = "1"
    scorer = Scorer()
    with tempfile.TemporaryDirectory(prefix="asr-bench-") as tmp:
        call = build_call(Path(tmp), 60.0 if args.quick else 600.0)
        print(f"machine: {machine()}", file=sys.stderr)
        print(f"call: {call.seconds:.0f} s stereo at {RATE} Hz from {call.source}", file=sys.stderr)
        results = []
        for row in rows:
            print(f"running {row.name} ...", file=sys.stderr, flush=True)
            results.append(measure(row, call, Path(tmp), scorer))
            print("  " + " | ".join(results[-1][3:]), file=sys.stderr, flush=True)
    print(markdown(results))
    print()
    print("\n".join(targets(results)))
    print(f"machine at the end: {machine()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
