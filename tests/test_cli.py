"""The ``qa`` command line: help text, exit codes, output formats, light imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app

runner = CliRunner()
COMMANDS = ["init", "ingest", "transcribe", "tag", "kpis", "serve", "nightly", "demo"]
CALLS = (
    "call_id,started_at,agent_id,team,queue,customer_id,wait_seconds,talk_seconds,"
    "hold_seconds,acw_seconds,abandoned,transferred,recording\n"
    "C1,2026-11-02T09:00:00,A1,North,billing,K1,10,300,60,40,no,no,\n"
    "C2,2026-11-02T10:00:00,A2,South,tech,K2,30,200,0,20,no,yes,\n"
    "C3,2026-11-05T10:00:00,,,tech,K3,90,0,0,0,yes,no,\n"
)
SURVEYS = "call_id,csat,nps,ces,fcr,comment\nC1,5,10,2,yes,great\nC2,2,3,6,no,\nC9,11,,,,bad\n"


def test_every_command_has_help() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0, sub.output
        assert "Usage" in sub.output


def test_importing_the_cli_stays_light() -> None:
    code = (
        "import sys, qa.cli; heavy = [m for m in ('torch', 'gradio', 'spacy', 'faster_whisper',"
        " 'sentence_transformers') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ingest_and_kpis_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_REDACTION", "off")  # redaction has its own tests; keep this fast
    db = str(tmp_path / "cli.db")
    (tmp_path / "calls.csv").write_text(CALLS)
    (tmp_path / "surveys.csv").write_text(SURVEYS)
    args = ["ingest", "--calls", str(tmp_path / "calls.csv"), "--db", db]
    result = runner.invoke(app, [*args, "--surveys", str(tmp_path / "surveys.csv")])
    assert result.exit_code == 2, result.output  # the C9 survey row is out of range
    assert "surveys.csv:4: csat: '11' is out of range" in result.output
    assert (tmp_path / "surveys.rejects.csv").exists()
    assert runner.invoke(app, args).exit_code == 0  # calls alone: all good, idempotent

    out = runner.invoke(app, ["kpis", "--db", db, "--format", "json"])
    assert out.exit_code == 0, out.output
    kpis = json.loads(out.stdout)
    assert kpis["calls_offered"] == 3 and kpis["calls_handled"] == 2
    assert kpis["aht_seconds"] == pytest.approx((400 + 220) / 2)
    assert kpis["abandonment_rate"] == pytest.approx(1 / 3)
    assert kpis["csat_pct"] == pytest.approx(0.5) and kpis["nps"] == pytest.approx(0.0)

    by = runner.invoke(app, ["kpis", "--db", db, "--by", "team", "--format", "json"])
    groups = {row["group"]: row for row in json.loads(by.stdout)}
    assert groups["North"]["csat_mean"] == 5 and groups["South"]["transfer_rate"] == 1.0

    since = runner.invoke(app, ["kpis", "--db", db, "--since", "2026-11-03", "--format", "json"])
    assert json.loads(since.stdout)["calls_offered"] == 1
    table = runner.invoke(app, ["kpis", "--db", db])
    assert table.exit_code == 0 and "33.3%" in table.stdout
    csv_out = runner.invoke(app, ["kpis", "--db", db, "--by", "queue", "--format", "csv"])
    assert csv_out.stdout.splitlines()[0].startswith("group,")


def test_bad_input_gives_clear_errors_and_exit_1(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    result = runner.invoke(app, ["ingest", "--db", db])
    assert result.exit_code == 1 and "nothing to ingest" in result.output
    result = runner.invoke(app, ["ingest", "--calls", str(tmp_path / "missing.csv"), "--db", db])
    assert result.exit_code == 1 and "file not found" in result.output
    result = runner.invoke(app, ["kpis", "--by", "planet", "--db", db])
    assert result.exit_code == 2 and "agent" in result.output and "week" in result.output
    result = runner.invoke(app, ["kpis", "--since", "last tuesday", "--db", db])
    assert result.exit_code == 1 and "not an ISO 8601 timestamp" in result.output
    (tmp_path / "calls.csv").write_text(CALLS)
    bad_map = ["ingest", "--calls", str(tmp_path / "calls.csv"), "--map", "when=Start", "--db", db]
    result = runner.invoke(app, bad_map)
    assert result.exit_code == 1 and "unknown column 'when'; valid: call_id" in result.output
    result = runner.invoke(app, ["nightly", str(tmp_path / "nowhere"), "--db", db])
    assert result.exit_code == 1 and "calls.csv: file not found" in result.output
