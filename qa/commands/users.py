"""``qa users add|list|disable|enable|passwd``: who may sign in to the review UI, and as what.

Registered on the ``qa`` app in ``qa.cli``. Passwords are prompted for (hidden, twice) or
read from standard input with ``--password-stdin``, never taken as an argument, so they stay
out of shell history and ``ps``.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from qa.commands.options import DbOption, fail, open_engine

app = typer.Typer(
    help="Users of the review UI: sign-in names, roles (coach, reviewer, lead, admin).",
    no_args_is_help=True,
)


class Role(StrEnum):
    coach = "coach"
    reviewer = "reviewer"
    lead = "lead"
    admin = "admin"


PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input."
    ),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise fail("--password-stdin: standard input is empty")
        return line.rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Sign-in name (letters, digits, . _ @ -).")],
    role: Annotated[Role, typer.Option(help="What the user may do.")] = Role.reviewer,
    password_stdin: PasswordStdin = False,
    db: DbOption = None,
) -> None:
    """Add a user. coach: read + coaching packs; reviewer: + tag decisions and scorecards;
    lead: + calibration, scorecard set-up, themes; admin: + users."""
    from sqlmodel import Session

    from qa.auth import AuthError, add_user

    password = _password(password_stdin)
    try:
        with Session(open_engine(db)) as session:
            info = add_user(session=session, name=name, role=role.value, password=password)
    except AuthError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"added {info.name} ({info.role})")


@app.command("list")
def list_(db: DbOption = None) -> None:
    """List the users, their roles and whether they are disabled."""
    from sqlmodel import Session

    from qa.auth import list_users

    with Session(open_engine(db)) as session:
        users = list_users(session=session)
    if not users:
        typer.echo("no users yet: add one with  qa users add NAME --role lead")
        return
    typer.echo(f"{'name':<24} {'role':<9} {'status':<9} last sign-in")
    for u in users:
        seen = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
        status = "disabled" if u.disabled else "active"
        typer.echo(f"{u.name:<24} {u.role:<9} {status:<9} {seen}")


def _toggle(name: str, db: str | None, *, disabled: bool) -> None:
    from sqlmodel import Session

    from qa.auth import AuthError, disable_user, enable_user

    change = disable_user if disabled else enable_user
    try:
        with Session(open_engine(db)) as session:
            info = change(session=session, name=name)
    except AuthError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{info.name} is now {'disabled' if info.disabled else 'active'}")


@app.command("disable")
def disable(
    name: Annotated[str, typer.Argument(help="The user to disable.")], db: DbOption = None
) -> None:
    """Stop a user from signing in (their decisions keep their name; sessions end at once)."""
    _toggle(name, db, disabled=True)


@app.command("enable")
def enable(
    name: Annotated[str, typer.Argument(help="The user to enable.")], db: DbOption = None
) -> None:
    """Let a disabled user sign in again."""
    _toggle(name, db, disabled=False)


@app.command("passwd")
def passwd(
    name: Annotated[str, typer.Argument(help="The user whose password changes.")],
    password_stdin: PasswordStdin = False,
    db: DbOption = None,
) -> None:
    """Set a new password for a user."""
    from sqlmodel import Session

    from qa.auth import AuthError
    from qa.auth.users import set_password

    password = _password(password_stdin)
    try:
        with Session(open_engine(db)) as session:
            set_password(session=session, name=name, password=password)
    except AuthError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"password of {name} changed")
