"""Workforce KPIs (occupancy, utilization, adherence, cost per call) on a hand-computed week,
and ingest of ``agent_states.csv`` / ``schedule.csv`` / ``costs.csv`` with its rejects."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from qa.cli import app
from qa.ingest.exports import ingest_calls
from qa.ingest.wfm import (
    ingest_agent_states,
    ingest_costs,
    ingest_schedule,
    set_cost_per_agent_hour,
)
from qa.ingest.wfm_records import parse_state_map
from qa.metrics.facts import load_facts, load_workforce
from qa.metrics.kpis import compute_kpis, compute_kpis_by
from qa.store.engine import make_engine
from qa.store.schema import AgentState

CALLS = [
    "call_id,started_at,agent_id,agent_name,team,queue,customer_id,direction,"
    "wait_seconds,talk_seconds,hold_seconds,acw_seconds,abandoned,transferred,recording",
    "C1,2026-11-02T09:30:00,A1,Ann,North,billing,K1,inbound,5,600,300,300,no,no,",
    "C2,2026-11-02T10:05:00,A1,Ann,North,billing,K2,inbound,5,60,0,0,no,no,",
    "C3,2026-11-03T13:00:00,A2,Bob,South,tech,K3,inbound,5,1200,0,600,no,no,",
    "C4,2026-11-03T13:40:00,,,,tech,K4,inbound,90,0,0,0,yes,no,",
]
# Ann (A1) on Monday: handle 600 + 300 + 300 = 1200 s, available 1800 + 1800 = 3600 s, paid
# (all but offline) 5400 s. Bob (A2) on Tuesday: handle 1800, available 1800, paid 3600.
STATES = [
    "agent_id,state,started_at,ended_at",
    "A1,available,2026-11-02T09:00:00,2026-11-02T09:30:00",
    "A1,on_call,2026-11-02T09:30:00,2026-11-02T09:40:00",
    "A1,hold,2026-11-02T09:40:00,2026-11-02T09:45:00",
    "A1,acw,2026-11-02T09:45:00,2026-11-02T09:50:00",
    "A1,break,2026-11-02T09:50:00,2026-11-02T10:00:00",
    "A1,available,2026-11-02T10:00:00,2026-11-02T10:30:00",
    "A1,offline,2026-11-02T10:30:00,2026-11-02T11:00:00",
    "A2,on_call,2026-11-03T13:00:00,2026-11-03T13:20:00",
    "A2,acw,2026-11-03T13:20:00,2026-11-03T13:30:00",
    "A2,available,2026-11-03T13:30:00,2026-11-03T14:00:00",
]
# Ann's schedule: work 09:00-10:00 (in a work state 09:00-09:50: 3000 s), break 10:00-10:15
# (she was available: 0 s), work 10:15-11:00 (available to 10:30: 900 s) -> 3900 / 7200.
# Bob: work 13:00-14:00, all of it in work states -> 3600 / 3600.
SCHEDULE = [
    "agent_id,activity,started_at,ended_at",
    "A1,work,2026-11-02T09:00:00,2026-11-02T10:00:00",
    "A1,break,2026-11-02T10:00:00,2026-11-02T10:15:00",
    "A1,work,2026-11-02T10:15:00,2026-11-02T11:00:00",
    "A2,work,2026-11-03T13:00:00,2026-11-03T14:00:00",
]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'wfm.db'}"
    engine = make_engine(url)
    with Session(engine) as session:
        ingest_calls(write(tmp_path / "calls.csv", CALLS), session=session)
        reports = [
            ingest_agent_states(write(tmp_path / "agent_states.csv", STATES), session=session),
            ingest_schedule(write(tmp_path / "schedule.csv", SCHEDULE), session=session),
        ]
        set_cost_per_agent_hour(session, 30.0, "usd")
    assert all(not r.rejects and r.inserted for r in reports)
    return url


def _kpis(url: str, *args: str) -> object:
    result = CliRunner().invoke(app, ["kpis", "--db", url, "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_hand_computed_week_overall(db: str) -> None:
    kpis = _kpis(db)
    assert kpis["occupancy"] == pytest.approx(3000 / (3000 + 5400))
    assert kpis["utilization"] == pytest.approx(3000 / 9000)
    assert kpis["schedule_adherence"] == pytest.approx(7500 / 10800)
    # 30 an hour x 2.5 paid hours = 75, over 3 handled calls.
    assert kpis["cost"] == pytest.approx(75.0)
    assert kpis["cost_per_call"] == pytest.approx(25.0)


def test_hand_computed_week_by_agent_team_queue_day(db: str) -> None:
    by_agent = {row["group"]: row for row in _kpis(db, "--by", "agent")}  # type: ignore[attr-defined]
    ann, bob = by_agent["A1"], by_agent["A2"]
    assert ann["occupancy"] == pytest.approx(0.25)
    assert ann["utilization"] == pytest.approx(1200 / 5400)
    assert ann["schedule_adherence"] == pytest.approx(3900 / 7200)
    assert ann["cost_per_call"] == pytest.approx(45.0 / 2)
    assert (bob["occupancy"], bob["utilization"], bob["schedule_adherence"]) == (0.5, 0.5, 1.0)
    assert bob["cost_per_call"] == pytest.approx(30.0)
    # The abandoned call has no agent: its group has no states and no handled call.
    assert by_agent[""]["occupancy"] is None and by_agent[""]["cost_per_call"] is None
    teams = {row["group"]: row for row in _kpis(db, "--by", "team")}  # type: ignore[attr-defined]
    assert teams["North"]["occupancy"] == pytest.approx(0.25)
    assert teams["South"]["utilization"] == pytest.approx(0.5)
    queues = {row["group"]: row for row in _kpis(db, "--by", "queue")}  # type: ignore[attr-defined]
    assert queues["billing"]["schedule_adherence"] == pytest.approx(3900 / 7200)
    assert queues["tech"]["cost"] == pytest.approx(30.0)
    days = {row["group"]: row for row in _kpis(db, "--by", "day")}  # type: ignore[attr-defined]
    assert days["2026-11-02"]["occupancy"] == pytest.approx(0.25)
    assert days["2026-11-03"]["cost_per_call"] == pytest.approx(30.0)  # 1 handled of 2
    week = _kpis(db, "--by", "week")[0]  # type: ignore[index]
    assert week["utilization"] == pytest.approx(3000 / 9000)


def test_cost_per_call_from_costs_csv_is_prorated(db: str, tmp_path: Path) -> None:
    costs = write(tmp_path / "costs.csv", [
        "period_start,period_end,amount,currency",
        "2026-11-02T00:00:00,2026-11-09T00:00:00,700,USD",
    ])  # fmt: skip
    with Session(make_engine(db)) as session:
        report = ingest_costs(costs, session=session)
    assert report.inserted == 1 and not report.rejects
    # A period cost wins over the hourly rate; 700 over 7 days, the calls span 2 of them.
    assert _kpis(db)["cost_per_call"] == pytest.approx(200 / 3)
    whole = _kpis(db, "--since", "2026-11-02", "--until", "2026-11-09")
    assert whole["cost"] == pytest.approx(700.0)
    assert whole["cost_per_call"] == pytest.approx(700 / 3)


def test_without_workforce_exports_the_kpis_are_null(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bare.db'}")
    with Session(engine) as session:
        ingest_calls(write(tmp_path / "calls.csv", CALLS), session=session)
        calls, surveys = load_facts(session)
        workforce = load_workforce(session)
    kpis = compute_kpis(calls, surveys, workforce=workforce)
    keys = ("occupancy", "utilization", "schedule_adherence", "cost", "cost_per_call")
    assert [kpis[k] for k in keys] == [None] * 5
    assert all(row[k] is None for row in compute_kpis_by(calls, surveys, "agent") for k in keys)


def test_overlapping_and_out_of_order_intervals_reject_that_agents_rows(
    db: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "more_states.csv", [
        "agent_id,state,started_at,ended_at",
        "A3,available,2026-11-04T09:00:00,2026-11-04T09:30:00",
        "A3,on_call,2026-11-04T09:20:00,2026-11-04T09:40:00",
        "A3,acw,2026-11-04T09:40:00,2026-11-04T09:45:00",
        "A4,available,2026-11-04T10:00:00,2026-11-04T09:00:00",
        "A4,on_call,2026-11-04T10:00:00,2026-11-04T10:10:00",
        "A1,available,2026-11-02T10:45:00,2026-11-02T11:15:00",
    ])  # fmt: skip
    with Session(make_engine(db)) as session:
        report = ingest_agent_states(path, session=session)
        a3 = session.exec(select(AgentState).where(AgentState.agent_id == "A3")).all()
    lines = report.lines()
    assert f"{path}:3: started_at: interval overlaps line 2 of agent 'A3'" in lines
    assert any(line.startswith(f"{path}:4: agent_id: agent 'A3' has overlapping") for line in lines)
    assert any(f"{path}:5: ended_at:" in line and "out-of-order" in line for line in lines)
    # A1's new row overlaps the offline interval stored by the first ingest.
    assert any(f"{path}:7: started_at:" in line and "stored" in line for line in lines)
    assert a3 == [] and report.inserted == 1  # A4's good row
    assert report.rejects_path is not None and report.rejects_path.exists()


def test_unknown_state_lists_the_valid_ones_and_state_map_maps_wfm_names(
    db: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "wfm_states.csv", [
        "Agent,Status,From,To",
        "A5,Ready,2026-11-05T09:00:00,2026-11-05T09:30:00",
        "A5,Talking,2026-11-05T09:30:00,2026-11-05T09:40:00",
        "A5,Wrap Up,2026-11-05T09:40:00,2026-11-05T09:45:00",
    ])  # fmt: skip
    mapping = {"agent_id": "Agent", "state": "Status", "started_at": "From", "ended_at": "To"}
    with Session(make_engine(db)) as session:
        plain = ingest_agent_states(path, session=session, mapping=mapping)
        names = parse_state_map(["Ready=available", "Talking=on_call", "wrap-up=acw"])
        mapped = ingest_agent_states(path, session=session, mapping=mapping, state_map=names)
    assert len(plain.rejects) == 3
    assert plain.rejects[0].reason == (
        "state: 'Ready' is not a known state; valid: available, on_call, acw, hold, break,"
        " offline (map export names with --state-map NAME=available)"
    )
    assert mapped.inserted == 3 and not mapped.rejects
    with pytest.raises(ValueError, match="valid: available, on_call"):
        parse_state_map(["Ready=idle"])


def test_ingest_command_takes_the_workforce_files(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["ingest", "--db", url, "--calls", str(write(tmp_path / "calls.csv", CALLS)),
            "--agent-states", str(write(tmp_path / "agent_states.csv", STATES)),
            "--schedule", str(write(tmp_path / "schedule.csv", SCHEDULE)),
            "--cost-per-agent-hour", "30"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert _kpis(url)["cost_per_call"] == pytest.approx(25.0)  # type: ignore[index]


def test_report_and_insights_tiles_show_them(db: str) -> None:
    from qa.report.html import kpi_tiles_html
    from qa.report.insights import build_insights

    insights = build_insights(make_engine(db))
    tiles = kpi_tiles_html(insights)
    assert 'data-kpi="occupancy"><div class="v">35.7%</div>' in tiles
    assert 'data-kpi="utilization"><div class="v">33.3%</div>' in tiles
    assert 'data-kpi="schedule_adherence"><div class="v">69.4%</div>' in tiles
    assert 'data-kpi="cost_per_call"><div class="v">25.00</div>' in tiles
    assert [d["occupancy"] for d in insights.daily] == [0.25, 0.5]


def test_insights_tab_shows_the_tiles(db: str) -> None:
    from review_ui.insights import render_insights

    parts = render_insights(make_engine(db), None, None)
    assert 'data-kpi="schedule_adherence"><div class="v">69.4%</div>' in parts[1]


def test_occupancy_adherence_and_cost_triggers(db: str) -> None:
    from qa.metrics.kpis import filter_calls
    from qa.metrics.triggers import TriggerThresholds, evaluate_triggers

    with Session(make_engine(db)) as session:
        calls, surveys = load_facts(session)
        workforce = load_workforce(session)
    th = TriggerThresholds(min_calls=1, occupancy_max=0.4, scopes=("overall", "team"))
    fired = evaluate_triggers(calls, surveys, thresholds=th, workforce=workforce)
    found = {(t.scope, t.group, t.metric) for t in fired}
    assert ("team", "North", "schedule_adherence") in found  # 54 % < 90 %
    assert ("team", "South", "occupancy") in found  # 50 % > 40 %
    assert ("team", "South", "schedule_adherence") not in found
    monday = filter_calls(calls, None, datetime(2026, 11, 3))
    tuesday = filter_calls(calls, datetime(2026, 11, 3), None)
    rising = evaluate_triggers(tuesday, surveys, previous=monday, thresholds=th,
                               workforce=workforce)  # fmt: skip
    cost = [t for t in rising if t.metric == "cost_per_call" and t.scope == "overall"]
    assert cost and cost[0].previous == pytest.approx(22.5) and cost[0].value == 30.0
    assert cost[0].call_ids == ("C3",)


def test_ingest_and_kpis_on_both_backends(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        ingest_calls(write(tmp_path / "calls.csv", CALLS), session=session)
        states = write(tmp_path / "agent_states.csv", STATES)
        first = ingest_agent_states(states, session=session)
        again = ingest_agent_states(states, session=session)
        ingest_schedule(write(tmp_path / "schedule.csv", SCHEDULE), session=session)
        set_cost_per_agent_hour(session, 30.0)
        set_cost_per_agent_hour(session, 30.0)  # replaced, not added
        calls, surveys = load_facts(session)
        workforce = load_workforce(session)
    assert (first.inserted, again.unchanged) == (10, 10)
    kpis = compute_kpis(calls, surveys, workforce=workforce)
    assert kpis["schedule_adherence"] == pytest.approx(7500 / 10800)
    assert kpis["cost_per_call"] == pytest.approx(25.0)


def test_an_agent_without_states_has_unknown_cost_not_zero(db: str, tmp_path: Path) -> None:
    costs = write(tmp_path / "costs.csv", [
        "period_start,period_end,amount,currency",
        "2026-11-02T00:00:00,2026-11-09T00:00:00,700,USD",
        "2026-11-09T00:00:00,2026-11-16T00:00:00,700,EUR",
    ])  # fmt: skip
    extra = write(tmp_path / "calls2.csv", [CALLS[0], "C5,2026-11-03T15:00:00,A9,Ida,South,tech,K9,"
                                           "inbound,5,100,0,0,no,no,"])  # fmt: skip
    with Session(make_engine(db)) as session:
        ingest_calls(extra, session=session)
        report = ingest_costs(costs, session=session)
    assert report.inserted == 1 and "currency: 'EUR' differs from 'USD'" in report.rejects[0].reason
    by_agent = {row["group"]: row for row in _kpis(db, "--by", "agent")}  # type: ignore[attr-defined]
    assert by_agent["A9"]["cost"] is None and by_agent["A9"]["occupancy"] is None
    assert by_agent["A9"]["schedule_adherence"] is None
    assert by_agent["A1"]["cost"] == pytest.approx(200 * 5400 / 9000)


def test_new_tables_are_created_on_an_older_database(tmp_path: Path) -> None:
    """A database of the previous release (tests/data) gets the workforce tables on open."""
    import shutil

    from sqlalchemy import inspect

    old = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent / "data" / "release-d877b09.db", old)
    tables = set(inspect(make_engine(f"sqlite:///{old}")).get_table_names())
    assert {"agentstate", "scheduleblock", "costentry"} <= tables
