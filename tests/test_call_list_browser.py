"""The call list in a real browser: filter by agent + tag + this month, search a phrase, go
to page 3, open a result (the search is marked in the call), and reopen the copied link.

Skipped only when chromium or Playwright is missing outside CI; in CI that is a failure.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta

import pytest

from qa.store.calltags import refresh_call_tags
from qa.store.engine import make_engine, session_scope
from qa.store.schema import Call, Survey, Tag
from tests.ui_fixtures import REVIEWER, chromium_page, launched, populate, sign_in

pytestmark = pytest.mark.browser

AGENT = ("a-07", "Rosa Diaz", "North")
PHRASE = "explain my account"
MATCHING = 130  # this month, Rosa, re-explain, the phrase: pages 1-3 at 50 a page


def _add_calls(engine) -> None:  # type: ignore[no-untyped-def]
    """Rosa's calls this month (most tagged re-explain, most saying the phrase), some last
    month, and another agent's, so that each filter removes something."""
    first = date.today().replace(day=1)
    this_month = datetime(first.year, first.month, first.day, 8)
    last_month = this_month - timedelta(days=20)
    plan = (
        [(AGENT, this_month, True, True)] * MATCHING
        + [(AGENT, this_month, True, False)] * 12  # tagged, other words
        + [(AGENT, this_month, False, True)] * 9  # the phrase, not tagged
        + [(AGENT, last_month, True, True)] * 15  # last month
        + [(("a-08", "Ivo Petrov", "South"), this_month, True, True)] * 11  # another agent
    )
    with session_scope(engine) as s:
        ids = []
        for n, ((agent_id, name, team), day, tagged, says) in enumerate(plan):
            ext = f"L-{n:04d}"
            call = Call(external_id=ext, started_at=day + timedelta(minutes=7 * n),
                        agent_id=agent_id, agent_name=name, team=team, queue="billing",
                        status="tagged", talk_seconds=200.0)  # fmt: skip
            s.add(call)
            s.flush()
            comment = (f"I had to {PHRASE} twice before anyone listened." if says
                       else "The wait was long but the agent was kind.")  # fmt: skip
            s.add(Survey(call_external_id=ext, csat=2, comment=comment))
            if tagged:
                s.add(Tag(call_id=call.id, tag="re-explain", source="comment", evidence=comment,
                          span_start=0, span_end=len(comment)))  # fmt: skip
            ids.append(call.id)
        refresh_call_tags(s, ids)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    engine = make_engine(str(tmp_path_factory.mktemp("calllist") / "qa.db"))
    populate(engine)
    _add_calls(engine)
    with launched(engine) as demo:
        yield demo.local_url


def _choose(page, elem_id: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option).click()
    page.locator("body").click(position={"x": 5, "y": 5})  # close a multiselect's menu


def _count(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("#calls-count").inner_text()


def test_filter_search_page_three_open_and_share(app):
    with chromium_page(1400, 1000) as page:
        sign_in(page, app, REVIEWER)
        page.wait_for_function("document.querySelector('#calls-count').innerText.includes('of')")
        _choose(page, "filter-agent", "Rosa Diaz (166)")
        page.wait_for_function("location.search.includes('agent=a-07')", polling=200)
        _choose(page, "filter-tag", "re-explain")
        page.wait_for_function("location.search.includes('tag=re-explain')", polling=200)
        _choose(page, "filter-period", "this month")
        page.wait_for_function("location.search.includes('since=')", polling=200)
        assert "of 142" in _count(page)  # Rosa's re-explain calls this month
        page.locator("#filter-search textarea, #filter-search input").first.fill(f'"{PHRASE}"')
        page.keyboard.press("Enter")
        page.wait_for_function(
            f"document.querySelector('#calls-count').innerText.includes('of {MATCHING}')",
            polling=200,
        )
        page.locator("#calls-next").click()
        page.wait_for_function("location.search.includes('p=2')", polling=200)
        page.locator("#calls-next").click()
        page.wait_for_function("location.search.includes('p=3')", polling=200)
        assert re.search(r"101 to 130 of 130 · page 3 of 3", _count(page)), _count(page)
        shared = page.url
        for part in ("agent=a-07", "tag=re-explain", "since=", "until=", "q=", "p=3"):
            assert part in shared, shared

        cell = page.locator("#calls-table").get_by_text(re.compile(r"^L-\d{4}$"))
        cell = cell.locator("visible=true").first
        call = cell.inner_text().strip()
        cell.click()
        page.locator("#call-header").get_by_text(call).wait_for()
        page.wait_for_function("location.search.includes('call=')", polling=200)
        assert "is marked" in page.locator("#status").inner_text()
        found = page.locator("#survey .qa-found").all_inner_texts()
        assert " ".join(found).lower().split() == PHRASE.split()
        shared = page.url  # the list's filters and page, and the open call

        # the copied link reopens the same list, on the same page, and the call
        page.goto(shared)
        page.wait_for_function(
            "(document.querySelector('#calls-count') || {innerText: ''}).innerText"
            ".includes('page 3 of 3')",
            polling=200,
        )
        assert "101 to 130 of 130" in _count(page)
        assert page.locator("#filter-search textarea, #filter-search input").first.input_value()
        page.locator("#call-header").get_by_text(call).wait_for()
