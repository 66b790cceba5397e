"""The Themes tab: list, rename and promote themes through gradio_client, and once in chromium.

The themes are written straight into the ``cluster`` / ``theme_member`` tables (no
clustering, no model): a UI test needs known rows, not discovered ones.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
from sqlmodel import select

from qa.store.engine import make_engine, session_scope
from qa.store.schema import Cluster, Decision, Tag, ThemeFit, ThemeMember
from tests.ui_fixtures import LEAD, chromium_page, launched, populate, sign_in, ui_client

WAIT_COMMENT = "Waited 40 minutes on hold & got transferred twice."
WAIT_TURN = "Someone promised to call me back last week and never did."
WAIT_NAME = "waited minutes on hold"  # from its keywords and its most central example


def add_themes(engine, ids: dict[str, int]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Four themes over ``populate``'s calls (one ended); returns name -> cluster id."""
    with session_scope(engine) as s:
        rows = {
            "wait": Cluster(keywords=["hold", "waited", "minutes", "queue", "hour", "forever"],
                            examples=[WAIT_COMMENT, WAIT_TURN, "third"], size=2),
            "router": Cluster(label="router trouble", keywords=["router", "connection"],
                              examples=["My router keeps dropping the connection."], size=1),
            "notes": Cluster(label="notes lost", keywords=["notes", "time"],
                             examples=["Fine. Please make sure they have my notes this time."],
                             size=1),
            "ended": Cluster(label="old theme", keywords=["gone"], size=0),
        }  # fmt: skip
        s.add_all(rows.values())
        s.flush()
        cid = {name: row.id for name, row in rows.items()}
        s.add_all(
            [
                ThemeMember(cluster_id=cid["wait"], call_id=ids["C-1001"], source="comment",
                            text=WAIT_COMMENT, similarity=0.91),
                ThemeMember(cluster_id=cid["wait"], call_id=ids["C-1003"], source="transcript",
                            turn_index=1, text=WAIT_TURN, similarity=0.72),
                ThemeMember(cluster_id=cid["router"], call_id=ids["C-1002"], source="transcript",
                            turn_index=1, text="My router keeps dropping the connection.",
                            similarity=0.88),
                ThemeMember(cluster_id=cid["notes"], call_id=ids["C-1001"], source="transcript",
                            turn_index=4, text=rows["notes"].examples[0], similarity=0.8),
                ThemeMember(cluster_id=None, call_id=ids["C-1002"], source="comment",
                            text="Sam was great.", similarity=0.2),
            ]
        )  # fmt: skip
    return cid


@pytest.fixture(scope="module")
def served(tmp_path_factory):  # type: ignore[no-untyped-def]
    engine = make_engine(str(tmp_path_factory.mktemp("themes") / "qa.db"))
    ids = populate(engine)
    themes = add_themes(engine, ids)
    with launched(engine) as demo:
        yield demo, engine, ids, themes


@pytest.fixture(scope="module")
def client(served):  # type: ignore[no-untyped-def]
    return ui_client(served[0], LEAD)  # renames and promotions need a lead


def snapshot(engine) -> tuple[list[tuple], list[tuple]]:  # type: ignore[no-untyped-def]
    """Every cluster's (id, label, promoted tag) and every tag row: to check nothing changed."""
    with session_scope(engine) as s:
        clusters = [(c.id, c.label, c.promoted_tag) for c in s.exec(select(Cluster))]
        tags = [(t.call_id, t.tag, t.method, t.present) for t in s.exec(select(Tag))]
    return sorted(clusters), sorted(tags)


def test_parse_theme_accepts_ids_and_dropdown_text() -> None:
    from review_ui.themes import parse_theme

    assert parse_theme(7) == 7 and parse_theme(7.0) == 7 and parse_theme("7") == 7
    assert parse_theme("12: billing, refund") == 12 and parse_theme(" 3 ") == 3
    assert parse_theme(None) is None and parse_theme("") is None and parse_theme("abc") is None
    assert parse_theme(float("nan")) is None and parse_theme(True) is None


def test_empty_database_says_how_to_discover_themes(tmp_path: Path) -> None:
    from review_ui.themes import EMPTY, render_themes

    engine = make_engine(str(tmp_path / "empty.db"))
    try:
        table, dropdown, members, status = render_themes(engine, None)
    finally:
        engine.dispose()
    assert status == EMPTY and "qa nightly" in status
    assert table.empty and dropdown["choices"] == [] and dropdown["value"] is None
    assert "Choose a theme" in members


def test_app_has_themes_tab_and_endpoints(served):
    demo = served[0]
    names = {d.api_name for d in demo.fns.values() if d.api_name}
    assert {"themes", "rename_theme", "accept_theme_name", "promote_theme", "k_choice",
            "insights", "list_calls"} <= names  # fmt: skip
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    assert {"themes-tab", "themes-table", "theme-choice", "rename-theme", "promote-theme",
            "themes-status", "theme-members"} <= ids  # fmt: skip


def test_listing_shows_live_themes_largest_first(client, served):
    _, _, _, themes = served
    table, theme, members, status = client.predict(None, api_name="/themes")
    assert table["headers"] == ["id", "theme", "size", "keywords", "promoted tag", "examples"]
    rows = table["data"]
    assert [r[0] for r in rows] == [themes["wait"], themes["router"], themes["notes"]]
    wait = rows[0]
    assert wait[1] == f"{WAIT_NAME} (suggested)" and wait[2] == 2  # no label yet
    assert wait[3] == "hold, waited, minutes, queue, hour"  # top 5 keywords
    assert wait[5] == f"{WAIT_COMMENT} | {WAIT_TURN}"  # 2 examples
    assert "old theme" not in str(rows)  # ended themes (size 0) are hidden
    assert status == "**3 themes** (4 texts)."
    # the largest theme is chosen and its members listed, closest first, with deep links
    assert theme["value"] == themes["wait"]
    assert theme["choices"][0] == [f"{themes['wait']}: {WAIT_NAME}", themes["wait"]]
    assert 'href="?call=C-1001"' in members and 'href="?call=C-1003"' in members
    assert members.index("C-1001") < members.index("C-1003") and "turn 1" in members
    assert "&amp; got transferred" in members  # member text is escaped
    # refresh keeps the chosen theme, and the dropdown's "id: name" text works too
    _, theme, members, _ = client.predict(f"{themes['router']}: router trouble", api_name="/themes")
    assert theme["value"] == themes["router"] and 'href="?call=C-1002"' in members


def test_rename_changes_the_label(client, served):
    _, engine, _, themes = served
    table, theme, _, status = client.predict(
        themes["router"], "  Router drops  ", api_name="/rename_theme"
    )
    assert status.startswith("**Saved.**") and "Router drops" in status
    assert theme["value"] == themes["router"]
    assert [f"{themes['router']}: Router drops", themes["router"]] in theme["choices"]
    assert [r[1] for r in table["data"] if r[0] == themes["router"]] == ["Router drops"]
    with session_scope(engine) as s:
        assert s.get(Cluster, themes["router"]).label == "Router drops"


def test_accept_suggested_name_keeps_it_as_the_label(client, served):
    _, engine, _, themes = served
    table, _, _, status = client.predict(themes["wait"], api_name="/accept_theme_name")
    assert status.startswith("**Saved.**") and WAIT_NAME in status
    assert [r[1] for r in table["data"] if r[0] == themes["wait"]] == [WAIT_NAME]
    with session_scope(engine) as s:
        assert s.get(Cluster, themes["wait"]).label == WAIT_NAME
    *_, status = client.predict(9999, api_name="/accept_theme_name")
    assert status == "**Not saved:** no theme with id 9999."
    with session_scope(engine) as s:  # unnamed again, for the tests that follow
        s.get(Cluster, themes["wait"]).label = ""


def test_k_choice_curve_of_the_last_recluster(client, served):
    _, engine, _, _ = served
    assert "No re-cluster yet" in client.predict(api_name="/k_choice")
    with session_scope(engine) as s:
        s.add(ThemeFit(k=3, criterion="eigen-floor", min_k=2, max_k=10, texts=40,
                       curve=[[1, 1.0], [2, 0.95], [3, 0.8], [4, 0.5], [5, 0.4]]))  # fmt: skip
    html = client.predict(api_name="/k_choice")
    assert "k = 3 themes for 40 texts" in html and "within 2-10" in html
    assert 'src="data:image/png;base64,' in html
    with session_scope(engine) as s:
        s.add(ThemeFit(k=7, chosen=False, texts=40))
    assert "k = 7, as given" in client.predict(api_name="/k_choice")


def test_promote_tags_member_calls(client, served):
    _, engine, ids, themes = served
    table, _, _, status = client.predict(themes["wait"], "long-hold", api_name="/promote_theme")
    assert status.startswith("**Saved.**") and "long-hold" in status and "2 calls tagged" in status
    assert [r[4] for r in table["data"] if r[0] == themes["wait"]] == ["long-hold"]
    with session_scope(engine) as s:
        tags = s.exec(select(Decision).where(Decision.tag == "long-hold")).all()
        cluster = s.get(Cluster, themes["wait"])
        assert cluster.promoted_tag == "long-hold" and cluster.label == "long-hold"
    assert sorted(t.call_id for t in tags) == sorted([ids["C-1001"], ids["C-1003"]])
    assert all(t.origin == "theme" and t.present and t.reviewer == LEAD for t in tags)
    assert {t.evidence for t in tags} == {WAIT_COMMENT, WAIT_TURN}
    # promoting again tags nobody twice
    *_, status = client.predict(themes["wait"], "long-hold", api_name="/promote_theme")
    assert "0 calls tagged" in status


def test_bad_input_is_not_saved_and_changes_nothing(client, served):
    _, engine, _, themes = served
    before = snapshot(engine)
    cases = [
        ("/promote_theme", themes["notes"], "Bad Tag!", "is not valid"),
        ("/promote_theme", 9999, "fine-tag", "no theme with id 9999"),
        ("/rename_theme", 9999, "New name", "no theme with id 9999"),
        ("/rename_theme", themes["notes"], "   ", "label is empty"),
        ("/rename_theme", "abc", "New name", "choose a theme first"),
    ]
    for api, theme, text, expected in cases:
        table, _, _, status = client.predict(theme, text, api_name=api)
        assert status.startswith("**Not saved:**") and expected in status, (api, status)
        assert "Traceback" not in status and len(table["data"]) == 3
    assert snapshot(engine) == before


@pytest.mark.browser
def test_rename_theme_in_chromium(served):
    demo, engine, _, themes = served
    cid = themes["notes"]
    with chromium_page(1400, 1100) as page:
        sign_in(page, demo.local_url, LEAD)
        page.get_by_role("tab", name="Themes").click()
        table = page.locator("#themes-table")  # the grid also keeps hidden copies of cells
        table.get_by_text("notes lost", exact=True).filter(visible=True).first.wait_for()
        page.locator("#theme-choice input").click()
        page.locator(f"[role=option][aria-label='{cid}: notes lost']").click()
        page.locator("#theme-members").get_by_text("C-1001").wait_for()
        page.locator("#theme-label textarea").fill("Lost case notes")
        page.locator("#rename-theme").click()
        page.locator("#themes-status").get_by_text("Lost case notes").wait_for()
        table.get_by_text("Lost case notes", exact=True).filter(visible=True).first.wait_for()
        if shot := os.environ.get("QA_THEMES_SCREENSHOT"):
            page.screenshot(path=shot, full_page=True)
    with session_scope(engine) as s:
        assert s.get(Cluster, cid).label == "Lost case notes"
