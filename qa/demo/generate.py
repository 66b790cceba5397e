"""Generate the callqa demo data set: ``calls.csv``, ``surveys.csv`` and stereo recordings.

    python -m qa.demo.generate --out qa/demo/data [--seed 7] [--no-audio]

The data describe a small, fictional contact center ("Brightline", an internet provider):
six weeks of history without recordings (``qa.demo.history``, calls ``H0001`` ..) and a
recorded fortnight (``qa.demo.fortnight``, calls ``C0001`` .. ``C0042``, 14 of them with
scripted recordings): five agents in two teams, three queues, repeat callers, transfers,
abandoned calls, callbacks kept and broken, and post-call surveys whose scores move with what
happened on the call (``qa.demo.surveys``).

The CSVs depend only on the seed; they never depend on the audio, so ``--no-audio`` (which
needs no espeak-ng) rewrites them byte for byte.  Rendering the recordings
(``qa.demo.audio``) needs ``espeak-ng`` and ``sox`` on the PATH.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.demo.audio import (
    AudioToolNotFoundError,
    EspeakNotFoundError,
    render_recordings,
    require_espeak,
    require_sox,
)
from qa.demo.calls import CALL_COLUMNS, DEFAULT_SEED, CallRecord
from qa.demo.fortnight import build_fortnight
from qa.demo.history import build_history
from qa.demo.surveys import SURVEY_COLUMNS, SurveyRecord, build_surveys
from qa.demo.workforce import write_workforce

__all__ = [
    "CALL_COLUMNS",
    "DEFAULT_OUT",
    "DEFAULT_SEED",
    "SURVEY_COLUMNS",
    "AudioToolNotFoundError",
    "CallRecord",
    "DemoData",
    "EspeakNotFoundError",
    "SurveyRecord",
    "build_calls",
    "build_surveys",
    "generate",
    "main",
    "write_csvs",
]

DEFAULT_OUT = Path(__file__).resolve().parent / "data"


@dataclass
class DemoData:
    """What :func:`generate` wrote."""

    out: Path
    calls_csv: Path
    surveys_csv: Path
    n_calls: int
    n_surveys: int
    recordings: list[Path] = field(default_factory=list)


def build_calls(seed: int = DEFAULT_SEED) -> list[CallRecord]:
    """Every call, in time order: the history (``H0001`` ..), then the recorded fortnight
    (``C0001`` .. ``C0042``)."""
    return [*build_history(seed), *build_fortnight(seed)]


def write_csvs(out: Path, calls: Sequence[CallRecord], surveys: Sequence[SurveyRecord]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (
        ("calls.csv", CALL_COLUMNS, [c.row() for c in calls]),
        ("surveys.csv", SURVEY_COLUMNS, [s.row() for s in surveys]),
    ):
        with open(out / name, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


def generate(
    out: Path | str = DEFAULT_OUT, seed: int = DEFAULT_SEED, audio: bool = True
) -> DemoData:
    """Write ``calls.csv``, ``surveys.csv``, ``agent_states.csv`` and ``schedule.csv`` (and,
    with ``audio``, the recordings) to ``out``.

    The CSVs depend only on ``seed``.  With ``audio=False`` existing recordings are left alone.
    Raises :class:`AudioToolNotFoundError` (:class:`EspeakNotFoundError` for espeak-ng) before
    writing anything if ``audio`` is requested and espeak-ng or sox is missing.
    """
    out = Path(out)
    if audio:
        require_espeak()
        require_sox()
    calls = build_calls(seed)
    surveys = build_surveys(calls, seed)
    write_csvs(out, calls, surveys)
    write_workforce(out, calls)
    recordings = render_recordings(out, calls, seed) if audio else []
    return DemoData(
        out=out,
        calls_csv=out / "calls.csv",
        surveys_csv=out / "surveys.csv",
        n_calls=len(calls),
        n_surveys=len(surveys),
        recordings=recordings,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qa.demo.generate", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 7)")
    parser.add_argument(
        "--no-audio", action="store_true", help="write the CSVs only (no espeak-ng needed)"
    )
    args = parser.parse_args(argv)
    try:
        result = generate(args.out, seed=args.seed, audio=not args.no_audio)
    except AudioToolNotFoundError as exc:
        parser.exit(2, f"error: {exc}\n")
    summary = f"wrote {result.n_calls} calls, {result.n_surveys} surveys"
    if result.recordings:
        size = sum(p.stat().st_size for p in result.recordings)
        summary += f", {len(result.recordings)} recordings ({size / 1e6:.2f} MB)"
    print(f"{summary} to {result.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
