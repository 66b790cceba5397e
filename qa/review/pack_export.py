"""Coaching packs out of callqa: rows (CSV / JSON lines) and one self-contained HTML file.

The rows carry each item's call, agent, evidence, note and link (CSV formula-escaped through
``qa.safecsv``). The HTML file needs nothing else to open: inline CSS, no script, no external
address but the pack's and calls' links into the review UI; each item shows its transcript
excerpt with the evidence marked (all text HTML-escaped) and, when the call has a recording,
an embedded audio clip of ±10 s around the evidence, cut from the redacted copy only
(:class:`PackClips`).
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, ClassVar

from sqlmodel import Session

from qa.review.pack_html import render_pack
from qa.review.pack_views import PackItemView, PackView, clip_window
from qa.review.packs import pack_detail
from qa.review.playback import Playback, PlaybackError
from qa.safecsv import write_records

ROW_COLUMNS = ("pack", "position", "call_id", "agent", "team", "started_at", "tag", "source",
               "turn", "evidence", "note", "link")  # fmt: skip
ROW_FORMATS = ("csv", "jsonl")
CLIP_SUFFIX = ".ogg"  # Ogg/Opus: small, and every current browser plays it
NO_RECORDING = "no recording"
NO_TURN = "no transcript turn to cut a clip around"
NO_ROOT = "no recordings root given (--recordings-root / QA_RECORDINGS_ROOT)"
_MIMES = {b"OggS": "audio/ogg", b"RIFF": "audio/wav", b"fLaC": "audio/flac"}


def pack_rows(view: PackView, ui_url: str) -> Iterator[dict[str, Any]]:
    """One flat record per item (:data:`ROW_COLUMNS`), in the pack's order."""
    for item in view.items:
        yield {
            "pack": view.name, "position": item.position, "call_id": item.external_id,
            "agent": item.agent_name or item.agent_id, "team": item.team,
            "started_at": item.started_at.isoformat(timespec="seconds"), "tag": item.tag,
            "source": item.scope, "turn": item.turn_index, "evidence": item.evidence,
            "note": item.note, "link": item.link(ui_url),
        }  # fmt: skip


def export_pack_rows(view: PackView, out: IO[str], fmt: str = "csv", *, ui_url: str) -> int:
    """Write the pack's items to ``out`` as ``csv`` (a header row of :data:`ROW_COLUMNS`,
    spreadsheet-safe) or ``jsonl`` (one object per item); returns how many."""
    if fmt not in ROW_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(ROW_FORMATS)}")
    return write_records(pack_rows(view, ui_url), ROW_COLUMNS, out, fmt)


@dataclass
class PackClips:
    """Clips for an export, cut from ``playback``'s redacted copies: call it with an item
    for the clip's bytes, or None (``missing`` then says why, by call)."""

    session: Session
    playback: Playback | None
    missing: dict[str, str] = field(default_factory=dict)
    ABSENT: ClassVar[tuple[str, ...]] = (NO_RECORDING, NO_TURN, NO_ROOT)
    """Reasons that are no failure: nothing to cut, or no root given to cut it from."""
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="callqa-pack-")))

    def __call__(self, item: PackItemView) -> bytes | None:
        from transcribe.audio import AudioError
        from transcribe.audio_clip import write_clip

        window = clip_window(item)
        reason = self._unavailable(item, window)
        if reason is None and window is not None and self.playback is not None:
            try:
                clip = self.playback.clip(session=self.session, call_id=item.call_id)
                if clip is None or not clip.redacted:
                    reason = "no redacted recording (QA_REDACTION is off)" if clip else None
                else:
                    target = self.folder / f"item-{item.position}{CLIP_SUFFIX}"
                    write_clip(clip.path, target, *window)
                    data = target.read_bytes()
                    target.unlink()
                    return data
            except (PlaybackError, AudioError, ValueError, OSError) as exc:
                reason = str(exc)
        self.missing[f"{item.position}:{item.external_id}"] = reason or NO_RECORDING
        return None

    def _unavailable(self, item: PackItemView, window: tuple[float, float] | None) -> str | None:
        if not item.has_recording:
            return NO_RECORDING
        if window is None:
            return NO_TURN
        if self.playback is None:
            return NO_ROOT
        return None

    def close(self) -> None:
        """Remove the working folder."""
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(frozen=True)
class PackExport:
    """What an export wrote: the file, its format, its items, how many have an audio clip
    (HTML only), and why the others have none (item ``position:call`` -> reason)."""

    path: Path
    fmt: str
    items: int
    clips: int = 0
    missing: tuple[tuple[str, str], ...] = ()

    @property
    def clips_missing(self) -> int:
        """Items of an HTML export shown without a clip."""
        return self.items - self.clips if self.fmt == "html" else 0

    @property
    def clips_failed(self) -> int:
        """Clips that could not be cut from a recording that exists (not merely absent)."""
        return sum(reason not in PackClips.ABSENT for _, reason in self.missing)


def _mime(data: bytes) -> str:
    return _MIMES.get(data[:4], "audio/ogg")


def export_pack_html(
    view: PackView,
    out_path: str | Path,
    *,
    clips: Callable[[PackItemView], bytes | None],
    ui_url: str,
) -> PackExport:
    """Write the pack as one self-contained HTML file; ``clips`` gives each item's audio
    (None: the item says why it has none). Returns what was written."""
    count = 0
    audio: list[str | None] = []
    for item in view.items:
        data = clips(item)
        if data:
            count += 1
            encoded = base64.b64encode(data).decode("ascii")
            audio.append(f"data:{_mime(data)};base64,{encoded}")
        else:
            audio.append(None)
    path = Path(out_path)
    path.write_text(render_pack(view, audio, ui_url=ui_url), encoding="utf-8")
    return PackExport(path=path, fmt="html", items=len(view.items), clips=count)


def export_pack_file(
    *,
    session: Session,
    pack: int | str,
    out_path: str | Path,
    fmt: str = "html",
    ui_url: str,
    playback: Playback | None = None,
) -> PackExport:
    """Export the pack ``pack`` (id or name) to ``out_path`` as ``html`` (clips from
    ``playback``'s redacted copies; None: no audio), ``csv`` or ``jsonl``. The one call the
    UI and ``qa packs export`` make; a ValueError names a bad format or an unknown pack."""
    formats = ("html", *ROW_FORMATS)
    if fmt not in formats:
        raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(formats)}")
    view = pack_detail(session=session, pack=pack)
    path = Path(out_path)
    if fmt != "html":
        with path.open("w", encoding="utf-8", newline="") as handle:
            count = export_pack_rows(view, handle, fmt, ui_url=ui_url)
        return PackExport(path=path, fmt=fmt, items=count)
    clips = PackClips(session=session, playback=playback)
    try:
        result = export_pack_html(view, path, clips=clips, ui_url=ui_url)
    finally:
        clips.close()
    return replace(result, missing=tuple(clips.missing.items()))
