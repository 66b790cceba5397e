"""Redacted spans: where PII was in the original text, and replacing it with a placeholder.

Shared by the ``Redactor`` (``transcribe.redact``) and the transcript / audio masking
(``transcribe.redact_words``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Priority order too: when two detections overlap, the longer wins, ties go to the earlier.
ENTITIES = (
    "CREDIT_CARD", "SECURITY_CODE", "US_SSN", "ACCOUNT_NUMBER", "PHONE_NUMBER",
    "EMAIL_ADDRESS", "STREET_ADDRESS", "PERSON", "LOCATION",
)  # fmt: skip


@dataclass(frozen=True)
class RedactedSpan:
    """``original`` was ``text[start:end]`` of the ORIGINAL text and is of type ``entity``."""

    start: int
    end: int
    entity: str
    original: str


@dataclass(frozen=True)
class RedactionResult:
    """Redacted text and the spans of the original text that were replaced."""

    text: str
    spans: tuple[RedactedSpan, ...]


def apply_spans(text: str, spans: Iterable[RedactedSpan], placeholder: str = "[{entity}]") -> str:
    """``text`` with each span replaced by ``placeholder.format(entity=...)``."""
    out, cursor = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        out += [text[cursor : span.start], placeholder.format(entity=span.entity)]
        cursor = span.end
    return "".join([*out, text[cursor:]])


def merge_spans(text: str, hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping detections -> one span (their union) named after the longest of them."""
    merged: list[tuple[int, int, str, int]] = []  # start, end, entity, length of that entity
    for start, end, entity in sorted(hits):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start >= end:
            continue
        if merged and start < merged[-1][1]:
            s, e, ent, length = merged[-1]
            if (end - start, -ENTITIES.index(entity)) > (length, -ENTITIES.index(ent)):
                ent, length = entity, end - start
            merged[-1] = (s, max(e, end), ent, length)
        else:
            merged.append((start, end, entity, end - start))
    return [(s, e, ent) for s, e, ent, _ in merged]
