"""Where transcription runs: jobs in, (job, result or exception) out, as they finish.

``qa.stages.pipeline.transcribe_calls`` hands its jobs to an executor and writes each result
itself, one commit per call; an executor never touches the database. ``LocalExecutor`` is the
single-process one; ``qa.stages.ray_executor.RayExecutor`` runs the same jobs on a Ray cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class TranscribedCall:
    """What a transcriber returns: the transcript to store and show (redacted unless redaction
    is off) and, in ``redacted+original`` mode, the original with the redacted spans per turn."""

    transcript: Any
    original: Any = None
    spans: tuple[tuple[Any, ...], ...] = ()
    # Speaker -> merged (start, end) seconds of redacted words, so the UI can beep them in
    # the audio it plays; None when redaction is off.
    audio_spans: dict[str, list[tuple[float, float]]] | None = None
    agent_channel: str = "left"


@dataclass(frozen=True)
class TranscribeJob:
    """One recording to transcribe: the call's row id (only the driver uses it) and its path."""

    call_id: int
    recording: Path


Outcome = tuple[TranscribeJob, "TranscribedCall | Exception"]


class TranscribeExecutor(Protocol):
    """Runs transcription jobs and yields each job with its result, or the exception that
    failed it, as they finish (any order). The caller writes; an executor never touches the
    database. ``LocalExecutor`` runs them in this process; ``qa.stages.ray_executor`` on Ray."""

    def run(self, jobs: Sequence[TranscribeJob]) -> Iterable[Outcome]: ...


class LocalExecutor:
    """The single-process executor: one job at a time, in order, with ``transcriber``."""

    def __init__(self, transcriber: Callable[[Path], TranscribedCall]) -> None:
        self.transcriber = transcriber

    def run(self, jobs: Sequence[TranscribeJob]) -> Iterator[Outcome]:
        for job in jobs:
            try:
                yield job, self.transcriber(job.recording)
            # One bad recording must never stop the batch: the caller records why.
            except Exception as exc:
                yield job, exc


class Counted:
    """An iterable of known length, so a progress bar can count outcomes as they arrive."""

    def __init__(self, items: Iterable[Outcome], total: int) -> None:
        self.items, self.total = items, total

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[Outcome]:
        return iter(self.items)
