"""The whole pipeline on one folder of exports: ingest -> transcribe -> tag -> KPIs.

``run_nightly`` is what ``qa nightly DIR`` and ``qa demo`` call. Every stage is idempotent
and commits per call, so running it again after a crash or after fixing bad input completes
the rest without duplicating anything. Each run leaves an audit row in the ``run`` table, and
holds the database's run lock (``qa.store.lock``) so that two runs never overlap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from qa.config import Settings
from qa.ingest.exports import ingest_calls, ingest_surveys
from qa.ingest.records import IngestOptions
from qa.ingest.report import IngestReport
from qa.ingest.wfm import WfmOptions, ingest_workforce_folder
from qa.stages.factories import default_comment_redactor, default_tagger, default_transcriber
from qa.stages.pipeline import (
    Progress,
    StageReport,
    TranscribedCall,
    no_progress,
    tag_calls,
    transcribe_calls,
)
from qa.stages.themes import ThemeReport, update_themes
from qa.store.lock import run_lock
from qa.store.schema import Run

if TYPE_CHECKING:
    from qa.stages.ray_executor import RayExecutor

EXIT_OK, EXIT_FATAL, EXIT_PARTIAL = 0, 1, 2
CALLS_FILE, SURVEYS_FILE = "calls.csv", "surveys.csv"


@dataclass
class NightlyReport:
    """Everything one run did, and the exit code it deserves."""

    run_id: int | None
    ingests: list[IngestReport] = field(default_factory=list)
    stages: list[StageReport] = field(default_factory=list)
    kpis: dict[str, Any] = field(default_factory=dict)
    report_path: Path | None = None
    themes: ThemeReport | None = None
    warnings: list[str] = field(default_factory=list)
    # Wall seconds per stage, and where transcription and tagging ran (workers, retries).
    seconds: dict[str, float] = field(default_factory=dict)
    executor: dict[str, Any] = field(default_factory=lambda: {"kind": "local", "workers": 1})

    @property
    def problems(self) -> list[str]:
        """Every rejected row, failed call and warning, one line each."""
        lines = [line for ingest in self.ingests for line in ingest.lines()] + self.warnings
        lines += [f"{s.stage}: call {cid}: {why}" for s in self.stages for cid, why in s.failed]
        return lines

    @property
    def exit_code(self) -> int:
        """0 when everything went through, 2 when some rows or calls failed."""
        partial = any(i.rejects for i in self.ingests) or any(s.failed for s in self.stages)
        return EXIT_PARTIAL if partial else EXIT_OK

    def counts(self) -> dict[str, Any]:
        """The numbers stored on the ``run`` audit row."""
        out: dict[str, Any] = {}
        for ingest in self.ingests:
            out[ingest.kind] = {
                "inserted": ingest.inserted,
                "updated": ingest.updated,
                "unchanged": ingest.unchanged,
                "rejected": len(ingest.rejects),
            }
        for stage in self.stages:
            out[stage.stage] = {"done": stage.done, "failed": len(stage.failed)}
        if self.themes is not None:
            out["themes"] = {
                "mode": self.themes.mode,
                "themes": self.themes.themes,
                "assigned": self.themes.assigned,
                "unassigned": self.themes.unassigned,
            }
        out["seconds"] = {stage: round(s, 3) for stage, s in self.seconds.items()}
        out["executor"] = self.executor
        return out


@contextmanager
def _timed(report: NightlyReport, stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        report.seconds[stage] = report.seconds.get(stage, 0.0) + time.perf_counter() - start


def run_nightly(
    folder: Path,
    *,
    engine: Engine,
    settings: Settings,
    mapping: Mapping[str, str] | None = None,
    survey_mapping: Mapping[str, str] | None = None,
    transcriber: Callable[[Path], TranscribedCall] | None = None,
    tagger: tuple[Any, str] | None = None,
    progress: Progress = no_progress,
    wait: bool = False,
    wait_timeout: float | None = None,
    ingest_options: IngestOptions | None = None,
    wfm: WfmOptions | None = None,
    ray: RayExecutor | None = None,
) -> NightlyReport:
    """Run every stage on ``folder`` (``calls.csv``, optional ``surveys.csv``, recordings,
    and the optional workforce exports ``agent_states.csv``, ``schedule.csv``, ``costs.csv``,
    read with ``wfm``'s maps; its cost per agent hour is stored when given).

    ``ingest_options`` bounds what the exports may contain (recordings root, latest date,
    field size; default: recordings inside ``folder``, dates up to one day from now, 1 MB).

    Holds the database's run lock throughout; when another run holds it, raises
    ``qa.store.lock.LockBusy`` at once, or waits for it with ``wait`` (at most ``wait_timeout``
    seconds). Raises ``qa.ingest.exports.IngestError`` when ``calls.csv`` itself cannot be
    read (fatal).

    ``ray`` (an entered ``qa.stages.ray_executor.RayExecutor``) runs transcription, redaction
    and tagging as Ray tasks; this process still does every write.
    """
    from qa.metrics.base import KpiOptions
    from qa.metrics.facts import load_facts, load_workforce
    from qa.metrics.kpis import compute_kpis

    folder = Path(folder)
    # One run at a time (qa.store.lock): before the audit row, so a run that exits 3 leaves none.
    with run_lock(engine, wait=wait, timeout=wait_timeout) as lock:
        with Session(engine, expire_on_commit=False) as session:
            # pid and host: the process to look for if this row is ever left ``running``.
            params = {"folder": str(folder), **_params(settings)}
            params |= {"pid": lock.holder.pid, "host": lock.holder.host}
            params |= _ingest_params(ingest_options)
            run = Run(command="nightly", params=params)
            session.add(run)
            session.commit()
        report = NightlyReport(run_id=run.id)
        try:
            with _timed(report, "ingest"), Session(engine) as session:
                # One redactor for comments and rejected rows of both files (models load once).
                redact = default_comment_redactor(settings)
                limits = ingest_options or IngestOptions()
                report.ingests.append(
                    ingest_calls(
                        folder / CALLS_FILE,
                        session=session,
                        mapping=mapping,
                        redact=redact,
                        options=limits,
                    )
                )
                if (folder / SURVEYS_FILE).exists():
                    report.ingests.append(
                        ingest_surveys(
                            folder / SURVEYS_FILE,
                            session=session,
                            mapping=survey_mapping,
                            redact=redact,
                            options=limits,
                        )
                    )
                report.ingests += ingest_workforce_folder(
                    folder, session=session, wfm=wfm or WfmOptions(), redact=redact, options=limits
                )
            with _timed(report, "transcribe"):
                report.stages.append(
                    transcribe_calls(
                        engine,
                        transcriber=None if ray else transcriber or default_transcriber(settings),
                        progress=progress,
                        executor=ray,
                    )
                )
            with _timed(report, "tag"):
                tagger_obj, version = ray.tagger() if ray else tagger or default_tagger(settings)
                report.stages.append(
                    tag_calls(engine, tagger=tagger_obj, version=version, progress=progress)
                )
            if ray is not None and ray.stats is not None:
                report.executor = ray.stats.as_dict()
            with _timed(report, "themes"):
                report.themes = _themes(engine, report, settings.models_dir)
            with Session(engine) as session:
                calls, surveys = load_facts(session)
                workforce = load_workforce(session)
            options = KpiOptions(
                window_hours=settings.window_hours,
                service_level_seconds=settings.service_level_seconds,
            )
            report.kpis = compute_kpis(calls, surveys, options, workforce=workforce)
            report.report_path = _write_report(engine, folder, run.id, settings, report)
            status = "ok" if report.exit_code == EXIT_OK else "partial"
        except BaseException:
            _close_run(engine, run.id, "failed", report)
            raise
        _close_run(engine, run.id, status, report)
        return report


def _themes(engine: Engine, report: NightlyReport, models_dir: Path) -> ThemeReport | None:
    """The theme stage; a failure leaves last night's themes and is a warning, not a crash."""
    try:
        return update_themes(engine, models_dir=models_dir)
    except (ValueError, RuntimeError, OSError) as exc:
        report.warnings.append(f"themes not updated: {exc}")
        return None


def _write_report(
    engine: Engine, folder: Path, run_id: int | None, settings: Settings, report: NightlyReport
) -> Path | None:
    """The run's self-contained HTML report, beside the exports; a failure here is a warning."""
    from qa.report.insights import write_report

    path = folder / f"report-{run_id}.html"
    try:
        write_report(engine, path, window_hours=settings.window_hours, ui_url=settings.ui_url)
    except (ValueError, OSError) as exc:
        report.warnings.append(f"report not written: {exc}")
        return None
    return path


def _params(settings: Settings) -> dict[str, Any]:
    return {
        "asr_engine": settings.asr_engine,
        "asr_model": settings.asr_model,
        "agent_channel": settings.agent_channel,
        "window_hours": settings.window_hours,
        "redaction": settings.redaction,
    }


def _ingest_params(options: IngestOptions | None) -> dict[str, Any]:
    """The ingest bounds in force, for the audit row (None: the defaults)."""
    if options is None:
        return {}
    return {
        "recordings_root": str(options.recordings_root) if options.recordings_root else None,
        "max_date": options.max_date.isoformat() if options.max_date else None,
        "max_field_bytes": options.max_field_bytes,
    }


def _close_run(engine: Engine, run_id: int | None, status: str, report: NightlyReport) -> None:
    with Session(engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            return
        run.status, run.finished_at = status, datetime.now()
        run.counts = {**report.counts(), "kpis": report.kpis, "problems": report.problems[:200]}
        session.add(run)
        session.commit()
