"""ASR backends: one channel of 16 kHz float32 audio -> timed segments with words.

Backends are picked by name from ENGINES (make_engine) and built from one
``TranscriptionOptions``. Each keeps its constructor cheap (options only) and loads its model
on first use, so building one costs nothing. The shared plumbing and post-processing live in
``transcribe.whisper_base``; openai-whisper in ``transcribe.openai_engine``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from transcribe.audio import SAMPLE_RATE
from transcribe.models import resolve_model
from transcribe.options import TranscriptionOptions
from transcribe.whisper_base import AsrEngine, RawSegment, RawWord, WhisperEngineBase

WINDOW_SECONDS = 30  # Whisper's input window
# Batched mode packs VAD speech into windows of at most this much speech. Full 30 s
# windows drop whole phrases (each window is decoded once, with no second pass over what
# the decoder skipped): on a 10-minute test call 5.9% WER at 30 s, 0.9-1.2% at 20 s.
BATCH_CHUNK_SECONDS = 20
CHANNEL_WORKERS = 2  # faster-whisper's default: both channels of a stereo call at once


class FasterWhisperEngine(WhisperEngineBase):
    """faster-whisper (CTranslate2) backend; int8 on CPU, float16 on a GPU by default.

    ``batch_size`` > 0 decodes VAD speech (packed into windows of BATCH_CHUNK_SECONDS) in
    batches with faster_whisper.BatchedInferencePipeline: faster on a GPU, about the same
    on 2 CPU cores, and each window is decoded once, at temperature[0] (no fallback).
    ``channel_workers`` (default 2) lets transcribe_channels run the two channels of a stereo
    call concurrently, each on ``cpu_threads`` threads (default: the cores shared out).
    """

    name: ClassVar[str] = "faster-whisper"

    @property
    def channel_workers(self) -> int:  # type: ignore[override]
        return self.options.channel_workers or CHANNEL_WORKERS

    @property
    def compute_type(self) -> str:
        """The weights type: as given, else int8 on the CPU and float16 on a GPU."""
        given = self.options.compute_type
        return given or ("int8" if self.options.device == "cpu" else "float16")

    def _load(self) -> Any:
        from faster_whisper import WhisperModel

        whisper = WhisperModel(
            str(resolve_model(self.model, cache_dir=self.cache_dir)),
            device=self.options.device,
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
        if self.options.cpu_threads:
            return self.options.cpu_threads
        return max(1, (os.cpu_count() or 1) // self.channel_workers)

    def _decode(self, audio: np.ndarray) -> Iterable[RawSegment]:
        o = self.options
        arguments: dict[str, Any] = {  # faster-whisper's transcribe() keywords
            "language": o.language,
            "beam_size": o.beam_size,
            "temperature": list(o.temperature),  # type: ignore[arg-type]
            "initial_prompt": o.initial_prompt,
            "hotwords": o.hotwords,
            "vad_filter": o.vad_filter,
            "condition_on_previous_text": o.condition_on_previous_text,
            "word_timestamps": True,
        }
        if o.batch_size:
            from faster_whisper import BatchedInferencePipeline

            del arguments["condition_on_previous_text"]  # never conditions: one pass per window
            arguments["batch_size"] = o.batch_size
            arguments["chunk_length"] = BATCH_CHUNK_SECONDS
            # Timestamp tokens keep Whisper's own segment boundaries inside a window.
            arguments["without_timestamps"] = False
            if not o.vad_filter:  # the pipeline needs chunks: fixed 30 s windows
                seconds = len(audio) / SAMPLE_RATE
                starts = range(0, math.ceil(seconds), WINDOW_SECONDS)
                arguments["clip_timestamps"] = [
                    {"start": s, "end": min(seconds, s + WINDOW_SECONDS)} for s in starts
                ]
            # A pipeline per call: it keeps per-run state (last_speech_timestamp).
            segments, _info = BatchedInferencePipeline(self._loaded).transcribe(audio, **arguments)
        else:
            segments, _info = self._loaded.transcribe(audio, **arguments)
        for s in segments:
            words = [RawWord(w.start, w.end, w.word, w.probability) for w in s.words or ()]
            yield RawSegment(s.start, s.end, s.text, words, s.avg_logprob)


# ------------------------------------------------------------------ registry


def _openai_whisper(options: TranscriptionOptions) -> AsrEngine:
    from transcribe.openai_engine import OpenAIWhisperEngine  # torch only loads on use

    return OpenAIWhisperEngine(options)


ENGINES: dict[str, Callable[[TranscriptionOptions], AsrEngine]] = {
    "faster-whisper": FasterWhisperEngine,
    "openai-whisper": _openai_whisper,
}


def make_engine(
    name: str, options: TranscriptionOptions | None = None, **changes: Any
) -> AsrEngine:
    """Build the backend registered under ``name`` from ``options`` (default: the defaults).

    ``changes`` are ``TranscriptionOptions`` fields replaced in ``options``, a shorthand for
    tests and scripts (``make_engine("faster-whisper", beam_size=5)``); an unknown one
    raises TypeError, an option the engine does not take TypeError too.
    """
    try:
        factory = ENGINES[name]
    except KeyError:
        raise ValueError(
            f"unknown ASR engine {name!r}; valid engines: {', '.join(ENGINES)}"
        ) from None
    options = options if options is not None else TranscriptionOptions()
    return factory(replace(options, **changes) if changes else options)
