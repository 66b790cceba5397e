"""Generate the callqa demo data set: ``calls.csv``, ``surveys.csv`` and stereo recordings.

    python -m qa.demo.generate --out qa/demo/data [--seed 7] [--no-audio]

The data describe a small, fictional contact center ("Brightline", an internet provider) over
two weeks: five agents in two teams, three queues, repeat callers, transfers, abandoned calls,
a kept callback, and post-call surveys whose scores move with what happened on the call.

The CSVs depend only on the seed; they never depend on the audio, so ``--no-audio`` (which
needs no espeak-ng) rewrites them byte for byte.  Audio rendering needs ``espeak-ng`` on the
PATH, and ``sox`` to encode: each scripted dialogue in ``qa.demo.dialogues`` is spoken line by
line (agent and customer in different voices), resampled to 8 kHz, laid out on a timeline with
short gaps, holds and the odd interruption, and written as stereo Ogg Vorbis with the agent on
the left channel and the customer on the right.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from qa.demo.dialogues import (
    AGENTS,
    AGENTS_BY_ID,
    COMMENTS,
    CUSTOMER_VOICES,
    DIALOGUES,
    QUEUES,
    Agent,
    Dialogue,
    Voice,
)

if TYPE_CHECKING:
    import numpy as np

DEFAULT_SEED = 7
DEFAULT_OUT = Path(__file__).resolve().parent / "data"
SAMPLE_RATE = 8000
VORBIS_QUALITY = 1  # sox -C: libvorbis quality, -1..10

CALL_COLUMNS = (
    "call_id",
    "started_at",
    "agent_id",
    "agent_name",
    "team",
    "queue",
    "customer_id",
    "direction",
    "wait_seconds",
    "talk_seconds",
    "hold_seconds",
    "acw_seconds",
    "abandoned",
    "transferred",
    "recording",
)
SURVEY_COLUMNS = ("call_id", "submitted_at", "csat", "nps", "ces", "fcr", "comment")

FIRST_DAY = date(2026, 11, 2)  # a Monday
LAST_DAY = date(2026, 11, 15)
OPEN_HOUR, CLOSE_HOUR = 8, 18

N_ABANDONED = 5
N_FILLER_OUTBOUND = 1
N_FILLER_SINGLES = 15  # handled inbound calls outside the repeat-caller pairs
SURVEY_RATE = 0.42  # response rate among the unrecorded handled calls

# Survey model: each phenomenon on a call moves the expected scores by this much.
CSAT_BASE = 4.6
CSAT_EFFECT = {
    "re-explain": -1.6,
    "transfer": -0.7,
    "long-wait": -1.2,
    "agent-rude": -2.2,
    "rushed": -1.2,
    "unresolved": -1.5,
    "hold": -0.3,
    "callback-promised": -0.2,
    "broken-callback": -1.0,
    "agent-praise": 0.6,
}
CSAT_NOISE = 0.3
CES_BASE = 1.8  # customer effort, 1..7, lower is better
CES_EFFECT = {
    "re-explain": 2.0,
    "transfer": 1.2,
    "long-wait": 1.0,
    "agent-rude": 1.0,
    "rushed": 0.6,
    "unresolved": 1.2,
    "hold": 0.5,
    "callback-promised": 0.3,
    "broken-callback": 0.8,
    "agent-praise": -0.3,
}
# Negative phenomena, most salient first: the order a respondent would complain in.
COMPLAINT_ORDER = (
    "agent-rude",
    "re-explain",
    "unresolved",
    "broken-callback",
    "rushed",
    "long-wait",
    "transfer",
    "hold",
    "callback-promised",
)


class AudioToolNotFoundError(RuntimeError):
    """Audio was requested but a tool it needs (``espeak-ng``, ``sox``) is not on the PATH."""


class EspeakNotFoundError(AudioToolNotFoundError):
    """Audio was requested but the ``espeak-ng`` binary is not on the PATH."""


@dataclass
class CallRecord:
    """One row of ``calls.csv`` plus what the generator knows about the call."""

    started_at: datetime
    key: str
    queue: str
    customer_id: str
    direction: str = "inbound"
    agent: Agent | None = None
    wait_seconds: int = 0
    talk_seconds: int = 0
    hold_seconds: int = 0
    acw_seconds: int = 0
    abandoned: bool = False
    transferred: bool = False
    tags: tuple[str, ...] = ()
    resolved: bool = True
    dialogue: Dialogue | None = None
    call_id: str = ""

    @property
    def recording(self) -> str:
        return f"recordings/{self.call_id}.ogg" if self.dialogue is not None else ""

    @property
    def ended_at(self) -> datetime:
        seconds = self.wait_seconds + self.talk_seconds + self.hold_seconds
        return self.started_at + timedelta(seconds=seconds)

    def row(self) -> list[str]:
        agent = self.agent
        return [
            self.call_id,
            self.started_at.isoformat(timespec="seconds"),
            agent.agent_id if agent else "",
            agent.name if agent else "",
            agent.team if agent else "",
            self.queue,
            self.customer_id,
            self.direction,
            str(self.wait_seconds),
            str(self.talk_seconds),
            str(self.hold_seconds),
            str(self.acw_seconds),
            _yes_no(self.abandoned),
            _yes_no(self.transferred),
            self.recording,
        ]


@dataclass
class SurveyRecord:
    call_id: str
    submitted_at: datetime
    csat: int | None
    nps: int | None
    ces: int | None
    fcr: bool | None
    comment: str

    def row(self) -> list[str]:
        return [
            self.call_id,
            self.submitted_at.isoformat(timespec="seconds"),
            _blank(self.csat),
            _blank(self.nps),
            _blank(self.ces),
            "" if self.fcr is None else _yes_no(self.fcr),
            self.comment,
        ]


@dataclass
class DemoData:
    """What :func:`generate` wrote."""

    out: Path
    calls_csv: Path
    surveys_csv: Path
    n_calls: int
    n_surveys: int
    recordings: list[Path] = field(default_factory=list)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)


def _clamp(value: float, low: int, high: int) -> int:
    return int(min(high, max(low, round(value))))


def business_days() -> list[date]:
    """The weekdays of the demo fortnight (2026-11-02 .. 2026-11-13)."""
    days = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


# --------------------------------------------------------------------------------------- calls


def _draw_wait(rng: random.Random) -> int:
    """Queue wait: mostly answered within 20 s, a tail up to about 400 s."""
    r = rng.random()
    if r < 0.55:
        return rng.randint(0, 20)
    if r < 0.85:
        return rng.randint(21, 120)
    return rng.randint(121, 400)


def _draw_time(rng: random.Random, day: date, earliest_hour: int = OPEN_HOUR) -> datetime:
    opening = datetime(day.year, day.month, day.day, earliest_hour)
    span = (CLOSE_HOUR - earliest_hour) * 3600 - 30 * 60
    return opening + timedelta(seconds=rng.randrange(span))


def _agent_for(rng: random.Random, queue: str) -> Agent:
    return rng.choice([a for a in AGENTS if queue in a.queues])


def _scripted_call(rng: random.Random, days: list[date], d: Dialogue) -> CallRecord:
    day = days[d.day]
    started = datetime(day.year, day.month, day.day, d.hour) + timedelta(
        seconds=rng.randrange(50 * 60)
    )
    if d.direction == "outbound":
        wait = 0
    elif d.wait is not None:
        wait = rng.randint(*d.wait)
    else:
        wait = rng.randint(0, 20) if rng.random() < 0.7 else rng.randint(21, 90)
    return CallRecord(
        started_at=started,
        key=d.key,
        queue=d.queue,
        customer_id=d.customer_id,
        direction=d.direction,
        agent=AGENTS_BY_ID[d.agent_id],
        wait_seconds=wait,
        talk_seconds=rng.randint(*d.talk),
        hold_seconds=rng.randint(60, 240) if "hold" in d.tags else 0,
        acw_seconds=rng.randint(10, 120),
        transferred=d.transferred,
        tags=d.tags,
        resolved=d.resolved,
        dialogue=d,
    )


def _filler_call(
    rng: random.Random,
    key: str,
    started: datetime,
    customer_id: str,
    *,
    queue: str | None = None,
    extra_tags: tuple[str, ...] = (),
    resolved: bool = True,
) -> CallRecord:
    """An unrecorded handled inbound call with randomly drawn phenomena."""
    queue = queue or rng.choices(QUEUES, weights=(4, 4, 2))[0]
    agent = _agent_for(rng, queue)
    wait = _draw_wait(rng)
    talk = int(rng.triangular(120, 900, 300))
    hold = 0 if rng.random() < 0.6 else int(rng.triangular(15, 300, 60))
    acw = rng.randint(10, 120)
    transferred = rng.random() < 0.15
    tags: list[str] = []
    if transferred:
        tags.append("transfer")
    if wait >= 180:
        tags.append("long-wait")
    if hold >= 120:
        tags.append("hold")
    r = rng.random()
    if r < 0.22:
        tags.append("agent-praise")
    elif r < 0.30:
        tags.append("re-explain")
    elif r < 0.36:
        tags.append("unresolved")
    elif r < 0.41:
        tags.append("rushed")
    elif r < 0.44:
        tags.append("agent-rude")
    tags.extend(t for t in extra_tags if t not in tags)
    if "unresolved" in tags:
        resolved = False
    return CallRecord(
        started_at=started,
        key=key,
        queue=queue,
        customer_id=customer_id,
        agent=agent,
        wait_seconds=wait,
        talk_seconds=talk,
        hold_seconds=hold,
        acw_seconds=acw,
        transferred=transferred,
        tags=tuple(tags),
        resolved=resolved,
    )


def build_calls(seed: int = DEFAULT_SEED) -> list[CallRecord]:
    """Every call of the demo fortnight, in time order, with ids ``C0001``, ``C0002``, ..."""
    rng = random.Random(f"callqa-demo:calls:{seed}")
    days = business_days()
    calls = [_scripted_call(rng, days, d) for d in DIALOGUES]

    scripted_customers = {d.customer_id for d in DIALOGUES}
    pool = [f"CU{n}" for n in range(1001, 1061) if f"CU{n}" not in scripted_customers]
    customers = iter(rng.sample(pool, len(pool)))

    # Abandoned calls.  The first is the price-rise customer giving up before the call that
    # opens with "I've been waiting on hold for forty minutes".
    price_rise = next(c for c in calls if c.key == "price_rise_supervisor")
    gave_up = price_rise.started_at - timedelta(minutes=rng.randint(25, 45))
    calls.append(
        CallRecord(
            started_at=gave_up,
            key="abandoned-price-rise",
            queue="billing",
            customer_id=price_rise.customer_id,
            wait_seconds=rng.randint(330, 400),
            abandoned=True,
        )
    )
    retry: tuple[str, datetime, str] | None = None
    for i in range(N_ABANDONED - 1):
        day = rng.choice(days)
        customer = next(customers)
        started = _draw_time(rng, day)
        queue = rng.choice(QUEUES)
        calls.append(
            CallRecord(
                started_at=started,
                key=f"abandoned-{i}",
                queue=queue,
                customer_id=customer,
                wait_seconds=rng.randint(60, 400),
                abandoned=True,
            )
        )
        if retry is None:  # this caller tries again a little later and gets through
            retry = (customer, started + timedelta(minutes=rng.randint(8, 40)), queue)
    assert retry is not None
    customer, retry_at, queue = retry
    calls.append(_filler_call(rng, "retry-after-abandon", retry_at, customer, queue=queue))

    # Outbound filler: a billing reminder call.
    day = rng.choice(days)
    agent = _agent_for(rng, "billing")
    for _ in range(N_FILLER_OUTBOUND):
        calls.append(
            CallRecord(
                started_at=_draw_time(rng, day, earliest_hour=9),
                key="outbound-reminder",
                queue="billing",
                customer_id=next(customers),
                direction="outbound",
                agent=agent,
                talk_seconds=rng.randint(120, 300),
                acw_seconds=rng.randint(10, 60),
            )
        )

    # Repeat callers: two customers call again the next business day (within 48 h), one a few
    # business days later (after 48 h).  The first call was not resolved.
    not_friday = [i for i, d in enumerate(days) if d.weekday() < 4]
    pairs = ((1, ("re-explain",)), (1, ("broken-callback",)), (4, ("re-explain",)))
    for n, (gap_days, second_tags) in enumerate(pairs):
        first_day = rng.choice([i for i in not_friday if i + gap_days < len(days)])
        customer = next(customers)
        queue = rng.choice(QUEUES[:2])
        first = _filler_call(
            rng,
            f"repeat-{n}-first",
            _draw_time(rng, days[first_day]),
            customer,
            queue=queue,
            extra_tags=("unresolved",),
            resolved=False,
        )
        second = _filler_call(
            rng,
            f"repeat-{n}-second",
            _draw_time(rng, days[first_day + gap_days]),
            customer,
            queue=queue,
            extra_tags=second_tags,
        )
        calls.extend((first, second))

    for i in range(N_FILLER_SINGLES):
        day = rng.choice(days)
        calls.append(_filler_call(rng, f"single-{i}", _draw_time(rng, day), next(customers)))

    calls.sort(key=lambda c: (c.started_at, c.key))
    for n, call in enumerate(calls, start=1):
        call.call_id = f"C{n:04d}"
    return calls


# ------------------------------------------------------------------------------------- surveys


def _comment(rng: random.Random, call: CallRecord) -> str:
    if call.dialogue is not None and call.dialogue.comment:
        return call.dialogue.comment
    first_name = call.agent.first_name if call.agent else "The agent"
    complaints = [t for t in COMPLAINT_ORDER if t in call.tags]
    if complaints:
        if rng.random() < 0.15:
            return ""
        parts = [rng.choice(COMMENTS[complaints[0]])]
        if len(complaints) > 1 and rng.random() < 0.4:
            parts.append(rng.choice(COMMENTS[complaints[1]]))
        if "agent-praise" in call.tags:
            parts.append(rng.choice(COMMENTS["agent-praise"]).format(agent=first_name))
        return " ".join(parts)
    if "agent-praise" in call.tags:
        if rng.random() < 0.15:
            return ""
        return rng.choice(COMMENTS["agent-praise"]).format(agent=first_name)
    return rng.choice(COMMENTS["neutral"]) if rng.random() < 0.45 else ""


def build_surveys(calls: Sequence[CallRecord], seed: int = DEFAULT_SEED) -> list[SurveyRecord]:
    """Post-call survey answers for about half of the handled calls, by submission time."""
    rng = random.Random(f"callqa-demo:surveys:{seed}")
    by_customer: dict[str, list[CallRecord]] = {}
    for call in calls:
        if not call.abandoned:
            by_customer.setdefault(call.customer_id, []).append(call)

    surveys = []
    for call in calls:
        if call.abandoned:
            continue
        responds = rng.random() < SURVEY_RATE
        if call.dialogue is not None:
            responds = call.dialogue.survey
        if not responds:
            continue
        tags = call.tags
        csat = _clamp(
            CSAT_BASE + sum(CSAT_EFFECT.get(t, 0.0) for t in tags) + rng.gauss(0, CSAT_NOISE), 1, 5
        )
        nps = _clamp(2.3 * csat - 1.8 + rng.gauss(0, 0.9), 0, 10)
        ces = _clamp(CES_BASE + sum(CES_EFFECT.get(t, 0.0) for t in tags) + rng.gauss(0, 0.5), 1, 7)

        week = timedelta(days=7)
        others = [c for c in by_customer[call.customer_id] if c is not call]
        called_again = any(timedelta(0) < c.started_at - call.started_at <= week for c in others)
        called_before = any(timedelta(0) < call.started_at - c.started_at <= week for c in others)
        draw = rng.random()
        if not call.resolved or called_again:
            fcr = False
        elif call.dialogue is not None:  # scripted: the comment says how it went
            fcr = not (called_before or call.transferred)
        elif called_before:
            fcr = draw < 0.3
        elif call.transferred:
            fcr = draw < 0.5
        else:
            fcr = draw < 0.92

        comment = _comment(rng, call)
        delay = (
            timedelta(minutes=rng.randint(2, 30))
            if rng.random() < 0.6
            else timedelta(minutes=rng.randint(60, 20 * 60))
        )
        # Some respondents skip a question; NPS is the one most often left out.
        skip = [rng.random() for _ in range(4)]
        surveys.append(
            SurveyRecord(
                call_id=call.call_id,
                submitted_at=(call.ended_at + delay).replace(microsecond=0),
                csat=None if skip[0] < 0.03 else csat,
                nps=None if skip[1] < 0.15 else nps,
                ces=None if skip[2] < 0.10 else ces,
                fcr=None if skip[3] < 0.06 else fcr,
                comment=comment,
            )
        )
    surveys.sort(key=lambda s: (s.submitted_at, s.call_id))
    return surveys


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


# --------------------------------------------------------------------------------------- audio


def require_espeak() -> str:
    """The path of ``espeak-ng``, or a clear error saying how to install it."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise EspeakNotFoundError(
            "espeak-ng is needed to render the demo recordings but was not found on PATH; "
            "install espeak-ng: apt-get install espeak-ng  (or pass --no-audio to write the "
            "CSVs only)"
        )
    return path


def require_sox() -> str:
    """The path of ``sox`` (it encodes the Ogg Vorbis files), or a clear error."""
    path = shutil.which("sox")
    if path is None:
        raise AudioToolNotFoundError(
            "sox is needed to encode the demo recordings as Ogg Vorbis but was not found on "
            "PATH; install sox: apt-get install sox  (or pass --no-audio to write the CSVs only)"
        )
    return path


def synthesize(text: str, voice: Voice, *, espeak: str = "espeak-ng", workdir: Path) -> np.ndarray:
    """Speak ``text`` with espeak-ng; mono float32 at 8 kHz, leading/trailing silence trimmed."""
    import numpy as np
    from scipy.signal import resample_poly

    wav_path = workdir / "line.wav"
    subprocess.run(
        [
            espeak,
            "-v",
            voice.voice,
            "-s",
            str(voice.speed),
            "-p",
            str(voice.pitch),
            "-g",
            str(voice.word_gap),
            "-w",
            str(wav_path),
            text,
        ],
        check=True,
        capture_output=True,
    )
    with wave.open(str(wav_path), "rb") as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    samples = pcm.astype(np.float32) / 32768.0
    if rate != SAMPLE_RATE:
        from math import gcd

        g = gcd(rate, SAMPLE_RATE)
        samples = resample_poly(samples, SAMPLE_RATE // g, rate // g).astype(np.float32)
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    if loud.size:
        pad = int(0.03 * SAMPLE_RATE)
        samples = samples[max(0, loud[0] - pad) : loud[-1] + pad]
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak > 0:
        samples = samples * (0.7 / peak)
    return samples.astype(np.float32)


def render_dialogue(
    dialogue: Dialogue, seed: int = DEFAULT_SEED, *, espeak: str | None = None
) -> np.ndarray:
    """The call's audio as a float32 array of shape (samples, 2): agent left, customer right."""
    import numpy as np

    espeak = espeak or require_espeak()
    rng = random.Random(f"callqa-demo:audio:{seed}:{dialogue.key}")
    agent = AGENTS_BY_ID[dialogue.agent_id]
    voices = {"A": agent.voice, "C": CUSTOMER_VOICES[dialogue.customer_id]}
    placed: list[tuple[int, int, np.ndarray]] = []  # (channel, start sample, samples)
    end = rng.uniform(0.3, 0.8)  # seconds: when the last utterance (or hold) finished
    with tempfile.TemporaryDirectory(prefix="callqa-demo-") as tmp:
        for kind, value in dialogue.lines:
            if kind == "HOLD":
                end += float(value)
                continue
            speaker = kind[0]
            text = str(value).replace("{agent}", agent.first_name)
            samples = synthesize(text, voices[speaker], espeak=espeak, workdir=Path(tmp))
            if kind.endswith(">"):  # interrupts: starts before the other side has finished
                start = max(0.0, end - rng.uniform(0.5, 1.0))
            else:
                start = end + rng.uniform(0.3, 1.5)
            placed.append((0 if speaker == "A" else 1, int(start * SAMPLE_RATE), samples))
            end = max(end, start + len(samples) / SAMPLE_RATE)
    total = int((end + rng.uniform(0.4, 0.9)) * SAMPLE_RATE)
    audio = np.zeros((total, 2), dtype=np.float32)
    for channel, start, samples in placed:
        audio[start : start + len(samples), channel] += samples
    return np.clip(audio, -1.0, 1.0)


def write_ogg(path: Path, audio: np.ndarray, rate: int = SAMPLE_RATE, *, sox: str = "sox") -> None:
    """Encode a (samples, 2) float array as stereo Ogg Vorbis (libvorbis through sox)."""
    import numpy as np

    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2")
    tmp = path.with_name(path.stem + ".tmp.ogg")
    subprocess.run(
        [
            sox,
            "-R",
            "-t",
            "raw",
            "-r",
            str(rate),
            "-e",
            "signed-integer",
            "-b",
            "16",
            "-c",
            "2",
            "-L",
            "-",
            "-t",
            "ogg",
            "-C",
            str(VORBIS_QUALITY),
            str(tmp),
        ],
        input=pcm.tobytes(),
        check=True,
        capture_output=True,
    )
    tmp.replace(path)


def render_recordings(
    out: Path, calls: Sequence[CallRecord], seed: int = DEFAULT_SEED
) -> list[Path]:
    """Render every scripted call to ``out/recordings/<call_id>.ogg``; drop stale ``.ogg`` files."""
    espeak = require_espeak()
    sox = require_sox()
    folder = out / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for call in calls:
        if call.dialogue is None:
            continue
        path = out / call.recording
        write_ogg(path, render_dialogue(call.dialogue, seed, espeak=espeak), sox=sox)
        written.append(path)
    keep = {p.name for p in written}
    for stale in folder.glob("*.ogg"):
        if stale.name not in keep:
            stale.unlink()
    return written


# ------------------------------------------------------------------------------------------ api


def generate(
    out: Path | str = DEFAULT_OUT, seed: int = DEFAULT_SEED, audio: bool = True
) -> DemoData:
    """Write ``calls.csv`` and ``surveys.csv`` (and, with ``audio``, the recordings) to ``out``.

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
        prog="python -m qa.demo.generate", description=__doc__.split("\n\n")[0]
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
