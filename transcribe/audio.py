"""Decode a recording into one float32 array per channel (PyAV, no ffmpeg binary).

Every failure raises AudioError naming the file and the reason, so a batch can report the
file and carry on. PyAV and faster-whisper are imported on first use.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
MAX_CHANNELS = 2


class AudioError(Exception):
    """A recording that cannot be decoded; the message names the file and the reason."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> list[np.ndarray]:
    """Decode `path` and resample to `sample_rate`: one float32 array per channel.

    Mono gives one array, stereo two (left, right). More than two channels, an empty,
    truncated or non-audio file raise AudioError.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(path, "file not found")
    if not path.is_file():
        raise AudioError(path, "not a regular file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioError(path, f"cannot read file ({exc.strerror or exc})") from exc
    if size == 0:
        raise AudioError(path, "empty file (0 bytes)")
    try:
        return _decode(path, sample_rate)
    except AudioError:
        raise
    except Exception as exc:  # PyAV/FFmpeg raise many types; callers get exactly one.
        raise AudioError(path, f"not decodable as audio ({_describe(exc)})") from exc


def _decode(path: Path, sample_rate: int) -> list[np.ndarray]:
    import av
    from faster_whisper import decode_audio

    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise AudioError(path, "no audio stream")
        stream = container.streams.audio[0]
        channels = stream.codec_context.channels
        declared = _declared_seconds(container.format.name, stream)
    if channels > MAX_CHANNELS:
        raise AudioError(path, f"{channels} channels; expected mono or stereo")
    _check_wav_complete(path)

    if channels == 2:
        arrays = list(decode_audio(str(path), sampling_rate=sample_rate, split_stereo=True))
    else:
        arrays = [decode_audio(str(path), sampling_rate=sample_rate)]
    samples = len(arrays[0])
    if samples == 0:
        raise AudioError(path, "contains no audio samples")
    decoded = samples / sample_rate
    if declared is not None and decoded < declared - max(0.25, 0.02 * declared):
        raise AudioError(
            path, f"truncated: header declares {declared:.2f} s of audio, {decoded:.2f} s decoded"
        )
    return [np.ascontiguousarray(a, dtype=np.float32) for a in arrays]


def _declared_seconds(format_name: str, stream) -> float | None:
    """The stream length the header promises, where that figure is exact.

    MP3 is left out: FFmpeg may estimate its length from the bit rate. WAV is checked from
    its RIFF header instead (FFmpeg clamps a WAV's length to the bytes present).
    """
    if stream.duration is None or stream.time_base is None:
        return None
    if "mp3" in format_name.split(",") or "wav" in format_name.split(","):
        return None
    return float(stream.duration * stream.time_base)


def _check_wav_complete(path: Path) -> None:
    """Raise AudioError when a RIFF/WAVE data chunk holds fewer bytes than its header says."""
    with path.open("rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return  # not plain RIFF WAVE (RF64, other formats): nothing to check here
        byte_rate = 0
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                return
            chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if chunk_id == b"fmt ":
                fmt = fh.read(chunk_size + (chunk_size & 1))
                if len(fmt) >= 12:
                    byte_rate = struct.unpack("<I", fmt[8:12])[0]
                continue
            if chunk_id == b"data":
                break
            fh.seek(chunk_size + (chunk_size & 1), 1)
        present = path.stat().st_size - fh.tell()
    # Live recorders write 0 or 0xFFFFFFFF until they finish: size unknown, not truncated.
    if chunk_size in (0, 0xFFFFFFFF) or present >= chunk_size or byte_rate == 0:
        return
    raise AudioError(
        path,
        f"truncated: header declares {chunk_size / byte_rate:.2f} s of audio, "
        f"file holds {present / byte_rate:.2f} s",
    )


def _describe(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
