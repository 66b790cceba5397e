"""Recording -> Transcript: one ASR pass per channel, parties labelled, turns in time order.

Contact-center stereo puts one party on each channel (agent on the left by default).
A "stereo" file whose two channels carry the same mix is treated as mono: transcribing
it twice would double every word and report the whole call as overtalk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from transcribe.audio import SAMPLE_RATE, load_audio
from transcribe.transcript import Segment, Transcript
from transcribe.whisper_base import AsrEngine

AGENT_CHANNELS = ("left", "right")
DUAL_MONO_CORRELATION = 0.99


def transcribe_file(
    path: str | Path, engine: AsrEngine, *, agent_channel: str = "left"
) -> Transcript:
    """Transcribe a mono or stereo recording; raises AudioError for an unusable file."""
    _check_agent_channel(agent_channel)
    channels = load_audio(path, sample_rate=SAMPLE_RATE)
    if len(channels) == 2 and not is_dual_mono(*channels):
        # Both parties at once where the engine can (channel_workers > 1).
        left, right = engine.transcribe_channels(channels)
        segments = merge_turns(left, right, agent_channel=agent_channel)
    else:
        segments = sort_segments(
            replace(s, speaker="unknown") for s in engine.transcribe_channel(channels[0])
        )
    return Transcript(
        duration=len(channels[0]) / SAMPLE_RATE,
        segments=segments,
        engine=engine.name,
        model=str(engine.model),
        language=engine.language,
    )


def merge_turns(
    left: Iterable[Segment], right: Iterable[Segment], *, agent_channel: str = "left"
) -> tuple[Segment, ...]:
    """Label each channel's segments agent/customer and interleave them by start time."""
    _check_agent_channel(agent_channel)
    left_speaker, right_speaker = (
        ("agent", "customer") if agent_channel == "left" else ("customer", "agent")
    )
    return sort_segments(
        [replace(s, speaker=left_speaker) for s in left]
        + [replace(s, speaker=right_speaker) for s in right]
    )


def sort_segments(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    """Time order: by start, then end, then speaker, so the result is deterministic."""
    return tuple(sorted(segments, key=lambda s: (s.start, s.end, s.speaker)))


def is_dual_mono(left: np.ndarray, right: np.ndarray) -> bool:
    """True when both channels carry the same signal (a mono mix stored as stereo)."""
    if np.array_equal(left, right):
        return True
    a = np.asarray(left, dtype=np.float64)
    b = np.asarray(right, dtype=np.float64)
    a = a - a.mean()
    b = b - b.mean()
    denom = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return denom > 0 and float(np.dot(a, b)) / denom >= DUAL_MONO_CORRELATION


def _check_agent_channel(agent_channel: str) -> None:
    if agent_channel not in AGENT_CHANNELS:
        raise ValueError(
            f"unknown agent_channel {agent_channel!r}; valid choices: {', '.join(AGENT_CHANNELS)}"
        )
