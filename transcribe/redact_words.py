"""Redacting transcripts word by word: where each word sits in its segment's text, which
words a span masks, the redacted segment (timings kept), and the redacted times for audio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from transcribe.spans import RedactedSpan, apply_spans
from transcribe.transcript import Segment, Transcript, Word


def word_char_spans(text: str, words: Sequence[Word]) -> list[tuple[int, int]]:
    """Where each word sits in ``text``; a word not found gets the gap between its neighbours."""
    located: list[tuple[int, int] | None] = []
    cursor = 0
    for word in words:
        token = word.text.strip()
        at = text.find(token, cursor) if token else -1
        located.append((at, at + len(token)) if at >= 0 else None)
        cursor = at + len(token) if at >= 0 else cursor
    spans: list[tuple[int, int]] = []
    for i, span in enumerate(located):
        if span is None:
            after = next((s[0] for s in located[i + 1 :] if s is not None), len(text))
            span = (spans[-1][1] if spans else 0, after)
        spans.append(span)
    return spans


def masked_words(segment: Segment, spans: Sequence[RedactedSpan]) -> list[str | None]:
    """Per word of ``segment``: the entity of the span it overlaps, or None."""
    out: list[str | None] = []
    for start, end in word_char_spans(segment.text, segment.words):
        hit = next((s for s in spans if s.start < max(end, start + 1) and start < s.end), None)
        out.append(hit.entity if hit else None)
    return out


def redact_segment(segment: Segment, spans: Sequence[RedactedSpan], placeholder: str) -> Segment:
    words = tuple(
        replace(w, text=placeholder.format(entity=entity)) if entity else w
        for w, entity in zip(segment.words, masked_words(segment, spans), strict=True)
    )
    return replace(segment, text=apply_spans(segment.text, spans, placeholder), words=words)


def redacted_time_spans(
    transcript: Transcript, spans: Sequence[Sequence[RedactedSpan]]
) -> dict[str, list[tuple[float, float]]]:
    """Speaker -> merged (start, end) seconds of redacted words, for audio redaction.

    ``transcript`` is the ORIGINAL (unredacted) one; a segment with PII but no word
    timings is silenced whole, which errs on the side of privacy.
    """
    out: dict[str, list[tuple[float, float]]] = {}
    for segment, seg_spans in zip(transcript.segments, spans, strict=True):
        if not seg_spans:
            continue
        if segment.words:
            entities = masked_words(segment, seg_spans)
            times = [
                (w.start, w.end) for w, ent in zip(segment.words, entities, strict=True) if ent
            ]
        else:
            times = [(segment.start, segment.end)]
        out.setdefault(segment.speaker, []).extend(times)
    for speaker, times in out.items():
        merged: list[tuple[float, float]] = []
        for start, end in sorted(times):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        out[speaker] = merged
    return out
