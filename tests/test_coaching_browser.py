"""Coaching packs in the review UI, in a real browser: add two snippets of a call to a new
pack from the Review tab, export the pack from the Coaching tab, open the exported HTML
offline and play its clips; a pack's ``?pack=ID`` link opens it.

Skipped only when chromium or Playwright is missing outside CI; in CI that is a failure.
"""

from __future__ import annotations

import os

import pytest

from qa.review.playback import Playback
from qa.store.engine import make_engine
from tests.test_packs_browser import PLAY_ALL
from tests.ui_fixtures import COACH, REVIEWER, chromium_page, launched, populate, sign_in, write_wav

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = tmp_path_factory.mktemp("coaching")
    engine = make_engine(str(tmp / "qa.db"))
    ids = populate(engine, recordings_dir=tmp / "recordings")
    write_wav(tmp / "recordings" / "C-1001.wav", seconds=40.0)
    playback = Playback([tmp / "recordings"])
    try:
        with launched(engine, playback=playback) as demo:
            yield demo.local_url, ids
    finally:
        playback.close()


def _target(page, prefix: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#tag-choice input").click()
    page.get_by_role("option", name=prefix).first.click()


def test_two_snippets_to_a_pack_exported_and_played_offline(app, tmp_path):
    url, _ = app
    with chromium_page(1400, 1000) as page:
        sign_in(page, url, REVIEWER)
        page.goto(f"{url}?call=C-1001")
        page.locator("#call-header").get_by_text("C-1001").wait_for()
        for n, (target, note) in enumerate((("re-explain · turn 1", "Listen to this"),
                                            ("transfer · turn 3", "Warm transfer?"))):  # fmt: skip
            _target(page, target)
            box = page.locator("#add-pack-choice input")
            box.click()
            box.fill("Dana: transfers" if n == 0 else "")
            if n == 0:
                box.press("Enter")
            else:
                page.get_by_role("option", name="Dana: transfers").first.click()
            page.locator("#add-pack-note textarea, #add-pack-note input").first.fill(note)
            page.locator("#add-to-pack").click()
            page.wait_for_function(
                "document.querySelector('#add-pack-status').innerText.includes('evidence to "
                "pack #1')"
                if n == 0 else
                "document.querySelectorAll('#add-pack-status p').length && document.querySelector"
                "('#add-pack-status').innerText.includes('“transfer” evidence')",
                polling=200,
            )  # fmt: skip

        page.get_by_role("tab", name="Coaching").click()
        page.locator("#pack-choice input").click()
        page.get_by_role("option").filter(has_text="Dana: transfers").first.click()
        page.locator("#pack-view li").nth(1).wait_for()
        assert page.locator("#pack-view li").count() == 2
        assert "Warm transfer?" in page.locator("#pack-view").inner_text()
        page.locator("#profile-agent input").click()  # filled when the tab was opened
        page.get_by_role("option").filter(has_text="Dana Reyes").first.wait_for()
        page.keyboard.press("Escape")
        page.locator("#pack-export-html").click()
        page.wait_for_function(
            "document.querySelector('#pack-status').innerText.includes('2 audio clips')",
            polling=200,
        )
        href = page.locator("#pack-file a").first.get_attribute("href")
        assert href
        response = page.request.get(href if href.startswith("http") else url.rstrip("/") + href)
        assert response.ok
        exported = tmp_path / "pack.html"
        exported.write_bytes(response.body())

    requests: list[str] = []
    with chromium_page() as offline:
        offline.context.set_offline(True)
        offline.on("request", lambda r: requests.append(r.url))
        offline.goto(exported.as_uri())
        assert "Listen to this" in offline.content()
        played = offline.evaluate(PLAY_ALL)
    assert len(played) == 2, played
    for clip in played:
        assert clip.get("error") is None and clip["ready"] >= 2 and clip["time"] > 0, played
    assert all(u.startswith(("file:", "data:")) for u in requests), requests


def test_pack_link_opens_the_coaching_tab_and_a_coach_sees_an_agent_profile(app):
    url, _ = app
    with chromium_page(1400, 1000) as page:
        sign_in(page, url, COACH)
        page.goto(f"{url}?pack=1")
        page.locator("#pack-view li").first.wait_for()
        assert "Dana: transfers" in page.locator("#pack-view").inner_text()
        page.locator("#profile-agent input").click()
        page.get_by_role("option").filter(has_text="Dana Reyes").first.click()
        page.locator("#profile-view table").first.wait_for()
        text = page.locator("#profile-view").inner_text()
        assert "re-explain" in text and "rest of team" in text
