"""What ``qa kpis`` prints: the KPI rows for a period, overall or by a dimension, weighted
survey KPIs included, served from a stored result while nothing they read has changed.

    served = kpi_table(engine, by="agent", since=None, until=None, options=KpiOptions())
    served.payload        # list of row dicts (one row when ``by`` is None)
    served.stored         # True: from the snapshot (``qa.store.snapshots``)

The numbers are computed by ``compute_kpi_rows`` only (``qa.metrics.kpis`` and
``qa.metrics.weighted``: one definition of each); the snapshot stores that function's JSON.
At a million calls computing takes ~20 s and serving ~0.1 s (benchmarks/scale.py).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from qa.metrics.base import KpiOptions

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from qa.store.snapshots import Served

KIND = "kpis"


def compute_kpi_rows(
    engine: Engine,
    *,
    by: str | None,
    since: datetime | None,
    until: datetime | None,
    options: KpiOptions,
) -> list[dict[str, Any]]:
    """The KPI rows for calls started in ``[since, until)``: one overall row, or one per
    group of ``by`` (a key of ``qa.metrics.kpis.GROUPINGS``), each with its weighted survey
    KPIs (``qa.metrics.weighted``)."""
    from sqlmodel import Session

    from qa.metrics.facts import load_facts, load_workforce
    from qa.metrics.kpis import GROUPINGS, compute_kpis, compute_kpis_by, filter_calls
    from qa.metrics.response import response_weights
    from qa.metrics.transcript_tags import load_transcript_tags
    from qa.metrics.weighted import weighted_kpis, weighted_kpis_by

    with Session(engine) as session:
        history, surveys = load_facts(session)
        workforce = load_workforce(session)
        said = load_transcript_tags(session)
    calls = filter_calls(history, since, until)
    # Survey KPIs weighted for who answers: one response model over the period's calls
    # (qa.metrics.response), its weights summed per group.
    response = response_weights(calls, surveys, said)
    window = (since, until)
    if by is None:
        row = compute_kpis(
            calls, surveys, options, history=history, workforce=workforce, window=window
        )
        row.update(weighted_kpis(calls, surveys, response))
        return [row]
    rows = compute_kpis_by(
        calls, surveys, by, options, history=history, workforce=workforce, window=window
    )
    weighted = weighted_kpis_by(calls, surveys, response, GROUPINGS[by])
    for row in rows:
        row.update(weighted[row["group"]])
    return rows


def kpi_table(
    engine: Engine,
    *,
    by: str | None,
    since: datetime | None,
    until: datetime | None,
    options: KpiOptions,
) -> Served:
    """:func:`compute_kpi_rows`, or its stored result when it was computed with these
    arguments and no watched table has been written since (``qa.store.snapshots.WATCHED``)."""
    from qa.store.snapshots import serve

    params = {"by": by, "since": since, "until": until, "options": asdict(options)}
    return serve(
        engine,
        kind=KIND,
        params=params,
        compute=lambda: compute_kpi_rows(engine, by=by, since=since, until=until, options=options),
    )
