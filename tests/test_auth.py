"""Sign-in and roles: users with argon2 hashes, ``qa users``, and the review UI's API refusing
anonymous callers and roles without the right (HTTP 401), through gradio_client and httpx."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from qa.auth import (
    AuthError,
    Permission,
    add_user,
    authenticate,
    can,
    disable_user,
    enable_user,
    find_identity,
    has_users,
    list_users,
)
from qa.cli import app
from qa.store.engine import make_engine, session_scope
from qa.store.schema import Decision, Review, User
from tests.ui_fixtures import (
    ADMIN,
    COACH,
    LEAD,
    REVIEWER,
    USERS,
    launched,
    populate,
    ui_client,
)

# ---- users -----------------------------------------------------------------------------


def test_users_are_stored_as_argon2_hashes_and_checked(tmp_path: Path) -> None:
    engine = make_engine(str(tmp_path / "qa.db"))
    with Session(engine) as s:
        assert not has_users(session=s)
        add_user(session=s, name="ana", role="reviewer", password="correct horse")
        assert has_users(session=s)
        stored = s.exec(select(User)).one()
        assert stored.password_hash.startswith("$argon2id$")
        assert "correct horse" not in stored.password_hash
        who = authenticate(session=s, name="ana", password="correct horse")
        assert who is not None and (who.name, who.role) == ("ana", "reviewer")
        assert authenticate(session=s, name="ana", password="wrong horse") is None
        assert authenticate(session=s, name="nobody", password="correct horse") is None
        assert list_users(session=s)[0].last_login_at is not None
        disable_user(session=s, name="ana")
        assert authenticate(session=s, name="ana", password="correct horse") is None
        assert find_identity(session=s, name="ana") is None
        enable_user(session=s, name="ana")
        assert find_identity(session=s, name="ana") is not None


def test_bad_users_are_refused_with_the_valid_choices(tmp_path: Path) -> None:
    engine = make_engine(str(tmp_path / "qa.db"))
    with Session(engine) as s:
        with pytest.raises(ValueError, match="coach, reviewer, lead, admin"):
            add_user(session=s, name="ana", role="boss", password="long enough")
        with pytest.raises(AuthError, match="at least 8"):
            add_user(session=s, name="ana", role="coach", password="short")
        with pytest.raises(AuthError, match="not valid"):
            add_user(session=s, name="../ana", role="coach", password="long enough")
        add_user(session=s, name="ana", role="coach", password="long enough")
        with pytest.raises(AuthError, match="already exists"):
            add_user(session=s, name="ana", role="lead", password="long enough")
        with pytest.raises(AuthError, match="no user 'bob'; users: ana"):
            disable_user(session=s, name="bob")


def test_roles_grant_what_the_issue_says() -> None:
    assert can("coach", Permission.read) and can("coach", Permission.build_packs)
    assert not can("coach", Permission.decide_tags)
    assert can("reviewer", Permission.decide_tags) and can("reviewer", Permission.review)
    assert not can("reviewer", Permission.manage_themes)
    assert not can("reviewer", Permission.calibrate)
    assert can("lead", Permission.manage_themes) and can("lead", Permission.calibrate)
    assert can("lead", Permission.edit_scorecards) and not can("lead", Permission.manage_users)
    assert can("admin", Permission.manage_users)
    assert not can(None, Permission.read) and not can("boss", Permission.read)


def test_qa_users_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "qa.db")
    runner = CliRunner()
    added = runner.invoke(
        app, ["users", "add", "lena", "--role", "lead", "--password-stdin", "--db", db],
        input="a long passphrase\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "added lena (lead)" in added.output
    prompted = runner.invoke(
        app, ["users", "add", "rita", "--db", db], input="rita-password\nrita-password\n"
    )
    assert prompted.exit_code == 0, prompted.output
    weak = runner.invoke(
        app, ["users", "add", "bob", "--password-stdin", "--db", db], input="short\n"
    )
    assert weak.exit_code == 1 and "at least 8" in weak.output
    listed = runner.invoke(app, ["users", "list", "--db", db])
    assert "lena" in listed.output and "lead" in listed.output and "rita" in listed.output
    assert "reviewer" in listed.output and "passphrase" not in listed.output
    assert runner.invoke(app, ["users", "disable", "rita", "--db", db]).exit_code == 0
    assert "disabled" in runner.invoke(app, ["users", "list", "--db", db]).output
    unknown = runner.invoke(app, ["users", "disable", "zed", "--db", db])
    assert unknown.exit_code == 1 and "no user 'zed'" in unknown.output
    with Session(make_engine(db)) as s:
        assert authenticate(session=s, name="lena", password="a long passphrase") is not None
        assert authenticate(session=s, name="rita", password="rita-password") is None


def test_serve_refuses_an_open_host_without_users(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 1
    assert "refusing to serve on 0.0.0.0 without sign-in" in result.output
    assert "qa users add" in result.output


# ---- the review UI's API ------------------------------------------------------------------

WRITES = {  # endpoint -> (arguments, the lowest role that may call it)
    "reject_tag": (("C", "re-explain", ""), "reviewer"),
    "confirm_tag": (("C", "re-explain", ""), "reviewer"),
    "add_tag": (("C", "agent-rude", ""), "reviewer"),
    "save_review": (("C", *[None] * 9, "notes"), "reviewer"),
    "next_call": (("worst", None), "reviewer"),
    "rename_theme": ((1, "new name"), "lead"),
    "create_round": (("March", "C-1001, C-1002"), "lead"),
    "close_round": (("1",), "lead"),
    "add_to_pack": (("C", "re-explain", "auth pack", ""), "coach"),
    "create_pack": (("auth pack 2", "", "", "", False, ""), "coach"),
    "accept_theme_name": ((1,), "lead"),
    "promote_theme": ((1, "new-tag"), "lead"),
}
RANK = ("coach", "reviewer", "lead", "admin")


@pytest.fixture(scope="module")
def served(tmp_path_factory):  # type: ignore[no-untyped-def]
    engine = make_engine(str(tmp_path_factory.mktemp("auth") / "qa.db"))
    ids = populate(engine)
    with launched(engine) as demo:
        yield demo, engine, ids


def _args(args: tuple, ids: dict[str, int]) -> list:
    return [ids["C-1001"] if a == "C" else a for a in args]


def _writes(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        humans = s.exec(select(Decision)).all()
        return len(humans), len(s.exec(select(Review)).all())


def test_anonymous_api_calls_get_401(served) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import Client

    demo, engine, ids = served
    before = _writes(engine)
    base = demo.local_url.rstrip("/")
    with pytest.raises(Exception, match=r"login|credentials|401"):
        Client(demo.local_url, verbose=False)
    for name, (args, _) in WRITES.items():
        response = httpx.post(f"{base}/gradio_api/call/{name}", json={"data": _args(args, ids)})
        assert response.status_code == 401, (name, response.text)
    joined = httpx.post(f"{base}/gradio_api/queue/join",
                        json={"data": [], "fn_index": 0, "session_hash": "x"})  # fmt: skip
    assert joined.status_code == 401
    for path in ("/config", "/gradio_api/info", "/gradio_api/file=/etc/passwd"):
        assert httpx.get(base + path).status_code == 401, path
    assert _writes(engine) == before


@pytest.mark.parametrize("user", [COACH, REVIEWER, LEAD, ADMIN])
def test_each_role_gets_401_for_writes_it_lacks(served, user: str) -> None:  # type: ignore[no-untyped-def]
    demo, engine, ids = served
    client = ui_client(demo, user)
    rank = RANK.index(USERS[user][0])
    for name, (args, lowest) in WRITES.items():
        if rank >= RANK.index(lowest):
            continue  # allowed: exercised by the tests of each feature
        before = _writes(engine)
        with pytest.raises(Exception, match="401"):
            client.predict(*_args(args, ids), api_name=f"/{name}")
        assert _writes(engine) == before, name
    # every role may read
    *_, status = client.predict(ids["C-1002"], api_name="/open_call")
    assert "Opened call" in status


def test_signed_in_name_is_the_reviewer_and_disabled_users_lose_access(served) -> None:  # type: ignore[no-untyped-def]
    demo, engine, ids = served
    client = ui_client(demo, REVIEWER)
    *_, status = client.predict(ids["C-1002"], "rushed", "", api_name="/add_tag")
    assert f"as {REVIEWER}" in status
    with session_scope(engine) as s:
        stmt = select(Decision).where(Decision.tag == "rushed", Decision.call_id == ids["C-1002"])
        row = s.exec(stmt).one()
        assert row.reviewer == REVIEWER and row.role == "reviewer" and row.present
        disable_user(session=s, name=REVIEWER)
    try:
        with pytest.raises(Exception, match="401"):
            client.predict(ids["C-1002"], "rushed", "", api_name="/reject_tag")
        with pytest.raises(Exception, match="401"):  # reads end too, not only writes
            client.predict(ids["C-1002"], api_name="/open_call")
    finally:
        with session_scope(engine) as s:
            enable_user(session=s, name=REVIEWER)


def test_without_users_the_ui_is_read_only(tmp_path: Path) -> None:
    engine = make_engine(str(tmp_path / "qa.db"))
    ids = populate(engine)
    with launched(engine, users=False) as demo:
        client = ui_client(demo, None)  # no sign-in: anyone on this machine may read
        *_, status = client.predict(ids["C-1001"], api_name="/open_call")
        assert "Opened call" in status
        with pytest.raises(Exception, match="401"):
            client.predict(ids["C-1001"], "re-explain", "", api_name="/reject_tag")
        response = httpx.post(demo.local_url.rstrip("/") + "/gradio_api/call/reject_tag",
                              json={"data": [ids["C-1001"], "re-explain"]})  # fmt: skip
        assert response.status_code == 401 and "qa users add" in response.text


def test_demo_user_gets_a_new_random_password_each_run(tmp_path: Path) -> None:
    from qa.demo.project import DEMO_USER, ensure_demo_user

    engine = make_engine(str(tmp_path / "qa.db"))
    first, second = ensure_demo_user(engine), ensure_demo_user(engine)
    assert first != second and len(second) >= 12
    with Session(engine) as s:
        assert authenticate(session=s, name=DEMO_USER, password=first) is None
        who = authenticate(session=s, name=DEMO_USER, password=second)
        assert who is not None and who.role == "lead"


def test_a_body_fn_index_cannot_smuggle_a_write_past_the_gate(served) -> None:  # type: ignore[no-untyped-def]
    """Gradio runs the body's fn_index even on a named route: the gate checks both."""
    demo, engine, ids = served
    base = demo.local_url.rstrip("/")
    reject = next(i for i, fn in demo.fns.items() if fn.api_name == "reject_tag")
    with httpx.Client() as http:
        login = http.post(f"{base}/login", data={"username": COACH, "password": USERS[COACH][1]})
        assert login.status_code == 200
        before = _writes(engine)
        body = {"data": [ids["C-1001"], "re-explain"], "fn_index": reject, "session_hash": "s"}
        for path in ("/gradio_api/run/list_calls", "/gradio_api/call/list_calls"):
            assert http.post(base + path, json=body).status_code == 401, path
        assert _writes(engine) == before
