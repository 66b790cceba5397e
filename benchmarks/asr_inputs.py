"""Inputs and scoring for benchmarks/asr.py: the ~10-minute stereo call, the references, WER.

The call is built from the demo recordings (qa/demo/data/recordings/*.ogg, whole calls back
to back) with their scripts as references; without them, from the shared speech samples
laid out on alternating channels with pauses and the odd hold.
"""

from __future__ import annotations

import csv
import random
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
SAMPLES = SHARED / "speech_samples"
DEMO_RECORDINGS = REPO / "qa" / "demo" / "data" / "recordings"
RATE = 8000  # telephony


@dataclass(frozen=True)
class Call:
    stereo: Path
    mono: Path
    seconds: float
    source: str
    refs: dict[str, str] | None  # "agent" / "customer" / "all" -> script text


# ------------------------------------------------------------------------- the call


def build_call(workdir: Path, seconds: float) -> Call:
    """Whole demo calls back to back until `seconds`; else shared speech samples laid out."""
    recordings = sorted(DEMO_RECORDINGS.glob("*.ogg"))
    if recordings:
        left, right, refs, n = _from_demo(recordings, seconds)
        source = f"{n} demo recordings back to back"
    else:
        left, right, refs = _from_samples(seconds)
        source = "speech samples laid out on two channels (demo recordings not found)"
    stereo = np.stack([np.concatenate(left), np.concatenate(right)], axis=1)
    mono = stereo.mean(axis=1)
    call = Call(workdir / "call.wav", workdir / "call-mono.wav", len(stereo) / RATE, source, refs)
    _write_wav(call.stereo, stereo)
    _write_wav(call.mono, mono[:, None])
    return call


def _from_demo(recordings: list[Path], seconds: float):  # type: ignore[no-untyped-def]
    """Whole calls back to back, 1 s apart, from the first again if they run out."""
    from faster_whisper import decode_audio

    scripts = _demo_scripts()
    decoded = [decode_audio(str(p), sampling_rate=RATE, split_stereo=True) for p in recordings]
    gap = np.zeros(RATE, np.float32)
    left, right = [], []
    texts: dict[str, list[str]] = {"agent": [], "customer": [], "all": []}
    total, n = 0.0, 0
    while total < seconds:
        path, (a, b) = recordings[n % len(recordings)], decoded[n % len(recordings)]
        left += [a, gap]
        right += [b, gap]
        script = scripts.get(path.stem) if scripts else None
        if script is None:
            scripts = None  # a call without a script: no reference for the whole call
        else:
            for who, text in script:
                texts[who].append(text)
                texts["all"].append(text)
        total += len(a) / RATE + 1.0
        n += 1
    refs = {k: " ".join(v) for k, v in texts.items()} if scripts else None
    return left, right, refs, n


def _demo_scripts() -> dict[str, list[tuple[str, str]]] | None:
    """call_id -> [(agent|customer, line)] from the demo generator (None if it changed)."""
    try:
        from qa.demo.dialogues import AGENTS_BY_ID
        from qa.demo.generate import build_calls

        scripts = {}
        for c in build_calls():
            if c.dialogue is None:
                continue
            name = AGENTS_BY_ID[c.dialogue.agent_id].first_name
            scripts[c.call_id] = [
                ("agent" if kind.startswith("A") else "customer", text.replace("{agent}", name))
                for kind, text in c.dialogue.lines
                if kind != "HOLD"
            ]
        return scripts
    except Exception as exc:  # the generator is another module's business
        print(f"(no call references: {type(exc).__name__}: {exc})", file=sys.stderr)
        return None


def _from_samples(seconds: float):  # type: ignore[no-untyped-def]
    """The reference clips alternating between channels, 0.4-1.5 s apart, holds now and then."""
    from faster_whisper import decode_audio

    clips = []
    for ref in sample_refs():
        name, _, side = ref["file"].partition("#")
        channels = decode_audio(str(SAMPLES / name), sampling_rate=RATE, split_stereo=True)
        audio = channels[0 if side != "right" else 1] if side else sum(channels) / 2
        clips.append((np.asarray(audio, np.float32), ref["reference_text"]))
    rng = random.Random(0)
    tracks: list[list[np.ndarray]] = [[], []]
    texts: dict[str, list[str]] = {"agent": [], "customer": [], "all": []}
    t, n = 0.5, 0
    while t < seconds:
        audio, text = clips[n % len(clips)]
        channel = n % 2
        pause = rng.uniform(0.4, 1.5) + (8.0 if n % 7 == 6 else 0.0)
        for c in (0, 1):
            lead = np.zeros(int(pause * RATE), np.float32)
            body = audio if c == channel else np.zeros_like(audio)
            tracks[c] += [lead, body]
        texts["agent" if channel == 0 else "customer"].append(text)
        texts["all"].append(text)
        t += pause + len(audio) / RATE
        n += 1
    refs = {k: " ".join(v) for k, v in texts.items()}
    return tracks[0], tracks[1], refs


def sample_refs() -> list[dict[str, str]]:
    with (SAMPLES / "transcripts.tsv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _write_wav(path: Path, frames: np.ndarray) -> None:
    pcm = (np.clip(frames, -1.0, 1.0) * 32767).round().astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(frames.shape[1])
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


class Scorer:
    """Corpus WER in percent after Whisper's English normaliser (a plain one as fallback)."""

    def __init__(self) -> None:
        try:
            from whisper.normalizers import EnglishTextNormalizer

            self.normalise = EnglishTextNormalizer()
        except ImportError:
            import re

            self.normalise = lambda s: " ".join(re.sub(r"[^a-z0-9' ]+", " ", s.lower()).split())

    def wer(self, refs: list[str], hyps: list[str]) -> float:
        import jiwer

        pairs = [(self.normalise(r), self.normalise(h)) for r, h in zip(refs, hyps, strict=True)]
        pairs = [(r, h) for r, h in pairs if r]
        return 100 * jiwer.wer([r for r, _ in pairs], [h for _, h in pairs])

    def call(self, data: dict, refs: dict[str, str], layout: str) -> float:
        if layout == "mono":
            return self.wer([refs["all"]], [data["text"]])
        hyp = {
            who: " ".join(s["text"] for s in data["segments"] if s["speaker"] == who)
            for who in ("agent", "customer")
        }
        return self.wer([refs["agent"], refs["customer"]], [hyp["agent"], hyp["customer"]])

    def samples(self, texts: dict[str, str]) -> float:
        refs = sample_refs()
        return self.wer([r["reference_text"] for r in refs], [texts[r["file"]] for r in refs])
