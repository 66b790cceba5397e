"""ASR backends: one channel of 16 kHz float32 audio -> timed segments with words.

Backends are picked by name from ENGINES (make_engine). Each keeps its constructor cheap
(parameters only) and loads its model on first use, so building one costs nothing.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import numpy as np

from transcribe.models import resolve_model
from transcribe.transcript import Segment, Word


class AsrEngine(Protocol):
    """What turns.transcribe_file needs from a backend."""

    name: ClassVar[str]
    model: str
    language: str | None

    def transcribe_channel(self, audio: np.ndarray) -> list[Segment]: ...


class FasterWhisperEngine:
    """faster-whisper (CTranslate2) backend; int8 on CPU by default."""

    name: ClassVar[str] = "faster-whisper"

    def __init__(
        self,
        model: str = "tiny.en",
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int = 0,
        beam_size: int = 5,
        vad_filter: bool = True,
        language: str | None = "en",
    ) -> None:
        self.model = model
        self.device = device
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads
        self.beam_size = beam_size
        self.vad_filter = vad_filter
        self.language = language
        self._whisper: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"FasterWhisperEngine(model={self.model!r}, device={self.device!r}, "
            f"compute_type={self.compute_type!r}, beam_size={self.beam_size}, "
            f"vad_filter={self.vad_filter}, language={self.language!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the parameters only (for worker processes); each copy loads its own model."""
        state = self.__dict__.copy()
        state["_whisper"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now (otherwise the first transcribe_channel call does)."""
        with self._lock:
            if self._whisper is None:
                from faster_whisper import WhisperModel

                self._whisper = WhisperModel(
                    str(resolve_model(self.model)),
                    device=self.device,
                    compute_type=self.compute_type,
                    cpu_threads=self.cpu_threads,
                    local_files_only=True,
                )

    def transcribe_channel(self, audio: np.ndarray) -> list[Segment]:
        """Segments (speaker "unknown") with word timings, in seconds from the audio start."""
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 1:
            raise ValueError(f"expected one channel (1-D array), got shape {audio.shape}")
        if audio.size == 0:
            return []
        self.load()
        segments, _info = self._whisper.transcribe(
            audio,
            language=self.language,
            beam_size=self.beam_size,
            vad_filter=self.vad_filter,
            word_timestamps=True,
        )
        return [seg for raw in segments if (seg := _to_segment(raw)) is not None]


def _to_segment(raw: Any) -> Segment | None:
    text = raw.text.strip()
    if not text:
        return None
    # faster-whisper hands out numpy floats; the dataclasses carry plain Python floats.
    words = tuple(
        Word(
            start=float(w.start),
            end=float(max(w.start, w.end)),
            text=w.word.strip(),
            probability=float(w.probability),
        )
        for w in (raw.words or ())
        if w.word.strip()
    )
    if words:
        confidence = sum(w.probability for w in words) / len(words)
    else:
        confidence = min(1.0, math.exp(raw.avg_logprob))
    return Segment(
        start=float(raw.start),
        end=float(max(raw.start, raw.end)),
        speaker="unknown",
        text=text,
        words=words,
        confidence=confidence,
    )


ENGINES: dict[str, Callable[..., AsrEngine]] = {"faster-whisper": FasterWhisperEngine}


def make_engine(name: str, **kwargs: Any) -> AsrEngine:
    """Build the backend registered under `name` with its keyword parameters."""
    try:
        factory = ENGINES[name]
    except KeyError:
        raise ValueError(
            f"unknown ASR engine {name!r}; valid engines: {', '.join(ENGINES)}"
        ) from None
    return factory(**kwargs)
