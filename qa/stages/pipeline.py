"""Pipeline stages over the database: transcribe pending calls, tag what changed.

Each stage commits one call at a time, so a crash loses at most the call in flight and a
re-run resumes where it stopped. A bad recording marks its call ``failed`` with the reason and
the batch goes on; failed calls are retried on the next run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from classify.tagging import ConversationTagger, Tagger
from qa.stages.executor import (
    Counted,
    LocalExecutor,
    TranscribedCall,
    TranscribeExecutor,
    TranscribeJob,
)
from qa.store.calltags import refresh_call_tags
from qa.store.schema import AudioRedaction, Call, CallMetrics, Survey, Tag, Turn, TurnOriginal

T = TypeVar("T")
Progress = Callable[[Sequence[T], str], Iterable[T]]
TAG_CHUNK = 64
SPEAKER_SOURCES = {"customer": ("customer",), "agent": ("agent",), "unknown": ("customer", "agent")}


def no_progress(items: Sequence[T], _description: str) -> Iterable[T]:
    """The default progress reporter: none."""
    return items


@dataclass(frozen=True)
class StageReport:
    """What one stage did: calls processed, calls that failed (external id, reason), skipped."""

    stage: str
    done: int
    failed: tuple[tuple[str, str], ...] = ()
    skipped: int = 0


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if type(exc).__name__ in text else f"{type(exc).__name__}: {text}"


def calls_to_transcribe(session: Session, call_ids: Sequence[str] | None = None) -> list[int]:
    """Ids of calls with a recording that are pending or failed (failed ones are retried)."""
    return [row[0] for row in session.exec(_pending_query(call_ids))]


def _pending_query(call_ids: Sequence[str] | None, *extra: Any) -> Any:
    """(id, *extra) of the calls ``calls_to_transcribe`` means, in its order."""
    query = select(Call.id, *extra).where(
        col(Call.recording_path).is_not(None), col(Call.status).in_(("pending", "failed"))
    )
    if call_ids:
        query = query.where(col(Call.external_id).in_(call_ids))
    return query.order_by(Call.started_at, Call.id)


def store_transcript(session: Session, call: Call, result: TranscribedCall, metrics: Any) -> None:
    """Replace a call's turns (and restricted originals) and metrics with a new transcript's."""
    old_turns = select(Turn.id).where(col(Turn.call_id) == call.id)
    session.exec(delete(TurnOriginal).where(col(TurnOriginal.turn_id).in_(old_turns)))
    session.exec(delete(Turn).where(col(Turn.call_id) == call.id))
    session.exec(delete(CallMetrics).where(col(CallMetrics.call_id) == call.id))
    session.exec(delete(AudioRedaction).where(col(AudioRedaction.call_id) == call.id))
    if result.audio_spans is not None:
        spans = {who: [list(s) for s in times] for who, times in result.audio_spans.items()}
        session.add(
            AudioRedaction(call_id=call.id, agent_channel=result.agent_channel, spans=spans)
        )
    transcript = result.transcript
    turns = [
        Turn(call_id=call.id, index=index, speaker=seg.speaker, start=seg.start, end=seg.end,
             text=seg.text, confidence=seg.confidence)
        for index, seg in enumerate(transcript.segments)
    ]  # fmt: skip
    session.add_all(turns)
    if result.original is not None:
        session.flush()  # turn ids are needed for the originals
        for turn, seg, spans in zip(turns, result.original.segments, result.spans, strict=True):
            if spans:  # only turns that had something redacted need their original kept
                session.add(
                    TurnOriginal(
                        turn_id=turn.id, text=seg.text,
                        spans=[{"start": s.start, "end": s.end, "entity": s.entity} for s in spans],
                    )
                )  # fmt: skip
    session.add(
        CallMetrics(
            call_id=call.id,
            agent_talk_seconds=metrics.agent_talk_seconds,
            customer_talk_seconds=metrics.customer_talk_seconds,
            silence_seconds=metrics.silence_seconds,
            longest_silence_seconds=metrics.longest_silence_seconds,
            overtalk_seconds=metrics.overtalk_seconds,
            agent_wpm=metrics.agent_wpm,
            customer_wpm=metrics.customer_wpm,
            extra=dict(metrics.extra),
        )
    )
    call.status, call.error = "transcribed", None
    call.transcribed_at = datetime.now()
    call.duration_seconds = transcript.duration


def transcribe_calls(
    engine: Engine,
    *,
    transcriber: Callable[[Path], TranscribedCall] | None = None,
    call_ids: Sequence[str] | None = None,
    progress: Progress = no_progress,
    executor: TranscribeExecutor | None = None,
) -> StageReport:
    """Transcribe every pending or failed call that has a recording, one commit per call.

    ``transcriber`` maps a recording path to a :class:`TranscribedCall` (see
    ``qa.stages.factories.default_transcriber``); anything it raises marks that call failed.
    ``executor`` runs the jobs elsewhere instead (e.g. on Ray); only this process writes.
    """
    from transcribe.metrics import compute_metrics

    if executor is None:
        if transcriber is None:
            raise ValueError("transcribe_calls needs a transcriber or an executor")
        executor = LocalExecutor(transcriber)
    with Session(engine) as session:
        jobs = [
            TranscribeJob(call_id, Path(path or ""))
            for call_id, path in session.exec(_pending_query(call_ids, Call.recording_path))
        ]
    done, failed = 0, []
    outcomes = Counted(executor.run(jobs), len(jobs))
    for job, result in progress(outcomes, "transcribe"):  # type: ignore[arg-type]
        with Session(engine, expire_on_commit=False) as session:
            call = session.get(Call, job.call_id)
            if call is None:
                continue
            try:
                if isinstance(result, Exception):
                    raise result
                store_transcript(session, call, result, compute_metrics(result.transcript))
                done += 1
            # One bad recording must never stop the batch: record why and move on.
            except Exception as exc:
                session.rollback()
                call = session.get(Call, job.call_id)
                assert call is not None
                call.status, call.error = "failed", _describe(exc)
                failed.append((call.external_id, f"{call.recording_path}: {call.error}"))
            session.add(call)
            session.commit()
    return StageReport(stage="transcribe", done=done, failed=tuple(failed))


def calls_to_tag(session: Session) -> list[int]:
    """Calls whose texts are ready: transcribed, tagged, failed, or without a recording."""
    query = select(Call.id).where(
        or_(col(Call.status) != "pending", col(Call.recording_path).is_(None))
    )
    return list(session.exec(query.order_by(Call.started_at, Call.id)))


def _inputs_hash(version: str, comment: str, turns: Sequence[Turn]) -> str:
    digest = hashlib.sha256(f"{version}\x00{comment}".encode())
    for turn in turns:
        digest.update(f"\x00{turn.speaker}\x01{turn.text}".encode())
    return digest.hexdigest()


def _hit_to_tag(call: Call, turn: Turn | None, hit: Any) -> Tag:
    return Tag(
        call_id=call.id,
        tag=hit.tag,
        source="comment" if turn is None else "transcript",
        turn_index=None if turn is None else turn.index,
        span_start=hit.start,
        span_end=hit.end,
        evidence=hit.evidence,
        method=hit.method,
        score=hit.score,
        rule=hit.rule or None,
        cutoff=getattr(hit, "cutoff", None),
    )


def _keep(new_tags: dict[tuple[Any, ...], Tag], tag: Tag) -> None:
    """Add ``tag`` unless the same tag already covers the same span of the same turn (a mono
    turn is scanned as both parties; keep one hit per span)."""
    new_tags.setdefault((tag.call_id, tag.tag, tag.turn_index, tag.span_start, tag.span_end), tag)


def _tag_conversations(
    tagger: Tagger,
    todo: Sequence[tuple[Call, str, str]],
    turns: dict[int, list[Turn]],
    new_tags: dict[tuple[Any, ...], Tag],
) -> None:
    """Hits that need a whole call's turns (transfer announcements and their reasons), when
    the tagger is a ``ConversationTagger``."""
    if not isinstance(tagger, ConversationTagger):
        return
    calls = [(call, turns[call.id]) for call, _, _ in todo if turns[call.id]]  # type: ignore[index]
    conversations = [[(t.speaker, t.text) for t in call_turns] for _, call_turns in calls]
    found = tagger.tag_conversations(conversations)
    for (call, call_turns), hits in zip(calls, found, strict=True):
        for turn_hit in hits:
            _keep(new_tags, _hit_to_tag(call, call_turns[turn_hit.turn_index], turn_hit.hit))


def _tag_chunk(session: Session, calls: Sequence[Call], tagger: Tagger, version: str) -> int:
    """Tag one chunk of calls whose inputs changed; returns how many were (re)tagged."""
    ids = [c.id for c in calls]
    surveys = {
        s.call_external_id: s
        for s in session.exec(
            select(Survey).where(col(Survey.call_external_id).in_([c.external_id for c in calls]))
        )
    }
    turns: dict[int, list[Turn]] = {i: [] for i in ids if i is not None}
    for turn in session.exec(select(Turn).where(col(Turn.call_id).in_(ids)).order_by(Turn.index)):
        turns[turn.call_id].append(turn)
    todo = []
    for call in calls:
        survey = surveys.get(call.external_id)
        comment = survey.comment if survey else ""
        digest = _inputs_hash(version, comment, turns[call.id])  # type: ignore[index]
        if digest != call.tagged_hash:
            todo.append((call, comment, digest))
    if not todo:
        return 0
    # (call, source, turn) per text; one tag_many per source keeps spaCy batching effective.
    jobs: dict[str, list[tuple[Call, Turn | None, str]]] = {
        "comment": [],
        "customer": [],
        "agent": [],
    }
    for call, comment, _ in todo:
        if comment:
            jobs["comment"].append((call, None, comment))
        for turn in turns[call.id]:  # type: ignore[index]
            for source in SPEAKER_SOURCES.get(turn.speaker, ("customer", "agent")):
                jobs[source].append((call, turn, turn.text))
    new_tags: dict[tuple[Any, ...], Tag] = {}
    for source, items in jobs.items():
        if not items:
            continue
        hits = tagger.tag_many([text for _, _, text in items], source=source)
        for (call, turn, _), text_hits in zip(items, hits, strict=True):
            for hit in text_hits:
                _keep(new_tags, _hit_to_tag(call, turn, hit))
    _tag_conversations(tagger, todo, turns, new_tags)
    todo_ids = [call.id for call, _, _ in todo]
    # Machine hits are replaced wholesale; reviewers' decisions live in their own table.
    session.exec(delete(Tag).where(col(Tag.call_id).in_(todo_ids)))
    session.add_all(new_tags.values())
    refresh_call_tags(session, todo_ids)  # the list's pre-computed effective tags
    for call, _, digest in todo:
        call.tagged_hash = digest
        if call.status != "failed":
            call.status = "tagged"
        session.add(call)
    session.commit()
    return len(todo)


def tag_calls(
    engine: Engine, *, tagger: Tagger, version: str, progress: Progress = no_progress
) -> StageReport:
    """(Re)tag every call whose comment, turns or taxonomy changed since it was last tagged.

    ``tagger`` has ``tag_many(texts, source=...)`` returning ``TagHit`` lists (see ``classify``);
    ``version`` identifies the taxonomy + tagger so a new taxonomy re-tags everything.
    """
    with Session(engine) as session:
        ids = calls_to_tag(session)
    chunks = [ids[i : i + TAG_CHUNK] for i in range(0, len(ids), TAG_CHUNK)]
    done, failed = 0, []
    for chunk in progress(chunks, "tag"):
        with Session(engine, expire_on_commit=False) as session:
            calls = list(session.exec(select(Call).where(col(Call.id).in_(chunk))))
            try:
                done += _tag_chunk(session, calls, tagger, version)
            except Exception as exc:
                session.rollback()
                failed.extend((c.external_id, _describe(exc)) for c in calls)
    return StageReport(stage="tag", done=done, failed=tuple(failed), skipped=len(ids) - done)
