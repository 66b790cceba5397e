"""Rejected rows: what was not stored, why, and a rejects file safe to open and share.

Rejected rows are the ones most likely to hold what should not be there, so what is kept and
printed is NUL-free, clipped, redacted and formula-escaped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.safecsv import SafeWriter

Redact = Callable[[list[str]], list[str]]
REJECT_CELL_BYTES = 1000  # a rejects file is for reading; a 10 MB cell helps nobody

# Control characters in a reason would rewrite the terminal it is printed on (ESC sequences).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Reject:
    """A row that was not stored, with where it was and why."""

    line: int
    reason: str
    row: dict[str, str]


def printable(text: str) -> str:
    """``text`` with control characters shown as ``\\xNN`` escapes, safe to print."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def clip_text(text: str, limit: int = REJECT_CELL_BYTES) -> tuple[str, str]:
    """``text`` without NUL bytes, cut to ``limit`` UTF-8 bytes: (head, truncation note)."""
    text = text.replace("\x00", "")
    if len(text) <= limit // 4:
        return text, ""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text, ""
    return data[:limit].decode("utf-8", "ignore"), f"…[truncated, {len(data)} bytes]"


def clean_rejects(
    rejects: Sequence[Reject], header: Sequence[str], redact: Redact | None
) -> list[Reject]:
    """Rejects fit to show and keep: NUL-free, clipped and, unless redaction is off, redacted.

    Rejected rows are the ones most likely to hold what should not be there (a card number
    typed into the wrong column); the same redactor as survey comments runs over every cell
    and the reason (which quotes values). Each distinct text is redacted once.
    """
    clipped: dict[str, tuple[str, str]] = {}
    for r in rejects:
        for value in (r.reason, *(r.row.get(h) or "" for h in header)):
            if value and value not in clipped:
                clipped[value] = clip_text(value)
    heads = list(dict.fromkeys(head for head, _ in clipped.values()))
    cleaned = dict(zip(heads, redact(heads) if redact and heads else heads, strict=True))

    def clean(value: str | None) -> str:
        if not value:
            return ""
        head, note = clipped[value]
        return cleaned[head] + note

    return [
        Reject(
            line=r.line,
            reason=printable(clean(r.reason)),
            row={h: clean(r.row.get(h)) for h in header},
        )
        for r in rejects
    ]


def write_rejects(
    path: Path, header: Sequence[str], rejects: Sequence[Reject], source: Path
) -> None:
    """Write rejected rows in their original shape, prefixed by file, line and reason.

    Every cell is formula-escaped (:class:`qa.safecsv.SafeWriter`); pass rejects through
    :func:`clean_rejects` first so no PII, NUL or megabyte cell reaches the file.
    """
    names = [clip_text(h)[0] for h in header]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = SafeWriter(handle)
        writer.writerow(["file", "line", "reason", *names])
        for r in rejects:
            writer.writerow([str(source), r.line, r.reason, *(r.row.get(h, "") for h in header)])
