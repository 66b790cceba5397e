"""Render the scripted demo calls to stereo Ogg Vorbis with espeak-ng and sox.

Each scripted dialogue in ``qa.demo.dialogues`` is spoken line by line (agent and customer in
different voices), resampled to 8 kHz, laid out on a timeline with short gaps, holds and the
odd interruption, and written as stereo Ogg Vorbis with the agent on the left channel and the
customer on the right.  With espeak-ng 1.51 and sox 14.4.2 the output is byte-identical from
run to run.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qa.demo.calls import DEFAULT_SEED, CallRecord
from qa.demo.dialogues import AGENTS_BY_ID, CUSTOMER_VOICES, Dialogue, Voice

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 8000
VORBIS_QUALITY = 1  # sox -C: libvorbis quality, -1..10


class AudioToolNotFoundError(RuntimeError):
    """Audio was requested but a tool it needs (``espeak-ng``, ``sox``) is not on the PATH."""


class EspeakNotFoundError(AudioToolNotFoundError):
    """Audio was requested but the ``espeak-ng`` binary is not on the PATH."""


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
