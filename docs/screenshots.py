"""Re-shoot the README's screenshots from a demo database, in headless chromium.

    qa demo --no-serve                      # in an empty folder: builds .demo/callqa.db
    python docs/screenshots.py --demo .demo --out docs

It writes into the demo database (two users, a few decisions, reviews and a calibration
round, so the Calibration tab has something to show): use a throwaway demo, never a real
database. Needs Debian's chromium (``QA_CHROMIUM``) and Playwright, as the browser tests do.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timedelta
from pathlib import Path

USERS = {"rita": ("reviewer", "rita-reviews-calls"), "lena": ("lead", "lena-leads-the-team")}
CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")


def seed(engine) -> str:  # type: ignore[no-untyped-def]
    """Users, two reviewers' decisions on six transcribed calls (three of them a calibration
    round), and reviews; returns the external id of the call to show."""
    from sqlalchemy import func
    from sqlmodel import select

    from qa.auth import add_user, list_users
    from qa.review.calibration import create_round
    from qa.review.packs import add_item, create_pack
    from qa.review.reviews import default_scorecard, save_review
    from qa.store.engine import session_scope
    from qa.store.schema import Call, Tag, Turn
    from qa.store.writes import Evidence, record_tag_decision

    card = default_scorecard()
    assert card is not None
    with session_scope(engine) as s:
        known = {u.name for u in list_users(session=s)}
        for name, (role, password) in USERS.items():
            if name not in known:
                add_user(session=s, name=name, role=role, password=password)
        transcribed = select(Turn.call_id).distinct()
        most = (select(Tag.call_id).where(Tag.call_id.in_(transcribed))  # type: ignore[attr-defined]
                .group_by(Tag.call_id).order_by(func.count().desc(), Tag.call_id))  # fmt: skip
        tagged = s.exec(most).all()[:6]
        calls = [s.get(Call, cid) for cid in tagged]
        refs = [c.external_id for c in calls if c is not None]
        rnd = create_round(session=s, name="Demo round", calls=refs[:3], created_by="lena")
        when = datetime(2026, 11, 20, 10)
        for i, call in enumerate(c for c in calls if c is not None):
            tag = s.exec(select(Tag.tag).where(Tag.call_id == call.id)).first()
            for j, who in enumerate(("rita", "lena")):
                record_tag_decision(
                    session=s, call_id=call.id, tag=tag, present=(i + j) % 3 != 0,
                    reviewer=who, role=USERS[who][0], round_id=rnd.id if i < 3 else None,
                    created_at=when + timedelta(minutes=10 * i + j),
                )  # fmt: skip
                answers = {"greeting": "yes", "polite": "yes" if (i + j) % 2 else "no",
                           "empathy": 3 + (i + j) % 3}  # fmt: skip
                save_review(session=s, call_id=call.id or 0, reviewer=who, card=card,
                            answers=answers, notes="")  # fmt: skip
        first = calls[0]
        assert first is not None and first.id is not None
        pack = create_pack(session=s, name="Re-explaining: listen first", created_by="lena",
                           agent=first.agent_id,
                           note="Two moments to talk through on Friday.")  # fmt: skip
        hits = s.exec(select(Tag).where(Tag.call_id == first.id, Tag.source == "transcript"))
        for hit in list(hits)[:2]:
            evidence = Evidence("transcript", hit.turn_index, hit.span_start, hit.span_end)
            add_item(session=s, pack_id=pack.id, call_id=first.id, evidence=evidence,
                     tag=hit.tag, note=f"What did the customer need here? ({hit.tag})",
                     added_by="lena")  # fmt: skip
    return refs[0]


def shoot(demo_dir: Path, out: Path) -> None:
    """Serve the demo database and write review-ui.png, calibration.png, insights-scores.png
    and coaching.png."""
    from playwright.sync_api import sync_playwright

    from qa.config import Settings
    from qa.review.playback import Playback
    from qa.stages.factories import taxonomy_tag_names
    from qa.store.engine import make_engine
    from review_ui.app import serve

    engine = make_engine(str(demo_dir / "callqa.db"))
    show = seed(engine)
    playback = Playback([demo_dir / "data" / "recordings"])
    demo = serve(engine, port=7898, prevent_thread_lock=True, playback=playback,
                 tag_names=taxonomy_tag_names(Settings.from_env()))  # fmt: skip
    try:
        with sync_playwright() as p:
            args = ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.set_default_timeout(60_000)
            page.goto(demo.local_url)
            page.get_by_label("username").fill("lena")
            page.get_by_label("password").fill(USERS["lena"][1])
            page.get_by_role("button", name="Login").click()
            page.locator("#signed-in").get_by_text("lena").wait_for()
            page.goto(f"{demo.local_url}?call={show}")
            page.locator("#transcript .qa-turn").nth(2).wait_for()
            page.locator("#tags tbody tr").first.click()
            page.wait_for_timeout(800)
            page.keyboard.press(" ")  # pause what the click started
            page.locator("#call-header").scroll_into_view_if_needed()
            page.screenshot(path=str(out / "review-ui.png"))

            page.locator("button[role=tab]:has-text('Calibration')").first.click()
            page.locator("#calibration-status").get_by_text("compared").wait_for()
            page.locator("#calibration-round input").click()
            page.get_by_role("option").nth(1).click()
            page.locator("#calibration-disagreements table").first.wait_for()
            page.wait_for_timeout(500)
            page.screenshot(path=str(out / "calibration.png"))

            page.locator("button[role=tab]:has-text('Insights')").first.click()
            page.locator("#insights-kpis .tile").first.wait_for()
            page.get_by_text("Scorecard scores per agent and team, by week").click()
            page.locator("#insights-scores table").first.wait_for()
            page.locator("#insights-scores-box").scroll_into_view_if_needed()
            page.locator("#insights-scores-box").screenshot(path=str(out / "insights-scores.png"))
            page.goto(f"{demo.local_url}?pack=1")
            page.locator("#pack-view li").first.wait_for()
            page.locator("#profile-agent input").click()
            page.get_by_role("option").first.click()
            page.locator("#profile-view table").first.wait_for()
            page.wait_for_timeout(500)
            page.screenshot(path=str(out / "coaching.png"), full_page=True)
            browser.close()
    finally:
        demo.close()
        playback.close()
        engine.dispose()


def main() -> None:
    """Command line: ``--demo`` (the folder ``qa demo`` made) and ``--out`` (docs/)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", type=Path, default=Path(".demo"))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    shoot(args.demo, args.out)


if __name__ == "__main__":
    main()
