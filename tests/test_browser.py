"""The review UI in a real browser: Debian's chromium driven by Playwright.

Opens the page, finds a known call in the list, opens calls (row click and the id box),
checks agent / customer turns and a ``<mark>`` highlight, rejects a tag through the
dropdown + button, waits for the status message and checks the human row in the database.
Set ``QA_SCREENSHOT=path.png`` to save a screenshot of the call detail view.

Skipped only when chromium or Playwright is missing outside CI; in CI that is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import select

from qa.store.engine import make_engine, session_scope
from qa.store.schema import Decision, Tag
from tests.ui_fixtures import REVIEWER, chromium_page, launched, populate, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = tmp_path_factory.mktemp("browser")
    engine = make_engine(str(tmp / "qa.db"))
    ids = populate(engine, recordings_dir=tmp / "recordings")
    with launched(engine) as demo:
        yield demo.local_url, engine, ids


def test_review_flow_in_chromium(app):
    url, engine, ids = app
    cid = ids["C-1001"]
    with chromium_page(1400, 1000) as page:
        sign_in(page, url, REVIEWER)
        page.locator("#calls-table").get_by_text("C-1001", exact=True).wait_for()
        assert "callqa review" in page.title()

        # selecting a row opens that call
        page.locator("#calls-table").get_by_text("C-1003", exact=True).click()
        page.locator("#call-header").get_by_text("C-1003").wait_for()

        # the id box + Open button
        page.locator("#call-id input").fill(str(cid))
        page.locator("#open-call").click()
        page.locator("#call-header").get_by_text("C-1001").wait_for()
        transcript = page.locator("#transcript")
        transcript.locator("mark[data-tag='re-explain']").wait_for()
        assert transcript.locator(".qa-turn.agent").count() == 3
        assert transcript.locator(".qa-turn.customer").count() == 2
        assert "Agent" in transcript.locator(".qa-turn.agent").first.inner_text()
        assert "Customer" in transcript.locator(".qa-turn.customer").first.inner_text()
        mark = transcript.locator("mark[data-tag='re-explain']")
        assert mark.inner_text() == "explain this again"
        # stored text is escaped, not interpreted as HTML
        assert transcript.locator("b").count() == 0
        assert "<b>agent</b> & nobody" in transcript.inner_text()
        assert page.locator("#call-header").inner_text().count("Dana Reyes") == 1

        # reject the "transfer" tag through the dropdown and the button
        page.locator("#tag-choice input").click()
        page.locator("[role=option][aria-label='transfer (whole call)']").click()
        page.locator("#reject-tag").click()
        page.locator("#status").get_by_text("Rejected").wait_for()
        assert "transfer" in page.locator("#status").inner_text()
        transcript.locator("mark.rejected[data-tag='transfer']").wait_for()
        page.locator("#tags .qa-dec.rejected").first.wait_for()
        if shot := os.environ.get("QA_SCREENSHOT"):
            Path(shot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=shot, full_page=True)

    with session_scope(engine) as s:
        rows = s.exec(select(Tag).where(Tag.call_id == cid, Tag.tag == "transfer")).all()
        assert [(t.method, t.present) for t in rows] == [("model", True)]
        (d,) = s.exec(select(Decision).where(Decision.call_id == cid)).all()
        assert (d.tag, d.present, d.source) == ("transfer", False, None)
