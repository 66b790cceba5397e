"""One definition of every number: the bundled demo database gives the same FCR, repeat-contact
rate, CSAT and NPS in ``qa kpis --format json``, in the report's KPI tiles, in the UI's
Insights tiles and in ``qa why``'s repeat outcome.

Before the unification ``qa kpis`` said FCR 86.1 % and repeat contacts 13.5 % (every row a
contact, outbound callbacks counted as repeats) while the report and the Insights tab said
90.4 % and 9.5 % under the same labels. The demo is built fast, without transcription: the
bundled exports are ingested, which is all these KPIs need.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from qa.ingest.exports import ingest_calls, ingest_surveys
from qa.ingest.records import IngestOptions
from qa.store.engine import make_engine

DEMO = Path(__file__).resolve().parents[1] / "qa" / "demo" / "data"
KEYS = ("fcr_rate", "repeat_contact_rate", "csat_pct", "csat_mean", "nps")
TILE = re.compile(r'data-kpi="(\w+)"><div class="v">([^<]*)</div>')


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("one-definition") / "demo.db"
    engine = make_engine(str(path))
    # The demo's dates are fixed; a far max_date keeps them valid whatever today's date is.
    options = IngestOptions(recordings_root=DEMO, max_date=datetime(9999, 1, 1))
    with Session(engine) as session:
        calls = ingest_calls(DEMO / "calls.csv", session=session, options=options)
        surveys = ingest_surveys(DEMO / "surveys.csv", session=session, options=options)
        session.commit()
    assert (calls.stored, surveys.stored) == (358, 157) and not calls.rejects + surveys.rejects
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def cli_kpis(demo_db: Path) -> dict:
    from qa.cli import app

    result = CliRunner().invoke(app, ["kpis", "--format", "json", "--db", str(demo_db)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def tiles(html: str) -> dict[str, str]:
    """KPI key -> the text its tile shows."""
    return dict(TILE.findall(html))


def test_demo_repeat_and_fcr_are_the_documented_definition(cli_kpis: dict) -> None:
    # Transfer legs merged, outbound calls not linked (README "KPIs"): of 295 observable
    # handled contacts 28 were repeated; of 251 observable first contacts 227 were not.
    assert cli_kpis["calls_offered"] == 358
    assert cli_kpis["repeat_contact_rate"] == 28 / 295  # 9.5 %, was 13.5 % in qa kpis
    assert cli_kpis["fcr_rate"] == 227 / 251  # 90.4 %, was 86.1 % in qa kpis


def test_kpis_report_and_insights_tiles_agree(demo_db: Path, cli_kpis: dict) -> None:
    from qa.report.html import fmt, render_report
    from qa.report.insights import build_insights
    from review_ui.insights import render_insights

    engine = make_engine(str(demo_db))
    try:
        insights = build_insights(engine, outcomes=())  # no driver fits: not needed here
        report = tiles(render_report(insights, ui_url="http://127.0.0.1:7860"))
        tab = tiles(render_insights(engine, "", "")[1])
    finally:
        engine.dispose()
    kinds = {"fcr_rate": "pct", "repeat_contact_rate": "pct", "csat_pct": "pct"}
    for key in KEYS:
        assert insights.kpis[key] == cli_kpis[key], key  # the very same number, unrounded
        shown = fmt(cli_kpis[key], kinds.get(key, "nps" if key == "nps" else "mean"))
        assert report[key] == tab[key] == shown, key
    assert (report["fcr_rate"], report["repeat_contact_rate"]) == ("90.4%", "9.5%")
    # the report's repeat section counts the same contacts
    summary = insights.repeats.summary
    assert (summary.fcr_rate, summary.repeat_rate) == (cli_kpis["fcr_rate"], 28 / 295)


def test_why_repeat_outcome_is_the_kpi(demo_db: Path, cli_kpis: dict) -> None:
    from qa.why.data import load_driver_data

    engine = make_engine(str(demo_db))
    try:
        with Session(engine) as session:
            data = load_driver_data(session, outcome="repeat")
    finally:
        engine.dispose()
    # one row per observable handled contact, y = repeated: its mean is the KPI
    assert len(data.frame) == 295
    assert data.frame["y"].sum() == 28
