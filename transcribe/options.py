"""How to transcribe: one frozen value with every option of the Whisper engines.

Like faster-whisper's own ``TranscriptionOptions``: ``qa asr`` builds one from its flags,
``qa transcribe`` and the nightly run from ``Settings``, and ``make_engine(name, options)``
turns it into an engine. Values are checked (and normalised) when the options are built, so
a bad one fails before any model loads, with a message naming the option.

Options of one engine only (``compute_type``, ``batch_size``, ``channel_workers``: the
faster-whisper ones) are rejected by the other engine when they differ from their defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

DEFAULT_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class TranscriptionOptions:
    """Decoding and runtime options shared by the Whisper engines.

    ``beam_size`` 1 (greedy, with temperature fallback) by default: on 2 CPU cores beam 5
    costs about 15-40% more time for about 2 points of WER (benchmarks/asr.py); pass 5 for
    the best transcripts.

    ``condition_on_previous_text`` is off by default (unlike Whisper's own default): on long
    calls the previous window's text sends the decoder into repetition loops (measured:
    17.6% WER instead of 3.1% on a 10-minute call), and batched decoding cannot condition
    anyway, so off keeps every mode and engine alike.

    ``language`` None (or "") detects the language. ``compute_type`` None: int8 on the CPU,
    float16 on a GPU. ``channel_workers`` None: the engine's own default (faster-whisper
    decodes the two channels of a stereo call at once). ``batch_size`` > 0 decodes VAD
    chunks in batches (faster-whisper). ``cpu_threads`` 0: automatic.
    """

    model: str = "tiny.en"
    language: str | None = "en"
    beam_size: int = 1
    temperature: float | Sequence[float] = DEFAULT_TEMPERATURES
    initial_prompt: str | None = None
    hotwords: str | None = None
    vad_filter: bool = True
    condition_on_previous_text: bool = False
    device: str = "cpu"
    cpu_threads: int = 0
    models_dir: Path | None = None
    compute_type: str | None = None
    batch_size: int = 0
    channel_workers: int | None = None

    def __post_init__(self) -> None:
        hotwords = self.hotwords.strip() if self.hotwords else ""
        normalised = {
            "model": str(self.model),
            "language": self.language or None,  # "" means detect, like None
            "beam_size": _int_at_least("beam_size", self.beam_size, 1),
            "temperature": _temperatures(self.temperature),
            "initial_prompt": self.initial_prompt or None,
            "hotwords": hotwords or None,
            "vad_filter": bool(self.vad_filter),
            "condition_on_previous_text": bool(self.condition_on_previous_text),
            "cpu_threads": _int_at_least("cpu_threads", self.cpu_threads, 0),
            "models_dir": Path(self.models_dir) if self.models_dir else None,
            "compute_type": self.compute_type or None,
            "batch_size": _int_at_least("batch_size", self.batch_size, 0),
        }
        if self.channel_workers is not None:
            _int_at_least("channel_workers", self.channel_workers, 1)
        for name, value in normalised.items():
            object.__setattr__(self, name, value)

    def changed(self) -> tuple[str, ...]:
        """Names of the options that differ from their defaults."""
        return tuple(f.name for f in fields(self) if getattr(self, f.name) != f.default)

    def describe(self, engine: str) -> str:
        """``faster-whisper tiny.en, greedy, VAD on, batch 8, on cuda``: for progress lines."""
        parts = [f"{engine} {self.model}"]
        parts.append("greedy" if self.beam_size == 1 else f"beam {self.beam_size}")
        parts.append("VAD on" if self.vad_filter else "VAD off")
        if self.batch_size:
            parts.append(f"batch {self.batch_size}")
        if self.device != "cpu":
            parts.append(f"on {self.device}")
        return ", ".join(parts)


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
