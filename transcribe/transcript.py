"""Frozen result types passed between the transcribe stages and to callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SPEAKERS = ("agent", "customer", "unknown")


@dataclass(frozen=True)
class Word:
    """One recognised word; times in seconds from the start of the recording."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """A stretch of speech by one speaker (one ASR segment, i.e. one turn)."""

    start: float
    end: float
    speaker: str
    text: str
    words: tuple[Word, ...] = ()
    confidence: float | None = None

    def __post_init__(self) -> None:
        if self.speaker not in SPEAKERS:
            raise ValueError(
                f"unknown speaker {self.speaker!r}; valid speakers: {', '.join(SPEAKERS)}"
            )
        if self.end < self.start:
            raise ValueError(f"segment ends before it starts: start={self.start} end={self.end}")

    @property
    def word_count(self) -> int:
        """Words spoken: the word timings when present, else whitespace-split text."""
        return len(self.words) if self.words else len(self.text.split())


@dataclass(frozen=True)
class Transcript:
    """A whole recording: segments in time order across both parties."""

    duration: float
    segments: tuple[Segment, ...]
    engine: str
    model: str
    language: str | None

    @property
    def text(self) -> str:
        """All segment texts in time order, joined by single spaces."""
        return " ".join(s.text for s in self.segments if s.text)

    def speaker_text(self, speaker: str) -> str:
        """The text of one party's segments, in time order."""
        if speaker not in SPEAKERS:
            raise ValueError(f"unknown speaker {speaker!r}; valid speakers: {', '.join(SPEAKERS)}")
        return " ".join(s.text for s in self.segments if s.speaker == speaker and s.text)


@dataclass(frozen=True)
class CallMetricsResult:
    """Timing metrics of one call, derived from a Transcript (see metrics.compute_metrics)."""

    agent_talk_seconds: float
    customer_talk_seconds: float
    silence_seconds: float
    longest_silence_seconds: float
    overtalk_seconds: float
    agent_wpm: float | None
    customer_wpm: float | None
    extra: dict[str, Any] = field(default_factory=dict)
