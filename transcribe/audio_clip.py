"""Audio clips: a short stretch of a recording, cut and re-encoded for embedding elsewhere.

A coaching pack embeds ±10 s of (already redacted) audio around each piece of evidence. The
clip keeps the source's channels; Ogg/Opus (small, plays in every current browser) or the
other formats of :mod:`transcribe.audio_redact` (WAV at the source rate, FLAC). Decoded and
encoded with PyAV, no ffmpeg binary.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from transcribe.audio_redact import _CODECS, _decode_native, _encode

CLIP_FORMATS = tuple(_CODECS)
"""Output suffixes :func:`write_clip` accepts."""
SPEECH_BIT_RATE = 24_000
"""Opus bits per second for clips: clear speech at about 3 kB a second."""


@dataclass(frozen=True)
class ClipSpan:
    """The stretch a clip holds, in seconds of the source (after clamping to it)."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        """The clip's length."""
        return self.end - self.start


def write_clip(
    src_path: str | Path,
    dst_path: str | Path,
    start: float,
    end: float,
    *,
    bit_rate: int = SPEECH_BIT_RATE,
) -> ClipSpan:
    """Write ``dst_path`` (.ogg / .opus at ``bit_rate``, .wav or .flac): seconds ``start`` to
    ``end`` of ``src_path``, clamped to the recording. Returns the span written. A span
    that is empty once clamped (it starts after the recording ends) is a ValueError; an
    unreadable source a ``transcribe.audio.AudioError``. The file appears only once fully
    written."""
    src, dst = Path(src_path), Path(dst_path)
    suffix = dst.suffix.lower()
    if suffix not in _CODECS:
        raise ValueError(f"{dst}: unsupported clip format {suffix!r}; valid: {', '.join(_CODECS)}")
    if end <= start:
        raise ValueError(f"clip ends before it starts: {start}..{end} s")
    if dst.resolve() == src.resolve():
        raise ValueError(f"{dst}: refusing to overwrite the source recording")
    channels, rate = _decode_native(src)
    total = len(channels[0])
    first = min(total, max(0, math.floor(start * rate)))
    last = min(total, max(first, math.ceil(end * rate)))
    if last <= first:
        raise ValueError(
            f"{src}: the clip {start:.1f}-{end:.1f} s lies past the recording's end "
            f"({total / rate:.1f} s)"
        )
    data = np.stack([c[first:last] for c in channels])
    tmp = dst.with_name(f".{dst.name}.part")
    try:
        _encode(tmp, data, rate, suffix, bit_rate)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return ClipSpan(first / rate, last / rate)
