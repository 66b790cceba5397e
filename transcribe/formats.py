"""Render a Transcript as JSON, speaker-labelled text, SubRip (SRT) or WebVTT.

Pure functions over the frozen result types: no audio, no models. Times are seconds from
the start of the recording; JSON rounds them to milliseconds (what SRT and VTT carry too).

- JSON (`to_json`): ``{"file", "duration", "engine", "model", "text", "segments": [{"start",
  "end", "speaker", "text", "words": [{"start", "end", "word", "probability"}]}],
  "metrics": {...}}``; metrics are the CallMetricsResult fields with its ``extra`` entries
  flattened in beside them.
- text: one line per segment, ``[MM:SS.s] speaker: text`` (``[H:MM:SS.s]`` past an hour).
- SRT / VTT: one cue per segment. Party turns carry the speaker (``agent: ...``; in VTT also
  a ``<v agent>`` voice span, which players that understand it can style); a mono
  recording's ``unknown`` speaker is left out, since it says nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from transcribe.transcript import CallMetricsResult, Segment, Transcript

TIME_DECIMALS = 3
PROBABILITY_DECIMALS = 4

MetricsLike = CallMetricsResult | Mapping[str, Any] | None


def to_json(
    transcript: Transcript, *, file: str | Path | None = None, metrics: MetricsLike = None
) -> dict[str, Any]:
    """The transcript as a JSON-ready dict (see the module docstring for the shape)."""
    return {
        "file": None if file is None else str(file),
        "duration": _seconds(transcript.duration),
        "engine": transcript.engine,
        "model": transcript.model,
        "text": transcript.text,
        "segments": [_segment_json(s) for s in transcript.segments],
        "metrics": metrics_json(metrics),
    }


def metrics_json(metrics: MetricsLike) -> dict[str, Any]:
    """CallMetricsResult -> flat dict (named fields, then ``extra``); tuples become lists."""
    if metrics is None:
        return {}
    if isinstance(metrics, CallMetricsResult):
        flat = asdict(metrics)
        flat.update(flat.pop("extra"))
    else:
        flat = dict(metrics)
    return {key: _plain(value) for key, value in flat.items()}


def to_text(transcript: Transcript, **_: Any) -> str:
    """``[00:01.2] agent: text`` lines in time order, newline-terminated ("" when silent)."""
    return "".join(
        f"[{clock(s.start)}] {s.speaker}: {_one_line(s.text)}\n" for s in transcript.segments
    )


def to_srt(transcript: Transcript, **_: Any) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, blank line between cues."""
    cues = []
    for index, s in enumerate(_cue_segments(transcript), start=1):
        # SRT has no escaping: a cue ends at a blank line and "-->" marks a timing line,
        # so text is kept to one line and arrows are defused.
        text = _one_line(s.text).replace("-->", "->")
        prefix = "" if s.speaker == "unknown" else f"{s.speaker}: "
        cues.append(
            f"{index}\n{timestamp(s.start, ',')} --> {timestamp(s.end, ',')}\n{prefix}{text}\n"
        )
    return "\n".join(cues)


def to_vtt(transcript: Transcript, **_: Any) -> str:
    """WebVTT: ``WEBVTT`` header, ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` cues, voice spans."""
    cues = ["WEBVTT\n"]
    for s in _cue_segments(transcript):
        text = _vtt_escape(_one_line(s.text))
        if s.speaker != "unknown":
            text = f"<v {s.speaker}>{s.speaker}: {text}</v>"
        cues.append(f"{timestamp(s.start, '.')} --> {timestamp(s.end, '.')}\n{text}\n")
    return "\n".join(cues)


def _json_text(
    transcript: Transcript, *, file: str | Path | None = None, metrics: MetricsLike = None
) -> str:
    return json.dumps(to_json(transcript, file=file, metrics=metrics), indent=2, ensure_ascii=False)


# name -> renderer(transcript, *, file=..., metrics=...) -> str (text formats ignore both).
FORMATS: dict[str, Callable[..., str]] = {
    "json": _json_text,
    "text": to_text,
    "srt": to_srt,
    "vtt": to_vtt,
}


def render(
    name: str,
    transcript: Transcript,
    *,
    file: str | Path | None = None,
    metrics: MetricsLike = None,
) -> str:
    """The transcript in format `name`; ValueError naming the valid formats otherwise."""
    try:
        renderer = FORMATS[name]
    except KeyError:
        raise ValueError(
            f"unknown output format {name!r}; valid formats: {', '.join(FORMATS)}"
        ) from None
    return renderer(transcript, file=file, metrics=metrics)


def timestamp(seconds: float, decimal_mark: str = ".") -> str:
    """``HH:MM:SS.mmm`` (SRT wants ``,`` as the mark, VTT ``.``); hours grow past 99."""
    millis = _millis(seconds)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_mark}{ms:03d}"


def clock(seconds: float) -> str:
    """``MM:SS.s`` for the text format, ``H:MM:SS.s`` from one hour on (tenths truncated)."""
    tenths = max(0, math.floor(seconds * 10 + 1e-6))
    hours, rest = divmod(tenths, 36_000)
    minutes, rest = divmod(rest, 600)
    secs, tenth = divmod(rest, 10)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}.{tenth}"
    return f"{minutes:02d}:{secs:02d}.{tenth}"


def _cue_segments(transcript: Transcript) -> list[Segment]:
    # A cue with no text is an empty subtitle; players show nothing for it, so skip it.
    return [s for s in transcript.segments if s.text.strip()]


def _segment_json(s: Segment) -> dict[str, Any]:
    return {
        "start": _seconds(s.start),
        "end": _seconds(s.end),
        "speaker": s.speaker,
        "text": s.text,
        "words": [
            {
                "start": _seconds(w.start),
                "end": _seconds(w.end),
                "word": w.text,
                "probability": round(w.probability, PROBABILITY_DECIMALS),
            }
            for w in s.words
        ],
    }


def _plain(value: Any) -> Any:
    """JSON-safe copy: tuples -> lists, floats to 3 decimals, NaN/inf -> None."""
    if isinstance(value, float):
        return _seconds(value) if math.isfinite(value) else None
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _seconds(value: float) -> float:
    return round(float(value), TIME_DECIMALS)


def _millis(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _vtt_escape(text: str) -> str:
    # WebVTT cue text is markup: &, < and > must be escaped ("-->" then cannot occur).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
