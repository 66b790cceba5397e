"""Ingest the optional workforce exports: agent states, schedules and operating costs.

Like ``qa.ingest.exports``: every row is validated (``qa.ingest.wfm_records``), bad rows go
to ``FILE.rejects.csv`` as ``file:line: field: reason``, the good ones are upserted in chunks
(agent states and schedule blocks by agent and start, costs by period), and re-ingesting a
file changes nothing. Overlapping intervals of one agent (in the file, or with intervals
stored earlier) reject every row of that agent in the file: which of two overlapping
states is true cannot be known, and an agent with no states has ``null`` KPIs, not wrong
ones. A missing file is no error here; the KPIs it feeds are then ``null``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session, col, delete, select

from qa.ingest.csvfile import IngestError, read_rows
from qa.ingest.records import DEFAULT_OPTIONS, IngestOptions, RowError
from qa.ingest.rejects import Redact, Reject, clean_rejects, write_rejects
from qa.ingest.report import IngestReport
from qa.ingest.upsert import Origins, as_row, store
from qa.ingest.wfm_records import (
    COST_COLUMNS,
    COST_REQUIRED,
    SCHEDULE_COLUMNS,
    STATE_COLUMNS,
    CostRecord,
    Interval,
    ScheduleRecord,
    StateRecord,
    overlapping_agents,
    parse_cost,
    parse_schedule,
    parse_state,
)
from qa.store.schema import AgentState, CostEntry, ScheduleBlock

T = TypeVar("T")
Rows = list[tuple[int, dict[str, str], dict[str, str] | str]]
STATES_FILE, SCHEDULE_FILE, COSTS_FILE = "agent_states.csv", "schedule.csv", "costs.csv"
WFM_COLUMNS = tuple(dict.fromkeys((*STATE_COLUMNS, *SCHEDULE_COLUMNS, *COST_COLUMNS)))
"""Every column ``--wfm-map`` may name (the three files share it)."""


def _interval_key(record: Interval) -> str:
    return f"{record.agent_id}|{record.started_at.isoformat()}"


def _cost_key(record: CostRecord) -> str:
    return f"{record.period_start.isoformat()}|{record.period_end.isoformat()}"


def _read(
    path: Path, kind: str, columns: Sequence[str], required: Sequence[str],
    mapping: Mapping[str, str] | None, options: IngestOptions,
) -> tuple[IngestReport, list[str], Rows]:  # fmt: skip
    report = IngestReport(file=Path(path), kind=kind)
    wanted = {k: v for k, v in (mapping or {}).items() if k in columns}
    header, rows = read_rows(Path(path), columns=columns, required=required, mapping=wanted,
                             warnings=report.warnings,
                             max_field_bytes=options.max_field_bytes)  # fmt: skip
    return report, header, list(rows)


def _parse_all(
    rows: Sequence[tuple[int, dict[str, str], dict[str, str] | str]],
    parse: Callable[[dict[str, str]], T],
    report: IngestReport,
) -> tuple[list[tuple[int, T]], dict[int, dict[str, str]]]:
    parsed: list[tuple[int, T]] = []
    raws: dict[int, dict[str, str]] = {}
    for line, raw, row in rows:
        raws[line] = raw
        try:
            if isinstance(row, str):
                raise RowError(row)
            parsed.append((line, parse(row)))
        except RowError as exc:
            report.rejects.append(Reject(line=line, reason=str(exc), row=raw))
    return parsed, raws


def _stored_intervals(
    session: Session, table: Any, parsed: Sequence[tuple[int, Interval]], kind: str
) -> list[tuple[int, Interval]]:
    """Stored intervals of the file's agents that meet its span, except those it replaces
    (same agent and start); line 0 marks them."""
    if not parsed:
        return []
    agents = {r.agent_id for _, r in parsed}
    low = min(r.started_at for _, r in parsed)
    high = max(r.ended_at for _, r in parsed)
    keys = {_interval_key(r) for _, r in parsed}
    query = select(table).where(
        col(table.agent_id).in_(agents), table.started_at < high, table.ended_at > low
    )
    out: list[tuple[int, Interval]] = []
    for row in session.exec(query):
        record: Interval
        if kind == "agent_states":
            record = StateRecord(row.agent_id, row.state, row.started_at, row.ended_at)
        else:
            record = ScheduleRecord(row.agent_id, row.activity, row.started_at, row.ended_at)
        if _interval_key(record) not in keys:
            out.append((0, record))
    return out


def _without_overlaps(
    parsed: list[tuple[int, Interval]],
    stored: list[tuple[int, Interval]],
    raws: Mapping[int, dict[str, str]],
    report: IngestReport,
) -> list[tuple[int, Interval]]:
    """``parsed`` less every row of an agent whose intervals overlap (each rejected)."""
    overlaps = overlapping_agents([*parsed, *stored])
    bad: dict[str, dict[int, str]] = {}
    for agent, pairs in overlaps.items():
        reasons: dict[int, str] = {}
        for line, other in pairs:
            a, b = (line, other) if line else (other, line)
            if not a:
                continue  # two stored intervals: not this file's doing
            where = f"line {b}" if b else "an interval stored by an earlier ingest"
            reasons.setdefault(a, f"started_at: interval overlaps {where} of agent {agent!r}")
        if reasons:
            bad[agent] = reasons
    kept = []
    for line, record in parsed:
        reasons = bad.get(record.agent_id)
        if reasons is None:
            kept.append((line, record))
            continue
        lines = ", ".join(str(n) for n in sorted(reasons))
        reason = reasons.get(line) or (
            f"agent_id: agent {record.agent_id!r} has overlapping intervals (lines {lines}); "
            "all of this agent's rows in the file are rejected"
        )
        report.rejects.append(Reject(line=line, reason=reason, row=raws[line]))
    return kept


def _dedupe(
    parsed: Sequence[tuple[int, T]], key: Callable[[T], str], raws: Mapping[int, dict[str, str]],
    report: IngestReport,
) -> list[tuple[int, T]]:  # fmt: skip
    """``parsed`` without rows repeating an earlier row's key (each rejected)."""
    kept: list[tuple[int, T]] = []
    first: dict[str, int] = {}
    for line, record in parsed:
        ident = key(record)
        if ident in first:
            reason = f"started_at: duplicate of line {first[ident]}"
            report.rejects.append(Reject(line=line, reason=reason, row=raws[line]))
            continue
        first[ident] = line
        kept.append((line, record))
    return kept


def _writer(table: Any, value_field: str) -> Callable[[Session, Sequence[Any]], list[str]]:
    def write(session: Session, chunk: Sequence[Any]) -> list[str]:
        agents = {r.agent_id for r in chunk}
        starts = {r.started_at for r in chunk}
        query = select(table).where(
            col(table.agent_id).in_(agents), col(table.started_at).in_(starts)
        )
        existing = {(row.agent_id, row.started_at): row for row in session.exec(query)}
        outcomes = []
        for record in chunk:
            values = {value_field: getattr(record, value_field), "ended_at": record.ended_at}
            row = existing.get((record.agent_id, record.started_at))
            if row is None:
                session.add(table(agent_id=record.agent_id, started_at=record.started_at, **values))
                outcomes.append("inserted")
            elif any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                outcomes.append("updated")
            else:
                outcomes.append("unchanged")
        return outcomes

    return write


def _write_costs(session: Session, chunk: Sequence[CostRecord]) -> list[str]:
    existing = {
        (row.period_start, row.period_end): row
        for row in session.exec(select(CostEntry).where(CostEntry.basis == "period"))
    }
    outcomes = []
    for record in chunk:
        row = existing.get((record.period_start, record.period_end))
        if row is None:
            session.add(CostEntry(basis="period", period_start=record.period_start,
                                  period_end=record.period_end, amount=record.amount,
                                  currency=record.currency))  # fmt: skip
            outcomes.append("inserted")
        elif (row.amount, row.currency) != (record.amount, record.currency):
            row.amount, row.currency = record.amount, record.currency
            outcomes.append("updated")
        else:
            outcomes.append("unchanged")
    return outcomes


def _finish(
    report: IngestReport, header: list[str], rejects_path: Path | None, redact: Redact | None
) -> IngestReport:
    report.rejects.sort(key=lambda r: r.line)
    target = rejects_path or report.file.with_name(f"{report.file.stem}.rejects.csv")
    if report.rejects:
        report.rejects = clean_rejects(report.rejects, header, redact)
        write_rejects(target, header, report.rejects, report.file)
        report.rejects_path = target
    elif target.exists():
        target.unlink()
    return report


def _ingest_intervals(
    path: Path, *, kind: str, session: Session, mapping: Mapping[str, str] | None,
    state_map: Mapping[str, str] | None, rejects_path: Path | None, redact: Redact | None,
    options: IngestOptions,
) -> IngestReport:  # fmt: skip
    states = kind == "agent_states"
    columns = STATE_COLUMNS if states else SCHEDULE_COLUMNS
    table = AgentState if states else ScheduleBlock
    report, header, rows = _read(path, kind, columns, columns, mapping, options)
    parse_one = parse_state if states else parse_schedule
    parsed, raws = _parse_all(rows, partial(parse_one, names=state_map or {}, options=options),
                              report)  # fmt: skip
    unique = _dedupe(parsed, _interval_key, raws, report)
    stored = _stored_intervals(session, table, unique, kind)
    kept = _without_overlaps(unique, stored, raws, report)
    origins: Origins = {_interval_key(r): line for line, r in kept}
    shape = partial(as_row, columns=columns, mapping=mapping)
    records = [r for _, r in kept]
    store(session, records, _writer(table, columns[1]), _interval_key, origins, shape, report)
    return _finish(report, header, rejects_path, redact)


def ingest_agent_states(
    path: Path, *, session: Session, mapping: Mapping[str, str] | None = None,
    state_map: Mapping[str, str] | None = None, rejects_path: Path | None = None,
    redact: Redact | None = None, options: IngestOptions = DEFAULT_OPTIONS,
) -> IngestReport:  # fmt: skip
    """Validate and upsert an ``agent_states.csv`` (agent_id, state, started_at, ended_at).

    ``state_map`` maps normalised export names to states (``parse_state_map``); ``redact``
    cleans rejected rows before they are printed or written.
    """
    return _ingest_intervals(path, kind="agent_states", session=session, mapping=mapping,
                             state_map=state_map, rejects_path=rejects_path, redact=redact,
                             options=options)  # fmt: skip


def ingest_schedule(
    path: Path, *, session: Session, mapping: Mapping[str, str] | None = None,
    state_map: Mapping[str, str] | None = None, rejects_path: Path | None = None,
    redact: Redact | None = None, options: IngestOptions = DEFAULT_OPTIONS,
) -> IngestReport:  # fmt: skip
    """Validate and upsert a ``schedule.csv`` (agent_id, activity, started_at, ended_at)."""
    return _ingest_intervals(path, kind="schedule", session=session, mapping=mapping,
                             state_map=state_map, rejects_path=rejects_path, redact=redact,
                             options=options)  # fmt: skip


def ingest_costs(
    path: Path, *, session: Session, mapping: Mapping[str, str] | None = None,
    rejects_path: Path | None = None, redact: Redact | None = None,
    options: IngestOptions = DEFAULT_OPTIONS,
) -> IngestReport:  # fmt: skip
    """Validate and upsert a ``costs.csv`` (period_start, period_end, amount, currency).

    Every row must share the first valid row's currency (a blank currency is allowed).
    """
    report, header, rows = _read(path, "costs", COST_COLUMNS, COST_REQUIRED, mapping, options)
    parsed, raws = _parse_all(rows, partial(parse_cost, options=options), report)
    unique = _dedupe(parsed, _cost_key, raws, report)
    currencies = [r.currency for _, r in unique if r.currency]
    kept = []
    for line, record in unique:
        if record.currency and currencies and record.currency != currencies[0]:
            reason = f"currency: {record.currency!r} differs from {currencies[0]!r}; one currency"
            report.rejects.append(Reject(line=line, reason=reason + " per file", row=raws[line]))
            continue
        kept.append((line, record))
    origins: Origins = {_cost_key(r): line for line, r in kept}
    shape = partial(as_row, columns=COST_COLUMNS, mapping=mapping)
    store(session, [r for _, r in kept], _write_costs, _cost_key, origins, shape, report)
    return _finish(report, header, rejects_path, redact)


def set_cost_per_agent_hour(session: Session, amount: float, currency: str = "") -> None:
    """Store the cost of one paid agent hour (replacing the one stored before); committed.

    A ``ValueError`` says why ``amount`` is not usable (must be a finite number > 0).
    """
    if not (amount > 0 and amount < float("inf")):
        raise ValueError(f"--cost-per-agent-hour {amount!r}: must be a finite number > 0")
    session.exec(delete(CostEntry).where(CostEntry.basis == "agent_hour"))  # type: ignore[call-overload]
    session.add(CostEntry(basis="agent_hour", amount=float(amount), currency=currency.upper()))
    session.commit()


@dataclass(frozen=True)
class WfmOptions:
    """How to read the workforce exports: ``mapping`` (``--wfm-map``, column -> export
    column), ``state_map`` (``--state-map``, normalised export name -> state or activity),
    and a cost per paid agent hour to store (``--cost-per-agent-hour``, ``--currency``)."""

    mapping: Mapping[str, str] = field(default_factory=dict)
    state_map: Mapping[str, str] = field(default_factory=dict)
    cost_per_agent_hour: float | None = None
    currency: str = ""


def ingest_workforce_folder(
    folder: Path, *, session: Session, wfm: WfmOptions, redact: Redact | None = None,
    options: IngestOptions = DEFAULT_OPTIONS,
) -> list[IngestReport]:  # fmt: skip
    """Ingest whichever of ``agent_states.csv``, ``schedule.csv`` and ``costs.csv`` are in
    ``folder`` (each is optional) and store ``wfm.cost_per_agent_hour`` when given."""
    reports = []
    readers = (
        (STATES_FILE, partial(ingest_agent_states, state_map=wfm.state_map)),
        (SCHEDULE_FILE, partial(ingest_schedule, state_map=wfm.state_map)),
        (COSTS_FILE, ingest_costs),
    )
    for name, read in readers:
        if (folder / name).is_file():
            reports.append(read(folder / name, session=session, mapping=wfm.mapping,
                                redact=redact, options=options))  # fmt: skip
    if wfm.cost_per_agent_hour is not None:
        set_cost_per_agent_hour(session, wfm.cost_per_agent_hour, wfm.currency)
    return reports


def parse_wfm_mapping(items: Sequence[str]) -> dict[str, str]:
    """``--wfm-map`` values -> ``{column: export column}``, checked against ``WFM_COLUMNS``."""
    from qa.ingest.exports import parse_mapping

    return parse_mapping(items, WFM_COLUMNS)


__all__ = [
    "COSTS_FILE",
    "SCHEDULE_FILE",
    "STATES_FILE",
    "WFM_COLUMNS",
    "IngestError",
    "WfmOptions",
    "ingest_agent_states",
    "ingest_costs",
    "ingest_schedule",
    "ingest_workforce_folder",
    "parse_wfm_mapping",
    "set_cost_per_agent_hour",
]
