"""The HTML report: every section, real charts, call links into the UI, nothing external."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from qa.report.insights import build_insights, build_report, resolve_call_ref, write_report
from qa.store.calltags import refresh_call_tags
from qa.store.engine import make_engine
from qa.store.schema import Call, Cluster, Tag
from tests.synthetic import make_synthetic

UI = "http://qa-ui.example:7861"
START = datetime(2026, 10, 5)
SECTIONS = ("kpis", "actions", "trends", "drivers", "themes", "repeats", "bias")


def _seed(engine) -> None:  # type: ignore[no-untyped-def]
    """500 synthetic calls over three weeks, plus two callback promises: one kept by an
    outbound call, one broken."""
    data = make_synthetic(500, seed=4, start=START, days=21)
    with Session(engine) as s:
        data.insert(s)
        calls = s.exec(select(Call).order_by(Call.started_at)).all()
        kept, broken = calls[10], calls[20]
        for c in (kept, broken):
            s.add(Tag(call_id=c.id, tag="callback-promised", method="rule", evidence="call back"))
        s.flush()
        refresh_call_tags(s, [kept.id, broken.id])  # as every writer of hits does
        s.add(
            Call(
                external_id="OUT-1",
                started_at=kept.started_at + timedelta(hours=3),
                customer_id=kept.customer_id,
                direction="outbound",
                team=kept.team,
                queue=kept.queue,
                talk_seconds=90.0,
            )
        )
        s.commit()


@pytest.fixture(scope="module")
def engine(tmp_path_factory):  # type: ignore[no-untyped-def]
    eng = make_engine(str(tmp_path_factory.mktemp("report") / "qa.db"))
    _seed(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def html(engine) -> str:  # type: ignore[no-untyped-def]
    return build_report(engine, ui_url=UI)


def test_report_has_every_section_and_real_charts(html):
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in html and f'href="#{anchor}"' in html
    assert html.startswith("<!doctype html>") and html.endswith("</html>")
    charts = re.findall(r'<img class="chart[^"]*" alt="[^"]*" src="data:image/png;base64,', html)
    assert len(charts) >= 2  # daily trends + at least one driver impact chart
    assert 'data-kpi="csat_mean"' in html and 'data-kpi="abandonment_rate"' in html
    assert "CSAT mean (1-5)" in html and "re-explain" in html  # the driver table
    assert "No themes yet" in html


def test_report_is_self_contained(html):
    urls = re.findall(r"https?://[^\s\"'<>)]*", html)
    assert urls and all(u.startswith(UI + "/") for u in urls), set(urls) - {UI}
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert all(
        src.startswith("data:image/png;base64,") for src in re.findall(r'src="([^"]*)"', html)
    )


def test_call_links_open_the_ui(engine, html):
    links = re.findall(rf'href="{re.escape(UI)}/\?call=([^"]+)"', html)
    assert len(links) > 20
    with Session(engine) as s:
        known = set(s.exec(select(Call.external_id)))
    assert set(links) <= known
    assert f'href="{UI}/"' in html  # the header button


def test_triggers_repeats_and_promises_in_the_report(engine, html):
    insights = build_insights(engine)
    assert insights.triggers  # synthetic CSAT is below 4.0
    first = insights.triggers[0]
    assert (first.scope, first.metric) == ("overall", "csat_mean") and len(first.call_ids) == 20
    assert all(f"?call={cid}" in html for cid in first.call_ids)
    assert [p.status for p in insights.repeats.promises] == ["kept", "broken"]
    broken = insights.repeats.broken_promises[0].call_id
    assert "Callback promises: 1 broken, 1 kept" in html and f"?call={broken}" in html
    assert insights.kpis["repeat_contact_rate"] == insights.repeats.summary.repeat_rate
    assert "Latest repeat contacts" in html and "Which first-call tags predict a repeat" in html
    assert "surveyed" in html and "response rate" in html


def test_period_comparison_and_validation(engine):
    since, until = START + timedelta(days=14), START + timedelta(days=21)
    insights = build_insights(engine, since=since, until=until, outcomes=())
    assert insights.previous_kpis is not None and insights.comparison == "vs the previous 7 days"
    assert all(since <= datetime.fromisoformat(r["group"]) < until for r in insights.daily)
    with pytest.raises(ValueError, match="must be after --since"):
        build_insights(engine, since=until, until=since, outcomes=())
    with pytest.raises(ValueError, match="choose 24 to 72 hours"):
        build_insights(engine, window_hours=12, outcomes=())


def test_themes_and_empty_database(tmp_path):
    engine = make_engine(str(tmp_path / "empty.db"))
    html = build_report(engine, ui_url=UI)
    assert "No calls in this period" in html and "No trigger fired" in html
    with Session(engine) as s:
        s.add(Cluster(label="router keeps dropping", keywords=["router", "wifi"], size=12))
        s.commit()
    out = tmp_path / "nested" / "report.html"
    insights = write_report(engine, out, ui_url=UI)
    text = out.read_text(encoding="utf-8")
    assert insights.themes[0].label == "router keeps dropping"
    assert "router keeps dropping" in text and "router, wifi" in text
    engine.dispose()


def test_resolve_call_ref(engine):
    with Session(engine) as s:
        first = s.exec(select(Call).order_by(Call.id)).first()
        assert resolve_call_ref(s, first.external_id) == first.id
        assert resolve_call_ref(s, str(first.id)) == first.id
        assert resolve_call_ref(s, "nope") is None and resolve_call_ref(s, "") is None


def test_report_command_writes_the_file(engine, tmp_path):
    import typer
    from typer.testing import CliRunner

    from qa.commands.report import report

    app = typer.Typer()
    app.command(name="report")(report)
    app.command(name="noop")(lambda: None)  # two commands: "report" stays a sub-command
    db = str(engine.url).removeprefix("sqlite:///")
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        app, ["report", "--db", db, "--out", str(out), "--ui-url", UI, "--since", "2026-10-19"]
    )
    assert result.exit_code == 0, result.output
    assert f"report written to {out}" in result.output and "<!doctype html>" in out.read_text()
    bad = CliRunner().invoke(app, ["report", "--db", db, "--window-hours", "100"])
    assert bad.exit_code == 1 and "choose 24 to 72 hours" in bad.output
    bad = CliRunner().invoke(app, ["report", "--db", db, "--ui-url", "localhost:7860"])
    assert bad.exit_code == 1 and "must start with http" in bad.output


def test_trend_chart_of_a_single_day_draws_without_warnings() -> None:
    """One day of data gives the date axis no width; matplotlib would warn (an error here)."""
    from qa.report.charts import trend_chart

    row = {"group": "2026-11-02", "csat_mean": 4.0, "aht_seconds": 300.0, "calls_offered": 10,
           "calls_handled": 9, "abandonment_rate": 0.1}  # fmt: skip
    uri = trend_chart([row], csat_threshold=4.0, abandon_threshold=0.08)
    assert uri is not None and uri.startswith("data:image/png;base64,")
