"""Who may call what in the review UI: sign-in, roles per event, and HTTP 401 at the door.

Gradio's own sign-in (``launch(auth=...)``) guards every page, file and API route once a
user exists: an anonymous client gets 401. On top of it, each event that writes is declared
with :meth:`Access.needs` and the permission it takes (``qa.auth.roles``). That permission is
checked twice: by :class:`RoleGate`, an ASGI middleware that answers 401 before the event
is queued, whichever route the client used (``/queue/join`` with a ``fn_index`` or
``/call/<api_name>``), and inside the handler itself, so nothing reaches the database without
a signed-in identity allowed to write it. The signed-in name is the reviewer on every write.
"""

from __future__ import annotations

import functools
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gradio as gr

from qa.auth import Identity, Permission, authenticate, can, find_identity, has_users
from qa.auth.roles import roles_with
from qa.store.api import transact

if TYPE_CHECKING:
    from qa.store.api import Engine

NO_USERS = (
    "sign-in is off because no user exists, so this UI is read-only; add one with "
    "`qa users add NAME --role reviewer` and restart `qa serve`"
)
MAX_FAILURES = 5
FAILURE_WINDOW_SECONDS = 300.0
_EVENT_ROUTES = ("/call/v2/", "/call/", "/run/", "/api/")


class Denied(PermissionError):
    """The caller is not signed in, or its role does not grant the permission."""


class Access:
    """Sign-in and permissions over the users in ``engine``'s database.

    ``sign_in`` says whether Gradio's login is on (it is whenever a user exists).
    """

    def __init__(self, engine: Engine, *, sign_in: bool) -> None:
        self.engine = engine
        self.sign_in = sign_in
        self.permissions: dict[Callable[..., Any], Permission] = {}
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    @classmethod
    def for_database(cls, engine: Engine) -> Access:
        """Sign-in on whenever a user exists in ``engine``'s database."""
        return cls(engine, sign_in=transact(engine, has_users))

    def check_password(self, username: str, password: str) -> bool:
        """Gradio's ``auth`` callable: a correct password of an enabled user, and not more
        than :data:`MAX_FAILURES` failures for that name in the last five minutes."""
        now = time.monotonic()
        recent = self._failures[username]
        while recent and now - recent[0] > FAILURE_WINDOW_SECONDS:
            recent.popleft()
        identity = transact(self.engine, authenticate, name=username, password=password)
        if identity is None or len(recent) >= MAX_FAILURES:
            recent.append(now)
            return False
        recent.clear()
        return True

    def identity(self, username: str | None) -> Identity | None:
        """The enabled user behind a signed-in name (None: anonymous, unknown or disabled)."""
        if not self.sign_in or not username:
            return None
        return transact(self.engine, find_identity, name=username)

    def judge(self, who: Identity | None, permission: Permission) -> str | None:
        """Why ``who`` (from :meth:`identity`) may not use ``permission`` (None when it may)."""
        if not self.sign_in:
            return NO_USERS
        if who is None:
            return "not signed in (or the user is disabled): sign in again"
        if not can(who.role, permission):
            allowed = ", ".join(roles_with(permission))
            return f"{who.name} is a {who.role}; {permission.value} needs one of: {allowed}"
        return None

    def require(self, request: gr.Request | None, permission: Permission) -> Identity:
        """The caller's identity if it may use ``permission``; else :class:`Denied`."""
        who = self.identity(getattr(request, "username", None))
        reason = self.judge(who, permission)
        if reason is not None:
            raise Denied(reason)
        assert who is not None  # judge() refuses anyone else
        return who

    def needs(self, permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare an event handler's permission. The handler must take ``request:
        gr.Request`` and ``who: Identity`` (keyword) last: ``who`` is filled in here, after
        the check; a refusal is shown to the user as an error."""

        def declare(fn: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(fn)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                request = next((a for a in (*args, *kwargs.values())
                                if isinstance(a, gr.Request)), None)  # fmt: skip
                try:
                    who = self.require(request, permission)
                except Denied as exc:
                    raise gr.Error(f"Not allowed: {exc}", print_exception=False) from None
                return fn(*args, who=who, **kwargs)

            # Gradio reads the signature to pass inputs and the request; ``who`` is ours.
            guarded.__signature__ = _without_who(fn)  # type: ignore[attr-defined]
            self.permissions[guarded] = permission
            return guarded

        return declare

    def permissions_of(
        self, blocks: gr.Blocks, fn_index: int | None, api_name: str | None
    ) -> list[Permission]:
        """The permissions declared for the events a request names: by its path's api_name
        and by its body's ``fn_index`` (Gradio runs the ``fn_index`` when both are given, so
        both are checked)."""
        found = []
        for index, block_fn in blocks.fns.items():
            named = api_name is not None and block_fn.api_name == api_name
            if named or index == fn_index:
                permission = self.permissions.get(block_fn.fn)  # type: ignore[arg-type]
                if permission is not None:
                    found.append(permission)
        return found


def _without_who(fn: Callable[..., Any]) -> Any:
    import inspect

    signature = inspect.signature(fn)
    return signature.replace(parameters=[p for n, p in signature.parameters.items() if n != "who"])


class RoleGate:
    """ASGI middleware: a 401 before queueing for an event the caller's role may not use."""

    def __init__(self, app: Any, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        gradio_app = scope["app"]
        username, token = _session(scope, gradio_app)
        who = self.access.identity(username)  # one look-up serves every check below
        if username is not None and self.access.sign_in and who is None:
            # Disabled since signing in: end the session for reads too, not only writes.
            gradio_app.tokens.pop(token, None)
            await _unauthorized(send, "this user is disabled; ask an admin")
            return
        target = _event_target(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        body, replay = await _read_body(receive)
        try:
            fn_index = json.loads(body or b"{}").get("fn_index")
        except (ValueError, AttributeError):
            fn_index = None
        blocks = gradio_app.get_blocks()
        for permission in self.access.permissions_of(blocks, fn_index, target or None):
            reason = self.access.judge(who, permission)
            if reason is not None:
                await _unauthorized(send, reason)
                return
        await self.app(scope, replay, send)


def _event_target(scope: dict[str, Any]) -> str | None:
    """For a POST that runs an event: its api_name, or "" for ``/queue/join`` (the body
    names the event); None for anything else."""
    if scope.get("type") != "http" or scope.get("method") != "POST":
        return None
    path = scope.get("path", "")
    if path.endswith("/queue/join"):
        return ""
    _, sep, rest = path.partition("/gradio_api")
    if not sep:
        return None
    for prefix in _EVENT_ROUTES:
        if rest.startswith(prefix):
            return rest[len(prefix) :].strip("/").split("/", 1)[0] or None
    return None


async def _read_body(receive: Any) -> tuple[bytes, Any]:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


def _session(scope: dict[str, Any], gradio_app: Any) -> tuple[str | None, str | None]:
    """The signed-in name of a request (Gradio's session cookie), and its token."""
    from starlette.requests import Request

    cookies = Request(scope).cookies
    cookie_id = getattr(gradio_app, "cookie_id", "")
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(
        f"access-token-unsecure-{cookie_id}"
    )
    return (gradio_app.tokens.get(token) if token else None), token


async def _unauthorized(send: Any, reason: str) -> None:
    body = json.dumps({"detail": f"Unauthorized: {reason}"}).encode()
    await send({"type": "http.response.start", "status": 401,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
