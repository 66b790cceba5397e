"""The demo's workforce data (``qa.demo.workforce``): the agents built to stand out are found
by ``qa kpis``, and the money line of its costly tag matches the generator's built-in cost."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from qa.cli import app
from qa.demo import workforce as demo_wfm
from qa.demo.generate import DEFAULT_OUT, build_calls
from qa.ingest.exports import ingest_calls, ingest_surveys
from qa.ingest.wfm import WfmOptions, ingest_workforce_folder
from qa.metrics.facts import load_facts, load_workforce
from qa.metrics.kpis import compute_kpis, compute_kpis_by
from qa.metrics.workforce import default_window, hourly_cost
from qa.store.engine import make_engine
from qa.why.data import frame_from_facts
from qa.why.drivers import analyse
from qa.why.money import Prices, price_drivers


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    engine = make_engine(url)
    wfm = WfmOptions(cost_per_agent_hour=demo_wfm.COST_PER_AGENT_HOUR, currency="USD")
    with Session(engine) as session:
        assert not ingest_calls(DEFAULT_OUT / "calls.csv", session=session).rejects
        ingest_surveys(DEFAULT_OUT / "surveys.csv", session=session)
        reports = ingest_workforce_folder(DEFAULT_OUT, session=session, wfm=wfm)
    assert [r.kind for r in reports] == ["agent_states", "schedule"]
    assert all(r.inserted and not r.rejects for r in reports)
    return url, engine


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def test_committed_workforce_files_are_the_generators() -> None:
    states, schedule = demo_wfm.build_workforce(build_calls())
    assert _rows(DEFAULT_OUT / "agent_states.csv") == states
    assert _rows(DEFAULT_OUT / "schedule.csv") == schedule


def test_poor_adherence_and_high_occupancy_agents_are_recovered(demo_db) -> None:  # type: ignore[no-untyped-def]
    _url, engine = demo_db
    with Session(engine) as session:
        calls, surveys = load_facts(session)
        workforce = load_workforce(session)
    rows = {r["group"]: r for r in compute_kpis_by(calls, surveys, "agent", workforce=workforce)}
    agents = [a for a in rows if a]
    adherence = {a: rows[a]["schedule_adherence"] for a in agents}
    occupancy = {a: rows[a]["occupancy"] for a in agents}
    assert min(adherence, key=adherence.get) == demo_wfm.POOR_ADHERENCE  # type: ignore[arg-type]
    # Late by 45 min, 45 min more lunch, out 45 min early: 135 of 600 scheduled minutes,
    # less the calls he takes in those minutes.
    assert 1 - 135 / 600 <= adherence[demo_wfm.POOR_ADHERENCE] <= 0.80
    assert all(v > 0.99 for a, v in adherence.items() if a != demo_wfm.POOR_ADHERENCE)
    assert max(occupancy, key=occupancy.get) == demo_wfm.HIGH_OCCUPANCY  # type: ignore[arg-type]
    # Chat cycles: 26 busy minutes to 4.5 available, plus the calls.
    assert occupancy[demo_wfm.HIGH_OCCUPANCY] >= 26 / 30.5
    assert all(v < 0.1 for a, v in occupancy.items() if a != demo_wfm.HIGH_OCCUPANCY)


def test_cost_per_call_is_paid_hours_times_the_rate(demo_db) -> None:  # type: ignore[no-untyped-def]
    _url, engine = demo_db
    with Session(engine) as session:
        calls, surveys = load_facts(session)
        workforce = load_workforce(session)
    kpis = compute_kpis(calls, surveys, workforce=workforce)
    paid = sum((s.end - s.start).total_seconds() for s in workforce.states if s.kind != "offline")
    assert kpis["cost"] == pytest.approx(paid / 3600 * demo_wfm.COST_PER_AGENT_HOUR)
    assert kpis["cost_per_call"] == pytest.approx(kpis["cost"] / kpis["calls_handled"])


def test_money_line_of_the_costly_tag_is_within_10_percent(demo_db) -> None:  # type: ignore[no-untyped-def]
    """With the generator's own phenomena as tags (perfect tags: recall 1, so no mis-tagging
    correction; the pipeline's own tags are ``tests/test_demo_money.py``), the estimated
    monthly cost of re-explain is within 10 % of the built-in one."""
    _url, engine = demo_db
    generated = build_calls()
    tags = {c.call_id: set(c.phenomena) for c in generated}
    with Session(engine) as session:
        calls, surveys = load_facts(session)
        workforce = load_workforce(session)
    kpis = compute_kpis(calls, surveys, workforce=workforce)
    window = default_window(calls)
    assert window is not None
    days = (window[1] - window[0]).total_seconds() / 86400
    prices = Prices(days, int(kpis["calls_handled"] or 0), kpis["cost_per_call"],
                    hourly_cost(workforce, window), "USD")  # fmt: skip
    analyses = {
        outcome: analyse(frame_from_facts(calls, surveys, tags, outcome=outcome), assume_recall=1)
        for outcome in ("repeat", "aht")
    }
    lines = {m.tag: m for m in price_drivers(analyses["repeat"], analyses["aht"], prices)}
    line = lines["re-explain"]
    built_in = demo_wfm.built_in_cost(generated)
    assert line.cost == pytest.approx(built_in, rel=0.10)
    assert line.line.startswith("re-explain: about ")
    assert "agent-hours a month, about" in line.line and "USD per month (assumes" in line.line


def test_why_outcome_cost_command(demo_db) -> None:  # type: ignore[no-untyped-def]
    url, _engine = demo_db
    result = CliRunner().invoke(app, ["why", "--db", url, "--outcome", "cost"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert "a month, about" in first and "(assumes" in first
    bad = CliRunner().invoke(app, ["why", "--db", url, "--outcome", "cost", "--by", "team"])
    assert bad.exit_code == 1
    as_json = CliRunner().invoke(app, ["why", "--db", url, "--outcome", "cost", "--format", "json"])
    data = json.loads(as_json.output)
    assert data["prices"]["cost_per_agent_hour"] == demo_wfm.COST_PER_AGENT_HOUR
    assert data["prices"]["currency"] == "USD"
    assert {"tag", "extra_calls", "extra_agent_hours", "cost", "line"} <= set(data["drivers"][0])
