"""``qa calls list`` on a generated export returns exactly the calls a plain pandas filter over
the same CSVs returns, with deep links, in csv / jsonl / table form."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.store.engine import make_engine
from tests.calllist_data import build, holds_phrase

UI = "https://qa.example.test/review"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("calls-cli")
    db = str(folder / "callqa.db")
    engine = make_engine(db)
    try:
        frame = build(engine, folder / "export", n_calls=500, seed=11)
    finally:
        engine.dispose()
    return db, frame


def _run(db: str, *args: str) -> list[dict[str, str]]:
    result = CliRunner().invoke(app, ["calls", "list", "--db", db, "--format", "csv",
                                      "--ui-url", UI, *args])  # fmt: skip
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def _has(frame: pd.DataFrame, tag: str) -> pd.Series:
    return frame["tags"].map(lambda tags: tag in tags)


def _phrase(frame: pd.DataFrame, phrase: str) -> pd.Series:
    return frame["comment"].map(lambda c: holds_phrase(c, phrase)) | frame["turns"].map(
        lambda ts: any(holds_phrase(t, phrase) for t in ts)
    )


def test_filters_return_what_pandas_returns(export: tuple[str, pd.DataFrame]) -> None:
    db, f = export
    day = f.started_at.dt.normalize()
    cases = [
        (["--agent", "a02", "--tag", "long-wait", "--since", "2024-03-08", "--until",
          "2024-03-21"],
         (f.agent_id == "a02") & _has(f, "long-wait") & (day >= "2024-03-08")
         & (day <= "2024-03-21")),
        (["--csat-min", "2", "--csat-max", "3"], f.csat.between(2, 3)),
        (["--search", '"refund policy"'], _phrase(f, "refund policy")),
        (["--search", '"on hold"'], _phrase(f, "on hold")),
        (["--not-tag", "transfer", "--not-tag", "agent-praise"],
         ~_has(f, "transfer") & ~_has(f, "agent-praise")),
        (["--transferred", "--team", "East"], f.transferred & (f.team == "East")),
        (["--not-transferred", "--no-fcr"], ~f.transferred & f.fcr.eq("no")),
        (["--tag", "agent-rude", "--tag", "transfer:billing", "--unreviewed"],
         (_has(f, "agent-rude") | _has(f, "transfer:billing")) & ~f.reviewed),
    ]  # fmt: skip
    for args, mask in cases:
        rows = _run(db, *args)
        got = [r["external_id"] for r in rows]
        assert len(got) == len(set(got)), args
        assert set(got) == set(f.loc[mask, "call_id"]), args
        assert all(r["link"] == f"{UI}/?call={r['external_id']}" for r in rows)
        starts = [r["started_at"] for r in rows]
        assert starts == sorted(starts, reverse=True), args


def test_paging_limit_formats_and_errors(export: tuple[str, pd.DataFrame]) -> None:
    db, frame = export
    every = [r["external_id"] for r in _run(db, "--sort", "csat", "--asc")]
    assert len(every) == len(frame)
    page = _run(db, "--sort", "csat", "--asc", "--page", "3", "--page-size", "40")
    assert [r["external_id"] for r in page] == every[80:120]
    assert [r["external_id"] for r in _run(db, "--sort", "csat", "--asc", "--limit", "7")] == (
        every[:7]
    )
    runner = CliRunner()
    jsonl = runner.invoke(app, ["calls", "list", "--db", db, "--format", "jsonl", "--limit", "3"])
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert len(records) == 3 and isinstance(records[0]["tags"], list)
    assert records[0]["link"].startswith("http://127.0.0.1:7860/?call=")
    assert "rows 1-3 of 500 matching calls" in jsonl.stderr
    table = runner.invoke(app, ["calls", "list", "--db", db, "--limit", "2"],
                          env={"QA_UI_URL": "http://ui.test:9000"})  # fmt: skip
    assert table.exit_code == 0 and "http://ui.test:9000/?call=" in table.stdout
    bad = runner.invoke(app, ["calls", "list", "--db", db, "--sort", "colour"])
    assert bad.exit_code == 1 and "started_at, external_id" in bad.output
    bad_date = runner.invoke(app, ["calls", "list", "--db", db, "--since", "last week"])
    assert bad_date.exit_code == 1 and "YYYY-MM-DD" in bad_date.output


def test_out_file_is_written(export: tuple[str, pd.DataFrame], tmp_path: Path) -> None:
    db, _ = export
    out = tmp_path / "calls.csv"
    result = CliRunner().invoke(
        app, ["calls", "list", "--db", db, "--format", "csv", "--out", str(out), "--limit", "5"]
    )
    assert result.exit_code == 0
    assert len(list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))) == 5
