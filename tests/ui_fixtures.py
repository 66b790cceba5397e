"""A small, known database for the query, review-UI and browser tests.

``populate(engine)`` writes four calls:

- ``C-1001`` Dana Reyes (a-01, Billing), CSAT 2: machine tags ``re-explain`` (rule, turn 1,
  span over "explain this again"), ``transfer`` (model, turn 3), ``long-wait`` (comment);
  a turn contains ``<b>`` and ``&`` to check escaping; optional recording.
- ``C-1002`` Sam Okafor (a-02, Tech), CSAT 5: ``agent-praise`` (rule); has a Review row.
- ``C-1003`` Dana Reyes, CSAT 3: ``unresolved`` (rule), ``broken-callback`` rejected by a
  lead's decision, ``rushed`` added by one.
- ``C-1004`` Sam Okafor, pending: no transcript, no survey, no tags.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import struct
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from qa.store.calltags import refresh_call_tags
from qa.store.engine import session_scope
from qa.store.schema import Call, CallMetrics, Decision, Review, Survey, Tag, Turn


def free_port() -> int:
    """A TCP port nothing listens on now (for a test server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Sign-in names of the test users, by role: name -> (role, password).
USERS = {
    "rita": ("reviewer", "rita-reviews-calls"),
    "lena": ("lead", "lena-leads-the-team"),
    "cole": ("coach", "cole-coaches-agents"),
    "adam": ("admin", "adam-admins-users"),
}
REVIEWER, LEAD, COACH, ADMIN = "rita", "lena", "cole", "adam"


def add_users(engine: Engine) -> None:
    """Create :data:`USERS` (those missing) in ``engine``'s database."""
    from qa.auth import add_user, list_users

    with session_scope(engine) as s:
        known = {u.name for u in list_users(session=s)}
        for name, (role, password) in USERS.items():
            if name not in known:
                add_user(session=s, name=name, role=role, password=password)


@contextmanager
def launched(engine: Engine, *, users: bool = True, **serve_options: Any) -> Iterator[Any]:
    """``review_ui.app.serve`` on a free port, with :data:`USERS` signed up unless ``users``
    is False (then the app is read-only) and the taxonomy's tags, as ``qa serve`` passes
    them; closes the app and disposes ``engine`` after."""
    from qa.config import Settings
    from qa.stages.factories import taxonomy_tag_names
    from review_ui.app import serve

    if users:
        add_users(engine)
    serve_options.setdefault("tag_names", taxonomy_tag_names(Settings.from_env()))
    demo = serve(engine, port=free_port(), prevent_thread_lock=True, **serve_options)
    try:
        yield demo
    finally:
        demo.close()
        engine.dispose()


def ui_client(demo: Any, user: str | None = REVIEWER) -> Any:
    """A ``gradio_client.Client`` on a launched app, signed in as ``user`` (None: anonymous)."""
    from gradio_client import Client

    auth = (user, USERS[user][1]) if user else None
    return Client(demo.local_url, auth=auth, verbose=False)


def sign_in(page: Any, url: str, user: str = REVIEWER) -> None:
    """Open ``url`` in a Playwright ``page`` and sign in through Gradio's login form."""
    page.goto(url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(USERS[user][1])
    page.get_by_role("button", name="Login").click()
    page.locator("#signed-in").get_by_text(user).wait_for()


CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str) -> None:
    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests: apt-get install -y chromium)")
    pytest.skip(reason)


@contextmanager
def chromium_page(width: int = 1400, height: int = 1000, timeout_ms: int = 30_000) -> Iterator[Any]:
    """A Playwright page in headless Debian chromium (``QA_CHROMIUM``). Without chromium or
    Playwright the test is skipped, and fails under CI, which must run the browser tests."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _missing(f"chromium not found at {CHROMIUM} (install Debian's chromium package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(timeout_ms)
            yield page
        finally:
            browser.close()


RE_EXPLAIN_TEXT = (
    "I have to explain this again, I already told the last <b>agent</b> & nobody wrote it down."
)
EVIDENCE = "explain this again"


def write_wav(path: Path, seconds: float = 1.5, rate: int = 8000) -> Path:
    """A short mono 440 Hz tone (16-bit PCM) standing in for a call recording."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return path


def _call(ext: str, day: int, agent: tuple[str, str, str], **kw) -> Call:  # type: ignore[no-untyped-def]
    agent_id, agent_name, team = agent
    return Call(
        external_id=ext,
        started_at=datetime(2024, 5, day, 9, 30),
        agent_id=agent_id,
        agent_name=agent_name,
        team=team,
        queue=team.lower(),
        customer_id=f"cust-{day}",
        talk_seconds=240.0,
        **kw,
    )


def _turns(call_id: int, lines: list[tuple[str, str]]) -> list[Turn]:
    return [
        Turn(call_id=call_id, index=i, speaker=who, start=i * 7.5, end=i * 7.5 + 6.0, text=text)
        for i, (who, text) in enumerate(lines)
    ]


def populate(engine: Engine, recordings_dir: Path | None = None) -> dict[str, int]:
    """Fill ``engine``'s database with the four calls above; returns external id -> call id."""
    dana = ("a-01", "Dana Reyes", "Billing")
    sam = ("a-02", "Sam Okafor", "Tech")
    recording = str(write_wav(recordings_dir / "C-1001.wav")) if recordings_dir else None
    with session_scope(engine) as s:
        c1 = _call("C-1001", 1, dana, status="tagged", transferred=True, recording_path=recording)
        c2 = _call("C-1002", 2, sam, status="tagged")
        c3 = _call("C-1003", 3, dana, status="tagged")
        c4 = _call("C-1004", 4, sam, status="pending")
        s.add_all([c1, c2, c3, c4])
        s.flush()
        s.add_all(
            _turns(
                c1.id,
                [
                    ("agent", "Thanks for calling Acme billing, this is Dana. How can I help?"),
                    ("customer", RE_EXPLAIN_TEXT),
                    ("agent", "I'm sorry about that. Let me pull up your account."),
                    ("agent", "I'll transfer you to our refunds team, they can fix the charge."),
                    ("customer", "Fine. Please make sure they have my notes this time."),
                ],
            )
        )
        s.add_all(
            _turns(
                c2.id,
                [
                    ("agent", "Tech support, Sam speaking."),
                    ("customer", "My router keeps dropping the connection."),
                    ("agent", "Let's restart it together and update the firmware."),
                    ("customer", "That fixed it, you were really helpful, thank you!"),
                ],
            )
        )
        s.add_all(
            _turns(
                c3.id,
                [
                    ("agent", "Billing, Dana here."),
                    ("customer", "Someone promised to call me back last week and never did."),
                    ("agent", "I see. I can't fix that today, anything else?"),
                ],
            )
        )
        start = RE_EXPLAIN_TEXT.index(EVIDENCE)
        s.add_all(
            [
                Tag(
                    call_id=c1.id,
                    tag="re-explain",
                    source="transcript",
                    turn_index=1,
                    span_start=start,
                    span_end=start + len(EVIDENCE),
                    evidence=EVIDENCE,
                    method="rule",
                    score=1.0,
                ),
                Tag(
                    call_id=c1.id,
                    tag="transfer",
                    source="transcript",
                    turn_index=3,
                    evidence="transfer you to our refunds team",
                    method="model",
                    score=0.87,
                ),
                Tag(
                    call_id=c1.id,
                    tag="long-wait",
                    source="comment",
                    evidence="40 minutes on hold",
                    method="rule",
                    score=1.0,
                ),
                Tag(
                    call_id=c2.id,
                    tag="agent-praise",
                    source="transcript",
                    turn_index=3,
                    evidence="you were really helpful",
                    method="rule",
                    score=1.0,
                ),
                Tag(
                    call_id=c3.id,
                    tag="unresolved",
                    source="transcript",
                    turn_index=2,
                    evidence="I can't fix that today",
                    method="rule",
                    score=1.0,
                ),
                Tag(
                    call_id=c3.id,
                    tag="broken-callback",
                    source="transcript",
                    turn_index=1,
                    evidence="promised to call me back",
                    method="model",
                    score=0.64,
                ),
                Decision(
                    call_id=c3.id,
                    tag="broken-callback",
                    present=False,
                    reviewer="qa-lead",
                    role="lead",
                ),
                Decision(
                    call_id=c3.id, tag="rushed", present=True, reviewer="qa-lead", role="lead"
                ),
            ]
        )
        s.add_all(
            [
                Survey(
                    call_external_id="C-1001",
                    csat=2,
                    nps=3,
                    ces=6,
                    fcr=False,
                    comment="Waited 40 minutes on hold & got transferred twice.",
                ),
                Survey(
                    call_external_id="C-1002",
                    csat=5,
                    nps=10,
                    ces=1,
                    fcr=True,
                    comment="Sam was great.",
                ),
                Survey(call_external_id="C-1003", csat=3, nps=6, ces=4, fcr=None, comment=""),
            ]
        )
        s.add(
            CallMetrics(
                call_id=c1.id,
                agent_talk_seconds=120.0,
                customer_talk_seconds=90.0,
                silence_seconds=30.0,
                longest_silence_seconds=12.0,
                overtalk_seconds=2.5,
                agent_wpm=150.0,
                customer_wpm=140.0,
                extra={
                    "agent_talk_ratio": 120 / 210,
                    "customer_talk_ratio": 90 / 210,
                    "silences_over_5s": 2,
                    "interruptions_by_agent": 3,
                    "interruptions_by_customer": 1,
                    "holds": [[40.0, 75.0]],
                    "hold_seconds": 35.0,
                },
            )
        )
        s.add(
            Review(
                call_id=c2.id, reviewer="qa-lead", scorecard={"greeting": True}, notes="Model call."
            )
        )
        ids = {c.external_id: c.id for c in (c1, c2, c3, c4)}
        # Tags and decisions were written directly: keep the call list's effective tags
        # in step, as every writer in callqa does.
        refresh_call_tags(s, ids.values())
    return ids
