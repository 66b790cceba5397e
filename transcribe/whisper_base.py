"""What every ASR backend shares: the engine interface, raw engine output, and the Whisper base.

``WhisperEngineBase`` holds the ``TranscriptionOptions``, loads the model once on first use
and post-processes alike for both Whisper engines (``build_segments``): word timestamps are
always on, and a segment is split where its words pause for more than
``SPLIT_PAUSE_SECONDS``, because Whisper (and VAD, which glues speech chunks together) can put
two turns of one party, with the other party's turn between them, into one segment, which
would make the turns and talk time wrong. The engines themselves live in ``transcribe.engine``
(faster-whisper, and the ``ENGINES`` registry) and ``transcribe.openai_engine``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Protocol

import numpy as np

from transcribe.options import TranscriptionOptions
from transcribe.transcript import Segment, Word

SPLIT_PAUSE_SECONDS = 1.0


class AsrEngine(Protocol):
    """What turns.transcribe_file needs from a backend."""

    name: ClassVar[str]

    @property
    def model(self) -> str: ...

    @property
    def language(self) -> str | None: ...

    def transcribe_channel(self, audio: np.ndarray) -> list[Segment]: ...

    def transcribe_channels(self, channels: Sequence[np.ndarray]) -> list[list[Segment]]: ...


class RawWord(NamedTuple):
    """A word as an engine reports it: text keeps Whisper's leading space."""

    start: float
    end: float
    text: str
    probability: float


class RawSegment(NamedTuple):
    start: float
    end: float
    text: str
    words: list[RawWord]
    avg_logprob: float


class WhisperEngineBase:
    """Options and plumbing shared by the Whisper engines (subclasses implement _load, _decode).

    Construction only stores the options (checked when they were built); the model loads on
    first use. ``unsupported`` names the options this engine does not take: a value other
    than the default raises TypeError.
    """

    name: ClassVar[str] = "whisper"
    unsupported: ClassVar[tuple[str, ...]] = ()
    channel_workers: int = 1  # >1: transcribe_channels runs channels concurrently

    def __init__(self, options: TranscriptionOptions | None = None) -> None:
        self.options = options if options is not None else TranscriptionOptions()
        rejected = [n for n in self.options.changed() if n in self.unsupported]
        if rejected:
            raise TypeError(f"engine {self.name!r} does not take {', '.join(rejected)}")
        self._loaded: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return self.options.model

    @property
    def language(self) -> str | None:
        return self.options.language

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the options only (for worker processes); each copy loads its own model."""
        return {"options": self.options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._loaded = None
        self._lock = threading.Lock()

    @property
    def cache_dir(self) -> Path | None:
        """Where assembled CTranslate2 models go (models_dir/cache; None: the default)."""
        models_dir = self.options.models_dir
        return models_dir / "cache" if models_dir else None

    def load(self) -> None:
        """Load the model now (otherwise the first transcribe_channel call does)."""
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()

    def _load(self) -> Any:
        raise NotImplementedError

    def _decode(self, audio: np.ndarray) -> Iterable[RawSegment]:
        raise NotImplementedError

    def transcribe_channel(self, audio: np.ndarray) -> list[Segment]:
        """Segments (speaker "unknown") with word timings, in seconds from the audio start."""
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 1:
            raise ValueError(f"expected one channel (1-D array), got shape {audio.shape}")
        if audio.size == 0:
            return []
        self.load()
        return build_segments(self._decode(audio))

    def transcribe_channels(self, channels: Sequence[np.ndarray]) -> list[list[Segment]]:
        """transcribe_channel for each channel, concurrently when channel_workers > 1."""
        if self.channel_workers <= 1 or len(channels) < 2:
            return [self.transcribe_channel(c) for c in channels]
        self.load()
        with ThreadPoolExecutor(min(self.channel_workers, len(channels))) as pool:
            return list(pool.map(self.transcribe_channel, channels))

    def check_language(self, multilingual: bool) -> None:
        """Raise ValueError for a language code Whisper lacks or an English-only mismatch."""
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        language = self.options.language
        if language is None:
            return
        if language not in _LANGUAGE_CODES:
            raise ValueError(
                f"unknown language {language!r}; valid codes: {', '.join(_LANGUAGE_CODES)}"
                " (or None to detect)"
            )
        if not multilingual and language != "en":
            raise ValueError(
                f"model {self.model!r} is English-only; language {language!r} needs a "
                "multilingual model such as 'base'"
            )


# ------------------------------------------------------------------ post-processing


def build_segments(raw_segments: Iterable[RawSegment]) -> list[Segment]:
    """Engine output -> Segments: plain floats, pauses split, empty text dropped."""
    out: list[Segment] = []
    for raw in raw_segments:
        words = [w for w in raw.words if w.text.strip()]
        pieces = _split_at_pauses(words) if words else [[]]
        for piece in pieces:
            text = raw.text if len(pieces) == 1 else "".join(w.text for w in piece)
            if (seg := _segment(raw, piece, text.strip())) is not None:
                out.append(seg)
    return out


def _split_at_pauses(words: list[RawWord]) -> list[list[RawWord]]:
    pieces = [[words[0]]]
    for word in words[1:]:
        if word.start - pieces[-1][-1].end > SPLIT_PAUSE_SECONDS:
            pieces.append([])
        pieces[-1].append(word)
    return pieces


def _segment(raw: RawSegment, words: list[RawWord], text: str) -> Segment | None:
    if not text:
        return None
    # Engines hand out numpy floats; the dataclasses carry plain Python floats.
    timed = tuple(
        Word(float(w.start), float(max(w.start, w.end)), w.text.strip(), float(w.probability))
        for w in words
    )
    start, end = (timed[0].start, timed[-1].end) if timed else (raw.start, raw.end)
    if timed:
        confidence = sum(w.probability for w in timed) / len(timed)
    else:
        confidence = min(1.0, math.exp(raw.avg_logprob))
    return Segment(float(start), float(max(start, end)), "unknown", text, timed, confidence)
