"""The Insights tab (through gradio_client) and ``?call=`` deep links (handler and browser)."""

from __future__ import annotations

import os
from datetime import datetime
from types import SimpleNamespace

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
from sqlmodel import Session

from qa.store.engine import make_engine
from tests.synthetic import make_synthetic
from tests.ui_fixtures import chromium_page, launched, populate, sign_in, ui_client


@pytest.fixture(scope="module")
def served(tmp_path_factory):  # type: ignore[no-untyped-def]
    engine = make_engine(str(tmp_path_factory.mktemp("insights") / "qa.db"))
    ids = populate(engine)
    with Session(engine) as s:
        make_synthetic(300, seed=5, start=datetime(2024, 5, 6), days=14).insert(s)
    with launched(engine) as demo:
        yield demo, engine, ids


@pytest.fixture(scope="module")
def client(served):  # type: ignore[no-untyped-def]
    return ui_client(served[0])


def test_app_has_review_and_insights_tabs(served):
    demo, _, _ = served
    names = {d.api_name for d in demo.fns.values() if d.api_name}
    assert {"list_calls", "open_call", "confirm_tag", "insights"} <= names
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    assert {
        "review-tab",
        "insights-tab",
        "insights-kpis",
        "insights-actions",
        "insights-drivers",
        "insights-repeats",
        "calls-table",
    } <= ids


def test_insights_endpoint(client):
    status, kpis, actions, drivers, repeats, trends, themes, bias, scores, rules = client.predict(
        "", "", api_name="/insights"
    )
    assert "304 calls" in status and "actions" in status
    assert 'data-kpi="csat_mean"' in kpis and 'class="tile"' in kpis
    assert 'class="card' in actions and 'href="?call=S' in actions  # relative deep links
    assert "re-explain" in drivers and "<table" in drivers
    assert "repeat-contact rate" in repeats and "data:image/png;base64," in trends
    assert "No themes yet" in themes and "surveyed" in bias
    assert "Per agent" in scores and "Per team" in scores and "No reviewed rule hits" in rules
    status, kpis, *_ = client.predict("yesterday", "", api_name="/insights")
    assert status.startswith("**Not computed:**") and "since" in status and kpis == ""


def test_insights_are_served_until_the_data_changes(served, client):
    """The second look is the stored result (the status says so, the numbers are the same);
    a new call makes the next look compute again."""
    from qa.store.schema import Call

    _, engine, _ = served
    first = client.predict("2024-05-06", "2024-05-20", api_name="/insights")
    again = client.predict("2024-05-06", "2024-05-20", api_name="/insights")
    assert "computed at" in first[0] and "stored result of" in again[0]
    assert first[1:] == again[1:]
    with Session(engine) as s:
        s.add(Call(external_id="LATE-1", started_at=datetime(2024, 5, 7, 9), talk_seconds=60.0))
        s.commit()
    after = client.predict("2024-05-06", "2024-05-20", api_name="/insights")
    assert "computed at" in after[0]
    assert after[0].split(" calls")[0] != first[0].split(" calls")[0]  # one more call


def test_deep_link_handler_opens_call_by_external_or_database_id(served):
    from review_ui.insights import call_from_query

    _, engine, ids = served
    shown = []

    def show(cid):  # type: ignore[no-untyped-def]
        shown.append(cid)
        return ("header", "audio", "status")

    handler = call_from_query(engine, show, 3)
    assert handler(SimpleNamespace(query_params={"call": "C-1003"})) == (
        ids["C-1003"],
        "header",
        "audio",
        "status",
    )
    assert handler(SimpleNamespace(query_params={"call": str(ids["C-1002"])}))[0] == ids["C-1002"]
    assert shown == [ids["C-1003"], ids["C-1002"]]
    missing = handler(SimpleNamespace(query_params={"call": "C-9999"}))
    assert len(missing) == 4 and "no call 'C-9999'" in missing[-1]
    assert len(handler(SimpleNamespace(query_params={}))) == 4 and len(shown) == 2


@pytest.mark.browser
def test_deep_link_and_insights_tab_in_chromium(served):
    demo, _, _ = served
    with chromium_page(1400, 1200) as page:
        sign_in(page, demo.local_url, "cole")  # a coach may read everything
        page.goto(demo.local_url.rstrip("/") + "/?call=C-1003")
        page.locator("#call-header").get_by_text("C-1003").wait_for()
        page.get_by_role("tab", name="Insights").click()
        page.locator("#insights-kpis .tile").first.wait_for()
        assert page.locator("#insights-actions .card").count() >= 1
        page.locator("#insights-drivers table").first.wait_for()
        if shot := os.environ.get("QA_INSIGHTS_SCREENSHOT"):
            page.screenshot(path=shot, full_page=True)
