"""The reviewer's workbench in a real browser (Debian's chromium through Playwright).

Click-to-seek on a turn, a highlight and a tag row; follow-along (``qa-current``); the keys
(j / k, space, n); the tag table's layout on a call with many long tags; the ``?call=ID``
deep link scrolling the call into view. One server for the module, over the fixture
database with a 40-second recording for C-1001 (its turns run to 36 s).

Skipped only when chromium or Playwright is missing outside CI; in CI that is a failure.
"""

from __future__ import annotations

import os

import pytest

from qa.review.playback import Playback
from qa.store.engine import make_engine, session_scope
from qa.store.schema import Tag
from review_ui.render import TAG_COLUMNS
from tests.ui_fixtures import REVIEWER, chromium_page, launched, populate, sign_in, write_wav

pytestmark = pytest.mark.browser

# The recording's media element, found as the workbench script finds it: Gradio 6's
# WaveSurfer keeps its <audio> in the waveform's shadow root; the plain player is light DOM.
MEDIA = """(() => {
  const root = document.querySelector('#recording');
  if (!root) return null;
  for (const host of root.querySelectorAll('*')) {
    const a = host.shadowRoot && host.shadowRoot.querySelector('audio');
    if (a) return a;
  }
  return Array.from(root.querySelectorAll('audio')).find((a) => a.currentSrc) || null;
})()"""

# The tag a tag-row click chose is in "Decide on", and its menu has let go of the focus (a key
# pressed while the dropdown still has it would be typed into it, not taken as a shortcut).
CHOSEN = """(() => {
  const input = document.querySelector('#tag-choice input');
  return input.value.startsWith('TAG') && document.activeElement !== input
    && !document.querySelector('#tag-choice [role=option]');
})()"""

# Long evidence, as on the demo's most tagged call (C0010: 11 tags, up to 129 characters).
MANY_TAGS = [
    ("re-explain", 0, "I had to explain my problem three times and then got transferred anyway."),
    ("transfer", 0, "I had to explain my problem three times and then got transferred anyway."),
    ("re-explain", 1, "I already explained this to the last person"),
    ("re-explain", 1, "Seriously, so I had to tell my story again"),
    ("unresolved", 2, "I'm the internet block everything around ten one and restarting the router"),
    ("unresolved", 2, "The internet lights go red and then it's flashing orange"),
    ("re-explain", 1, "We'll I have to explain everything again to them"),
    ("re-explain", 3, "I'm sorry about [PERSON], I can't see any notes from that call."),
    ("transfer", 3, "Please stay on the line while I transfer you."),
    ("transfer", 3, "That points to a fault on the line, not the router, I'm putting you through "
                    "technical support level to, they can run a line test."),
    ("transfer:technical", 3, "That points to a fault on the line, not the router, I'm putting "
                              "you through technical support level to, they can run a line test."),
]  # fmt: skip


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = tmp_path_factory.mktemp("workbench")
    engine = make_engine(str(tmp / "qa.db"))
    ids = populate(engine, recordings_dir=tmp / "recordings")
    write_wav(tmp / "recordings" / "C-1001.wav", seconds=40.0)  # long enough for every turn
    with session_scope(engine) as s:
        s.add_all(
            Tag(call_id=ids["C-1002"], tag=tag, source="transcript", turn_index=turn,
                evidence=evidence, method="rule", score=1.0)
            for tag, turn, evidence in MANY_TAGS
        )  # fmt: skip
    playback = Playback([tmp / "recordings"])
    try:
        with launched(engine, playback=playback) as demo:
            yield demo.local_url, ids
    finally:
        playback.close()


def _open(page, cid: int, external_id: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#call-id input").fill(str(cid))
    page.locator("#open-call").click()
    page.locator("#call-header").get_by_text(external_id).wait_for()


def _media(page, prop: str):  # type: ignore[no-untyped-def]
    return page.evaluate(f"{MEDIA}.{prop}")


def _focused(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "Array.from(document.querySelectorAll('#transcript .qa-turn.qa-focus'))"
        ".map((el) => el.dataset.index)"
    )


def test_click_to_seek_follow_along_and_keys(app):
    url, ids = app
    with chromium_page(1400, 900) as page:
        sign_in(page, url, REVIEWER)
        _open(page, ids["C-1001"], "C-1001")
        page.wait_for_function(f"(() => {{ const a = {MEDIA}; return a && a.duration > 30; }})()")
        turns = page.locator("#transcript .qa-turn")
        third, fourth = turns.nth(2), turns.nth(3)
        start = float(third.get_attribute("data-start"))
        assert (start, float(third.get_attribute("data-end"))) == (15.0, 21.0)

        # clicking a turn seeks the recording to its start and plays it
        third.click()
        playing_from = f"!{MEDIA}.paused && {MEDIA}.currentTime >= {start - 0.05}"
        page.wait_for_function(playing_from)
        assert start - 0.05 <= _media(page, "currentTime") < start + 1.5
        # ... and the playing turn is marked as it plays
        page.locator("#transcript .qa-turn.qa-current[data-index='2']").wait_for()
        assert page.locator("#transcript .qa-current").count() == 1

        # j / k move the focus (and the playhead) a turn on / back
        assert _focused(page) == ["2"]
        page.keyboard.press("j")
        assert _focused(page) == ["3"]
        next_start = float(fourth.get_attribute("data-start"))
        assert next_start - 0.05 <= _media(page, "currentTime") < next_start + 1.5
        page.keyboard.press("k")
        assert _focused(page) == ["2"]

        # space pauses and plays, without scrolling the page
        scrolled = page.evaluate("window.scrollY")
        page.keyboard.press(" ")
        page.wait_for_function(f"{MEDIA}.paused === true")
        page.keyboard.press(" ")
        page.wait_for_function(f"{MEDIA}.paused === false")
        assert page.evaluate("window.scrollY") == scrolled
        page.keyboard.press(" ")
        page.wait_for_function(f"{MEDIA}.paused === true")

        # a highlight seeks to its turn
        page.locator("#transcript mark[data-tag='re-explain']").click()
        page.wait_for_function(f"Math.abs({MEDIA}.currentTime - 7.5) < 1.5")

        # a tag row seeks to its evidence's turn and becomes the tag to decide; n rejects it
        page.locator("#tags tr[data-tag='transfer']").click()
        page.wait_for_function(f"Math.abs({MEDIA}.currentTime - 22.5) < 1.5")
        page.wait_for_function(CHOSEN.replace("TAG", "transfer"), polling=100)
        page.keyboard.press("n")
        page.locator("#status").get_by_text("Rejected").wait_for()
        assert "transfer" in page.locator("#status").inner_text()

        # y and ] press Confirm and Next call (counted here, their effects tested elsewhere)
        page.evaluate(
            """() => { window.clicked = [];
              for (const id of ['confirm-tag', 'next-call']) document.getElementById(id)
                .addEventListener('click', () => window.clicked.push(id), true); }"""
        )
        page.keyboard.press("y")
        page.keyboard.press("]")
        assert page.evaluate("window.clicked") == ["confirm-tag", "next-call"]


def test_tag_table_fits_beside_the_transcript(app):
    url, ids = app
    evidence = TAG_COLUMNS.index("evidence")
    with chromium_page(1400, 900) as page:
        sign_in(page, url, REVIEWER)
        _open(page, ids["C-1002"], "C-1002")
        rows = page.locator("#tags tbody tr")
        rows.nth(len(MANY_TAGS)).wait_for()  # agent-praise and the many tags
        widths = page.evaluate(
            "(i) => Array.from(document.querySelectorAll('#tags tbody tr'))"
            ".map((tr) => tr.cells[i].getBoundingClientRect().width)",
            evidence,
        )
        assert widths and min(widths) >= 200, widths
        height = page.evaluate(
            "document.querySelector('#tags table').getBoundingClientRect().height"
        )
        assert height < 600, height


def test_call_deep_link_scrolls_the_call_into_view(app):
    url, ids = app
    cid = ids["C-1001"]
    with chromium_page(1400, 900) as page:
        sign_in(page, url, REVIEWER)
        page.goto(f"{url}?call={cid}")
        page.locator(f"#call-header [data-call-id='{cid}']").wait_for()
        # the header comes to the top of the window (it loads below the calls table)
        page.wait_for_function(
            "(() => { const top = document.querySelector('#call-header')"
            ".getBoundingClientRect().top; return top > -2 && top < 120; })()"
        )
        top = page.evaluate("document.querySelector('#call-header').getBoundingClientRect().top")
        assert 0 <= round(top) < page.evaluate("window.innerHeight")


def test_queue_seek_confirm_score_and_reopen(app):
    """The issue's walk-through: sign in, take a call from the queue, click a turn (the audio
    seeks), press y on a tag, fill and save the scorecard, reopen the call: the decision is
    in its history and the saved scorecard is shown."""
    url, ids = app
    with chromium_page(1400, 900) as page:
        sign_in(page, url, REVIEWER)
        page.locator("#queue-choice input").click()
        page.get_by_role("option", name="Worst first (lowest CSAT)").click()
        page.locator("#next-call").click()
        page.locator("#call-header").get_by_text("C-1001").wait_for()  # CSAT 2, undecided tags
        assert "worst" in page.locator("#status").inner_text().lower()
        page.wait_for_function(f"(() => {{ const a = {MEDIA}; return a && a.duration > 30; }})()")

        third = page.locator("#transcript .qa-turn").nth(2)
        third.click()
        page.wait_for_function(f"!{MEDIA}.paused && {MEDIA}.currentTime >= 14.95")
        assert 14.95 <= _media(page, "currentTime") < 16.5
        page.keyboard.press(" ")  # pause, so the page stays still for the rest
        page.wait_for_function(f"{MEDIA}.paused === true")

        page.locator("#tags tr[data-tag='re-explain']").click()
        page.wait_for_function(CHOSEN.replace("TAG", "re-explain"), polling=100)
        page.keyboard.press("y")
        page.wait_for_function(
            "document.querySelector('#status').innerText.includes('Confirmed “re-explain”')",
            polling=200,
        )

        page.locator("#sc-polite").get_by_text("no", exact=True).click()
        page.locator("#sc-empathy").get_by_text("4", exact=True).click()
        page.locator("#review-notes textarea").fill("Talked over the customer twice.")
        page.locator("#save-review").click()
        page.locator("#review-status").get_by_text("Saved").wait_for()
        score = page.locator("#scorecard-score").inner_text()
        assert any(ch.isdigit() for ch in score), score

        _open(page, ids["C-1002"], "C-1002")
        assert not page.locator("#sc-polite input[value='no']").is_checked()
        _open(page, ids["C-1001"], "C-1001")
        page.wait_for_function(
            "document.querySelector('#review-notes textarea').value.includes('Talked over')"
        )
        assert page.locator("#sc-polite input[value='no']").is_checked()
        assert page.locator("#sc-empathy input[value='4']").is_checked()
        page.get_by_text("History (decisions and reviews)").click()
        page.locator("#history").get_by_text("re-explain").first.wait_for()
        history = page.locator("#history").inner_text()
        assert "re-explain" in history and REVIEWER in history, history
