"""What the review UI may play: recordings confined to their root, redacted by default.

A call's ``recording_path`` comes from an export, so the UI plays it only when it resolves
(symlinks followed) inside one of the configured recordings roots. With redaction on (the
default), it plays a copy in which every redacted word is beeped: the time spans were stored
at transcription (``AudioRedaction``); for calls transcribed before that, every turn whose
text carries a redaction placeholder is beeped whole, which errs on the side of privacy.
Copies are cached per call in a private folder (0700, files 0600) that is removed on close.
The original plays only in ``redacted+original`` mode, and only for a role that may.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from qa.config import REDACTION_MODES
from qa.store.schema import AudioRedaction, Call, Turn

# The transcript redactor's placeholder, e.g. "[CREDIT_CARD]" (transcribe.redact).
PLACEHOLDER = re.compile(r"\[[A-Z_]{3,}\]")
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


class PlaybackError(RuntimeError):
    """The recording cannot be played (outside the root, missing, not decodable)."""


@dataclass(frozen=True)
class Clip:
    """A playable file and whether it is the redacted copy."""

    path: Path
    redacted: bool


def confine(path: str | Path, roots: tuple[Path, ...]) -> Path:
    """``path`` resolved (symlinks followed), if it lies inside one of ``roots``; else
    :class:`PlaybackError`."""
    resolved = Path(path).expanduser().resolve()
    for root in roots:
        if resolved.is_relative_to(root.expanduser().resolve()):
            return resolved
    names = ", ".join(str(r) for r in roots) or "(no recordings root configured)"
    raise PlaybackError(f"recording {path} is outside the recordings root {names}")


def redacted_spans(session: Session, call_id: int) -> tuple[dict[str, list[list[float]]], str]:
    """Speaker -> [start, end] seconds to beep, and the agent's channel, for one call."""
    stored = session.get(AudioRedaction, call_id)
    if stored is not None:
        return dict(stored.spans), stored.agent_channel
    # Transcribed before spans were stored: beep every turn that had something redacted.
    spans: dict[str, list[list[float]]] = {}
    turns = session.exec(select(Turn).where(col(Turn.call_id) == call_id).order_by(Turn.index))
    for turn in turns:
        if PLACEHOLDER.search(turn.text):
            spans.setdefault(turn.speaker, []).append([turn.start, turn.end])
    return spans, "left"


class Playback:
    """Recordings for the UI: confined to ``roots``, redacted per ``redaction`` mode.

    ``folder`` is the private cache; by default a fresh ``mkdtemp`` folder (0700) that
    :meth:`close` removes.
    """

    def __init__(
        self,
        roots: tuple[Path, ...] | list[Path],
        *,
        redaction: str = "redacted",
        folder: Path | None = None,
    ) -> None:
        if redaction not in REDACTION_MODES:
            raise ValueError(
                f"redaction mode {redaction!r} is not valid; choose one of {REDACTION_MODES}"
            )
        self.roots = tuple(Path(r) for r in roots)
        self.redaction = redaction
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="callqa-media-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, PRIVATE_DIR_MODE)

    @property
    def gradio_cache(self) -> Path:
        """Where Gradio keeps the copies it serves: inside the private folder, not /tmp/gradio."""
        path = self.folder / "gradio"
        path.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        return path

    @property
    def keeps_original(self) -> bool:
        """Whether the original may be played at all (to a role allowed to)."""
        return self.redaction in ("off", "redacted+original")

    def clip(self, *, session: Session, call_id: int, original: bool = False) -> Clip | None:
        """The file to play for a call (None when it has no recording).

        ``original`` asks for the unredacted recording; the caller checks the role, this
        checks the deployment's mode. Raises :class:`PlaybackError` with the reason.
        """
        call = session.get(Call, call_id)
        if call is None or not call.recording_path:
            return None
        source = confine(call.recording_path, self.roots)
        if not source.is_file():
            raise PlaybackError(f"recording {call.recording_path} is missing")
        if self.redaction == "off":
            return Clip(source, redacted=False)
        if original:
            if not self.keeps_original:
                raise PlaybackError(
                    "the original recording is not available: redaction mode is 'redacted' "
                    "(QA_REDACTION=redacted+original lets a lead play it)"
                )
            return Clip(source, redacted=False)
        if call.status in ("pending", "failed"):
            # No transcript, so nothing says where the PII is: never play it "redacted".
            raise PlaybackError(
                "the recording is not transcribed yet, so it cannot be redacted; "
                "run qa transcribe (or qa nightly) first"
            )
        spans, channel = redacted_spans(session, call_id)
        return Clip(self._redacted(call, source, spans, channel), redacted=True)

    def _redacted(self, call: Call, source: Path, spans: dict[str, Any], channel: str) -> Path:
        from transcribe.audio import AudioError
        from transcribe.audio_redact import write_redacted_copy

        key = json.dumps([call.recording_sha256 or str(source), spans, channel], sort_keys=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        target = self.folder / f"call-{call.id}-{digest}.wav"
        if target.is_file():
            return target
        word_spans = {speaker: [tuple(s) for s in times] for speaker, times in spans.items()}
        try:
            write_redacted_copy(source, target, word_spans, channel, mode="beep")
        except (AudioError, ValueError, OSError) as exc:
            raise PlaybackError(f"recording {call.recording_path} cannot be played: {exc}") from exc
        os.chmod(target, PRIVATE_FILE_MODE)
        return target

    def close(self) -> None:
        """Remove the private folder and every copy in it."""
        shutil.rmtree(self.folder, ignore_errors=True)
