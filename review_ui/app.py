"""Gradio review app: the Review, Insights, Themes, Calibration and Coaching tabs over one
database.

``build_app(engine)`` returns the ``gr.Blocks``; ``serve(engine)`` builds and launches it.
Each tab has its own builder (``review_ui.review``, ``review_ui.insights``,
``review_ui.themes``, ``review_ui.calibration``, ``review_ui.coaching_tab``); this module
only assembles them with sign-in (``review_ui.access``), playback (``qa.review.playback``)
and the export folder and link address (``review_ui.exports``). The UI reads and writes
through ``qa.store.api``.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr
from starlette.middleware import Middleware

from review_ui.access import Access, RoleGate
from review_ui.calibration import build_calibration_tab
from review_ui.coaching_tab import build_coaching_tab
from review_ui.exports import ExportFolder, UiAddress
from review_ui.insights import build_insights_tab
from review_ui.review import build_review_tab
from review_ui.themes import build_themes_tab
from review_ui.workbench import JS as WORKBENCH_JS

if TYPE_CHECKING:
    from qa.review.playback import Playback
    from qa.review.scorecard import Scorecard
    from qa.store.api import Engine


def build_app(
    engine: Engine,
    *,
    tag_names: Sequence[str] = (),
    access: Access | None = None,
    playback: Playback | None = None,
    scorecard: Scorecard | None = None,
    title: str = "callqa review",
) -> gr.Blocks:
    """The review UI over the database behind ``engine``.

    ``tag_names``: the taxonomy's tags, offered for "add a tag"
    (``qa.stages.factories.taxonomy_tag_names``); ``access`` decides who may write (default:
    sign-in on whenever a user exists); ``playback`` serves the recordings (None: no audio);
    ``scorecard``: what reviewers fill (default: ``models/scorecards/default.json``,
    ``qa.review.reviews.default_scorecard``).
    """
    from qa.review.reviews import default_scorecard

    if access is None:
        access = Access.for_database(engine)
    if scorecard is None:
        scorecard = default_scorecard()
    if playback is not None:
        # Gradio copies every file it serves into its cache: keep that cache private too.
        os.environ["GRADIO_TEMP_DIR"] = str(playback.gradio_cache)

    def signed_in_line(request: gr.Request) -> str:
        who = access.identity(getattr(request, "username", None))
        if who is not None:
            return f"Signed in as **{who.name}** ({who.role}) · [Sign out](/logout)"
        return "Read-only: no user exists yet (`qa users add NAME --role reviewer`)."

    exports = ExportFolder()  # the list's CSV and pack exports
    atexit.register(exports.close)  # removed when the process ends (Ctrl+C, SIGTERM: see serve)
    address = UiAddress.from_env()
    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        with gr.Row(equal_height=True):
            gr.Markdown(f"# {title}")
            signed_in = gr.Markdown("", elem_id="signed-in")
        with gr.Tabs(elem_id="tabs") as tabs:
            review = build_review_tab(demo, engine, access, tag_names=tag_names,
                                      scorecard=scorecard, playback=playback,
                                      exports=exports, address=address)  # fmt: skip
            build_insights_tab(engine)
            build_themes_tab(engine, access)
            build_calibration_tab(engine, access)
            build_coaching_tab(demo, tabs, engine, access, playback=playback,
                               list_query=review.calls.query, exports=exports,
                               address=address)  # fmt: skip
        demo.load(signed_in_line, None, signed_in, api_visibility="private")
        # The review screen's page script (click-to-seek, keys; review_ui.workbench): a hidden
        # component runs it once the page is up (Gradio 6 took js= off gr.Blocks).
        gr.HTML(js_on_load=WORKBENCH_JS, visible="hidden", elem_id="qa-workbench")
    return demo


def serve(
    engine: Engine,
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    tag_names: Sequence[str] = (),
    playback: Playback | None = None,
    prevent_thread_lock: bool = False,
    announce: Callable[[], None] | None = None,
    **launch_kwargs: Any,
) -> gr.Blocks:
    """Build and launch the app (no share link, no telemetry); returns the Blocks.

    Sign-in is required whenever a user exists; with none, the app is read-only and only
    a loopback ``host`` is allowed (a ValueError says how to add a user). ``tag_names``: as
    for :func:`build_app`. ``announce`` runs once the host is accepted, before the server
    starts (and, without ``prevent_thread_lock``, blocks). The caller closes ``playback``:
    SIGTERM is turned into a normal exit so that its ``finally`` runs.
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    access = Access.for_database(engine)
    if not access.sign_in and not is_loopback(host):
        raise ValueError(refuse_open_host(host))
    demo = build_app(engine, tag_names=tag_names, access=access, playback=playback)
    launch_kwargs.setdefault("quiet", True)
    launch_kwargs.setdefault("show_error", True)
    if access.sign_in:
        launch_kwargs.setdefault("auth", access.check_password)
        launch_kwargs.setdefault("auth_message", "Sign in with your callqa user name.")
    app_kwargs = dict(launch_kwargs.pop("app_kwargs", None) or {})
    gate = Middleware(RoleGate, access=access)  # 401 before queueing, per event and role
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), gate]
    if playback is not None and not prevent_thread_lock:
        _exit_on_sigterm()  # launch() blocks this thread until the server stops
    if announce is not None:
        announce()
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        prevent_thread_lock=prevent_thread_lock,
        app_kwargs=app_kwargs,
        **launch_kwargs,
    )
    return demo


def _exit_on_sigterm() -> None:
    """Turn SIGTERM (systemd, docker stop, kill) into a normal exit, so the private media
    folder is removed as on Ctrl+C; only possible from the main thread."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def is_loopback(host: str) -> bool:
    """Whether ``host`` binds only this machine (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_open_host(host: str) -> str:
    """Why an open ``--host`` is refused while no user exists, and what to do."""
    return (
        f"refusing to serve on {host} without sign-in: no user exists, so anyone who reaches "
        "the port could read every call. Add one first:  qa users add NAME --role lead  "
        "(then qa serve asks everyone to sign in), or serve on 127.0.0.1"
    )
