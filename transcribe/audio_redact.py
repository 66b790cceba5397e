"""Audio redaction: silence or beep the time spans of redacted words in a copy of a recording.

The copy keeps the source's sample rate and channels (decoded and re-encoded with PyAV, no
ffmpeg binary): WAV (16-bit PCM), FLAC, or Ogg/Opus. Spans are padded (0.1 s by default)
because word timestamps from Whisper are approximate at the edges.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from transcribe.audio import AudioError
from transcribe.turns import AGENT_CHANNELS

MODES = ("silence", "beep")
DEFAULT_PAD = 0.1
BEEP_HZ = 1000.0
BEEP_LEVEL = 0.25  # about -12 dBFS: clearly audible, not painful
# Output suffix -> (container, codec, sample format); Opus only runs at _OPUS_RATES.
_CODECS = {
    ".wav": ("wav", "pcm_s16le", "s16"), ".flac": ("flac", "flac", "s16"),
    ".ogg": ("ogg", "libopus", "flt"), ".opus": ("ogg", "libopus", "flt"),
}  # fmt: skip
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def redact_audio(
    channels: Sequence[np.ndarray],
    sample_rate: int,
    spans_by_channel: Sequence[Sequence[tuple[float, float]]],
    mode: str = "silence",
    *,
    pad: float = DEFAULT_PAD,
) -> list[np.ndarray]:
    """Copies of ``channels`` with each (start, end) second span of its channel silenced
    (zeros) or replaced by a 1 kHz beep, widened by ``pad`` seconds on both sides.

    Samples ``floor((start - pad) * rate)`` up to ``ceil((end + pad) * rate)`` (exclusive),
    clipped to the signal, are replaced.
    """
    if mode not in MODES:
        raise ValueError(f"unknown audio redaction mode {mode!r}; valid modes: {', '.join(MODES)}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if pad < 0:
        raise ValueError(f"pad must be >= 0 seconds, got {pad}")
    if len(spans_by_channel) != len(channels):
        raise ValueError(
            f"{len(spans_by_channel)} span lists for {len(channels)} channels; give one per channel"
        )
    out = []
    for index, (signal, spans) in enumerate(zip(channels, spans_by_channel, strict=True)):
        signal = np.array(signal, copy=True)
        if signal.ndim != 1:
            raise ValueError(f"channel {index} has shape {signal.shape}; expected a 1-D array")
        for start, end in spans:
            if end < start:
                raise ValueError(f"channel {index}: span ends before it starts: {start}..{end}")
            first = max(0, math.floor((start - pad) * sample_rate))
            last = min(len(signal), math.ceil((end + pad) * sample_rate))
            if first >= last:
                continue
            if mode == "silence":
                signal[first:last] = 0
            else:
                t = np.arange(first, last) / sample_rate
                signal[first:last] = BEEP_LEVEL * np.sin(2 * np.pi * BEEP_HZ * t)
        out.append(signal)
    return out


def spans_for_channels(
    word_spans: Mapping[str, Sequence[tuple[float, float]]],
    n_channels: int,
    agent_channel: str = "left",
) -> list[list[tuple[float, float]]]:
    """Speaker -> spans (``redact.redacted_time_spans``) -> one span list per channel.

    Mono: everything on the one channel. Stereo: agent on ``agent_channel``, customer on
    the other, ``unknown`` (a dual-mono file) on both.
    """
    if agent_channel not in AGENT_CHANNELS:
        raise ValueError(
            f"unknown agent channel {agent_channel!r}; valid: {', '.join(AGENT_CHANNELS)}"
        )
    if n_channels == 1:
        return [sorted(s for spans in word_spans.values() for s in spans)]
    if n_channels != 2:
        raise ValueError(f"{n_channels} channels; expected mono or stereo")
    agent = 0 if agent_channel == "left" else 1
    out: list[list[tuple[float, float]]] = [[], []]
    for speaker, spans in word_spans.items():
        targets = {"agent": [agent], "customer": [1 - agent]}.get(speaker, [0, 1])
        for target in targets:
            out[target].extend(spans)
    return [sorted(spans) for spans in out]


def write_redacted_copy(
    src_path: str | Path,
    dst_path: str | Path,
    word_spans: Mapping[str, Sequence[tuple[float, float]]],
    agent_channel: str = "left",
    *,
    mode: str = "silence",
    pad: float = DEFAULT_PAD,
) -> Path:
    """Write ``dst_path`` (.wav, .flac, .ogg or .opus): ``src_path`` with the redacted words'
    time spans silenced or beeped. The file appears only once fully written."""
    src, dst = Path(src_path), Path(dst_path)
    if dst.suffix.lower() not in _CODECS:
        raise ValueError(
            f"{dst}: unsupported output format {dst.suffix!r}; valid: {', '.join(_CODECS)}"
        )
    if dst.resolve() == src.resolve():
        raise ValueError(f"{dst}: refusing to overwrite the source recording")
    channels, rate = _decode_native(src)
    spans = spans_for_channels(word_spans, len(channels), agent_channel)
    redacted = redact_audio(channels, rate, spans, mode, pad=pad)
    tmp = dst.with_name(f".{dst.name}.part")
    try:
        _encode(tmp, np.stack(redacted), rate, dst.suffix.lower())
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def _decode_native(path: Path) -> tuple[list[np.ndarray], int]:
    """All channels as float32 at the file's own sample rate (no resampling)."""
    import av

    if not path.is_file():
        raise AudioError(path, "file not found")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(path, "no audio stream")
            stream = container.streams.audio[0]
            rate, layout = stream.codec_context.sample_rate, stream.codec_context.layout.name
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            chunks = [
                f.to_ndarray()
                for frame in container.decode(stream)
                for f in resampler.resample(frame)
            ]
            chunks += [f.to_ndarray() for f in resampler.resample(None)]
    except AudioError:
        raise
    except Exception as exc:  # PyAV raises many types; callers get one.
        raise AudioError(path, f"not decodable as audio ({type(exc).__name__}: {exc})") from exc
    if not chunks:
        raise AudioError(path, "contains no audio samples")
    data = np.concatenate(chunks, axis=1).astype(np.float32)
    if data.shape[0] > 2:
        raise AudioError(path, f"{data.shape[0]} channels; expected mono or stereo")
    return list(data), rate


def _encode(
    path: Path, data: np.ndarray, rate: int, suffix: str, bit_rate: int | None = None
) -> None:
    """Encode (channels, samples) float32 ``data`` to ``path`` in the suffix's format
    (``bit_rate``: bits per second for a lossy codec; None: the encoder's default)."""
    import av

    container_format, codec, fmt = _CODECS[suffix]
    layout = "mono" if data.shape[0] == 1 else "stereo"
    out_rate = rate
    if codec == "libopus" and rate not in _OPUS_RATES:
        out_rate = 48000  # the encoder's resampler converts the frames
    # Named explicitly: the temporary file's ".part" suffix says nothing about the format.
    with av.open(str(path), mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=out_rate, layout=layout)
        stream.format = fmt
        if bit_rate is not None and codec == "libopus":
            stream.bit_rate = bit_rate
        # Packed formats interleave channels: shape (1, samples * channels). The decoder
        # scaled 16-bit PCM by 1/32768, so this scale gives back the source's samples exactly.
        packed = data.T.reshape(1, -1)
        if fmt == "s16":
            frame_data = np.clip(np.round(packed * 32768), -32768, 32767).astype(np.int16)
        else:
            frame_data = np.ascontiguousarray(np.clip(packed, -1.0, 1.0), dtype=np.float32)
        step = 4096 * data.shape[0]
        for offset in range(0, frame_data.shape[1], step):
            frame = av.AudioFrame.from_ndarray(
                frame_data[:, offset : offset + step], format=fmt, layout=layout
            )
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
