"""The survey-bias check and the weighted survey KPIs on the bundled demo exports.

The demo builds in one real difference (Team South's customers answer more often than
Team North's: ``qa.demo.surveys``); comment tags, which only respondents can have, must never be
flagged. The exports are ingested without transcription; comment tags are added the way
the tagger stores them (``source="comment"``), plus a few transcript tags.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from qa.ingest.exports import ingest_calls, ingest_surveys
from qa.ingest.records import IngestOptions
from qa.report.insights import build_insights
from qa.report.sections import bias_html
from qa.store.engine import make_engine
from qa.store.schema import Call, Survey, Tag

DEMO = Path(__file__).resolve().parents[1] / "qa" / "demo" / "data"
WORDS = {"re-explain": "explain", "transfer": "transfer", "unresolved": "still"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("survey-bias") / "demo.db"
    engine = make_engine(str(path))
    options = IngestOptions(recordings_root=DEMO, max_date=datetime(9999, 1, 1))
    with Session(engine) as session:
        ingest_calls(DEMO / "calls.csv", session=session, options=options)
        ingest_surveys(DEMO / "surveys.csv", session=session, options=options)
        ids = dict(session.exec(select(Call.external_id, Call.id)).all())
        for survey in session.exec(select(Survey)).all():
            for tag, word in WORDS.items():
                if word in (survey.comment or "").lower():
                    session.add(Tag(call_id=ids[survey.call_external_id], tag=tag,
                                    source="comment", evidence=word))  # fmt: skip
        for n, call_id in enumerate(sorted(ids.values())):
            if n % 9 == 0:  # transcript tags exist for respondents and the rest alike
                session.add(Tag(call_id=call_id, tag="agent-praise", source="transcript",
                                turn_index=1, evidence="thanks"))  # fmt: skip
        session.commit()
    engine.dispose()
    return path


def test_bias_check_flags_the_team_mix_and_no_comment_tag(demo_db: Path) -> None:
    engine = make_engine(str(demo_db))
    try:
        insights = build_insights(engine, outcomes=())
    finally:
        engine.dispose()
    bias = insights.bias
    flagged = {r.feature for r in bias.rows if r.significant}
    assert flagged == {"team"}
    assert not flagged & set(WORDS)  # comment tags are not compared at all
    assert "agent-praise" in {r.feature for r in bias.rows}  # a transcript tag is
    assert next(r for r in bias.rows if r.feature == "team").q_value < 1e-3
    html = bias_html(insights)
    assert "never comment tags" in html and "team mix differs" in html
    assert "Survey KPIs weighted for who answers" in html
    weighting = insights.weighting
    assert weighting is not None and weighting.response.modelled
    assert weighting.response.n_respondents == 157  # the demo has no survey on an abandoned call
    assert set(weighting.kpis) >= {"csat_mean_weighted", "nps_weighted", "survey_ess"}
    assert insights.kpis["csat_mean_weighted"] == weighting.kpis["csat_mean_weighted"]
    assert re.search(r"raw \(respondents\).*weighted \(all callers\)", html)


def test_kpis_json_has_the_weighted_keys_overall_and_by_group(demo_db: Path) -> None:
    from qa.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["kpis", "--format", "json", "--db", str(demo_db)])
    assert out.exit_code == 0, out.output
    kpis = json.loads(out.stdout)
    for key in ("csat_mean_weighted", "csat_pct_weighted", "nps_weighted", "ces_mean_weighted"):
        assert kpis[key] is not None
        assert kpis[f"{key}_ci_low"] < kpis[key] < kpis[f"{key}_ci_high"]
    assert 0 < kpis["survey_ess"] < 157
    by = runner.invoke(app, ["kpis", "--by", "team", "--format", "json", "--db", str(demo_db)])
    rows = json.loads(by.stdout)
    assert {row["group"] for row in rows if row["csat_mean_weighted"] is not None} == {
        "Team North",
        "Team South",
    }  # the third group (calls without a team) has no survey: null, like its csat_mean
    table = runner.invoke(app, ["kpis", "--by", "queue", "--db", str(demo_db)])
    assert "csat_pct_weighted" in table.stdout and "_ci_low" not in table.stdout


def test_why_weighted(demo_db: Path) -> None:
    from qa.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["why", "--weighted", "--db", str(demo_db)])
    assert out.exit_code == 0, out.output
    assert "weighted least squares for who answers" in out.stdout
    bad = runner.invoke(app, ["why", "--outcome", "aht", "--weighted", "--db", str(demo_db)])
    assert bad.exit_code == 1 and "choose one of: csat, nps, ces, fcr" in bad.output
