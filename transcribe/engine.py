"""ASR backends: one channel of 16 kHz float32 audio -> timed segments with words.

Backends are picked by name from ENGINES (make_engine). Each keeps its constructor cheap
(parameters only, validated) and loads its model on first use, so building one costs
nothing. Both Whisper engines take the same decoding options (WhisperEngineBase) and
post-process alike (build_segments): word timestamps always on, and a segment is split
where its words pause for more than SPLIT_PAUSE_SECONDS, because Whisper (and VAD, which
glues speech chunks together) can put two turns of one party, with the other party's
turn between them, into one segment, which would make the turns and talk time wrong.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Protocol

import numpy as np

from transcribe.models import resolve_model
from transcribe.transcript import Segment, Word

DEFAULT_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
SPLIT_PAUSE_SECONDS = 1.0
SAMPLE_RATE = 16000
WINDOW_SECONDS = 30  # Whisper's input window
# Batched mode packs VAD speech into windows of at most this much speech. Full 30 s
# windows drop whole phrases (each window is decoded once, with no second pass over what
# the decoder skipped): on a 10-minute test call 5.9% WER at 30 s, 0.9-1.2% at 20 s.
BATCH_CHUNK_SECONDS = 20


class AsrEngine(Protocol):
    """What turns.transcribe_file needs from a backend."""

    name: ClassVar[str]
    model: str
    language: str | None

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
    """Options and plumbing shared by the Whisper engines (subclasses implement _decode)."""

    name: ClassVar[str] = "whisper"
    channel_workers: int = 1  # >1: transcribe_channels runs channels concurrently

    def __init__(
        self,
        model: str = "tiny.en",
        *,
        language: str | None = "en",
        beam_size: int = 1,
        temperature: float | Sequence[float] = DEFAULT_TEMPERATURES,
        initial_prompt: str | None = None,
        hotwords: str | None = None,
        vad_filter: bool = True,
        condition_on_previous_text: bool = False,
        device: str = "cpu",
        cpu_threads: int = 0,
        models_dir: str | Path | None = None,
    ) -> None:
        """Decoding options both engines share.

        beam_size 1 (greedy, with temperature fallback) by default: on 2 CPU cores beam 5
        costs about 15-40% more time for about 2 points of WER (benchmarks/asr.py); pass 5
        for the best transcripts.

        condition_on_previous_text is off by default (unlike Whisper's own default): on long
        calls the previous window's text sends the decoder into repetition loops
        (measured: 17.6% WER instead of 3.1% on a 10-minute call), and batched decoding
        cannot condition anyway, so off keeps every mode and engine alike.
        """
        self.model = str(model)
        self.language = language or None  # "" means detect, like None
        self.beam_size = _int_at_least("beam_size", beam_size, 1)
        self.temperature = _temperatures(temperature)
        self.initial_prompt = initial_prompt or None
        self.hotwords = hotwords.strip() if hotwords and hotwords.strip() else None
        self.vad_filter = bool(vad_filter)
        self.condition_on_previous_text = bool(condition_on_previous_text)
        self.device = device
        self.cpu_threads = _int_at_least("cpu_threads", cpu_threads, 0)
        self.models_dir = Path(models_dir) if models_dir else None
        self._loaded: Any = None
        self._lock = threading.Lock()

    def _params(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({params})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the parameters only (for worker processes); each copy loads its own model."""
        return self._params()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._loaded = None
        self._lock = threading.Lock()

    @property
    def cache_dir(self) -> Path | None:
        """Where assembled CTranslate2 models go (models_dir/cache; None: the default)."""
        return self.models_dir / "cache" if self.models_dir else None

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

        if self.language is None:
            return
        if self.language not in _LANGUAGE_CODES:
            raise ValueError(
                f"unknown language {self.language!r}; valid codes: {', '.join(_LANGUAGE_CODES)}"
                " (or None to detect)"
            )
        if not multilingual and self.language != "en":
            raise ValueError(
                f"model {self.model!r} is English-only; language {self.language!r} needs a "
                "multilingual model such as 'base'"
            )


class FasterWhisperEngine(WhisperEngineBase):
    """faster-whisper (CTranslate2) backend; int8 on CPU by default.

    batch_size > 0 decodes VAD speech (packed into windows of BATCH_CHUNK_SECONDS) in
    batches with faster_whisper.BatchedInferencePipeline: faster on a GPU, about the same
    on 2 CPU cores, and each window is decoded once, at temperature[0] (no fallback).
    channel_workers=2 (default) lets transcribe_channels run the two channels of a stereo
    call concurrently, each on cpu_threads threads (default: the cores shared out).
    """

    name: ClassVar[str] = "faster-whisper"

    def __init__(
        self,
        model: str = "tiny.en",
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int = 0,
        beam_size: int = 1,
        vad_filter: bool = True,
        language: str | None = "en",
        *,
        batch_size: int = 0,
        channel_workers: int = 2,
        **options: Any,
    ) -> None:
        """`options`: the other WhisperEngineBase options (temperature, prompt, ...)."""
        super().__init__(
            model,
            device=device,
            cpu_threads=cpu_threads,
            beam_size=beam_size,
            vad_filter=vad_filter,
            language=language,
            **options,
        )
        self.compute_type = compute_type
        self.batch_size = _int_at_least("batch_size", batch_size, 0)
        self.channel_workers = _int_at_least("channel_workers", channel_workers, 1)

    def _load(self) -> Any:
        from faster_whisper import WhisperModel

        whisper = WhisperModel(
            str(resolve_model(self.model, cache_dir=self.cache_dir)),
            device=self.device,
            compute_type=self.compute_type,
            cpu_threads=self.threads_per_worker(),
            num_workers=self.channel_workers,  # lets CTranslate2 run channels in parallel
            local_files_only=True,
        )
        self.check_language(whisper.model.is_multilingual)
        return whisper

    def threads_per_worker(self) -> int:
        """cpu_threads, or the cores shared out between the channel workers (0 = automatic):
        the decoder of a tiny model uses two threads poorly, two channels at once use two
        cores fully (measured 1.3x faster on a 2-core machine)."""
        if self.cpu_threads:
            return self.cpu_threads
        return max(1, (os.cpu_count() or 1) // self.channel_workers)

    def _decode(self, audio: np.ndarray) -> Iterable[RawSegment]:
        options: dict[str, Any] = {
            "language": self.language,
            "beam_size": self.beam_size,
            "temperature": list(self.temperature),
            "initial_prompt": self.initial_prompt,
            "hotwords": self.hotwords,
            "vad_filter": self.vad_filter,
            "condition_on_previous_text": self.condition_on_previous_text,
            "word_timestamps": True,
        }
        if self.batch_size:
            from faster_whisper import BatchedInferencePipeline

            del options["condition_on_previous_text"]  # never conditions: one pass per window
            options["batch_size"] = self.batch_size
            options["chunk_length"] = BATCH_CHUNK_SECONDS
            # Timestamp tokens keep Whisper's own segment boundaries inside a window.
            options["without_timestamps"] = False
            if not self.vad_filter:  # the pipeline needs chunks: fixed 30 s windows
                seconds = len(audio) / SAMPLE_RATE
                starts = range(0, math.ceil(seconds), WINDOW_SECONDS)
                options["clip_timestamps"] = [
                    {"start": s, "end": min(seconds, s + WINDOW_SECONDS)} for s in starts
                ]
            # A pipeline per call: it keeps per-run state (last_speech_timestamp).
            segments, _info = BatchedInferencePipeline(self._loaded).transcribe(audio, **options)
        else:
            segments, _info = self._loaded.transcribe(audio, **options)
        for s in segments:
            words = [RawWord(w.start, w.end, w.word, w.probability) for w in s.words or ()]
            yield RawSegment(s.start, s.end, s.text, words, s.avg_logprob)


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


def _int_at_least(name: str, value: int, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def _temperatures(value: float | Sequence[float]) -> tuple[float, ...]:
    temps = (value,) if isinstance(value, int | float) else tuple(value)
    if not temps or any(isinstance(t, bool) or not 0 <= t <= 1 for t in temps):
        raise ValueError(
            f"temperature must be a number or a non-empty sequence in [0, 1], got {value!r}"
        )
    return tuple(float(t) for t in temps)


# ------------------------------------------------------------------ registry


def _openai_whisper(**kwargs: Any) -> AsrEngine:
    from transcribe.openai_engine import OpenAIWhisperEngine  # torch only loads on use

    return OpenAIWhisperEngine(**kwargs)


ENGINES: dict[str, Callable[..., AsrEngine]] = {
    "faster-whisper": FasterWhisperEngine,
    "openai-whisper": _openai_whisper,
}


def make_engine(name: str, **kwargs: Any) -> AsrEngine:
    """Build the backend registered under `name` with its keyword parameters."""
    try:
        factory = ENGINES[name]
    except KeyError:
        raise ValueError(
            f"unknown ASR engine {name!r}; valid engines: {', '.join(ENGINES)}"
        ) from None
    return factory(**kwargs)
