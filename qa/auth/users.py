"""Users of the review UI: add, list, disable, check a password.

Passwords are hashed with argon2id through ``pwdlib`` (argon2-cffi underneath); only the hash
is stored. A check against an unknown or disabled user still runs one hash verification, so
the time it takes does not tell which names exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from sqlmodel import Session, col, func, select

from qa.auth.roles import check_role
from qa.store.schema import User

if TYPE_CHECKING:
    from pwdlib import PasswordHash

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class AuthError(ValueError):
    """A user operation that cannot be done (bad name, weak password, unknown user)."""


@dataclass(frozen=True)
class Identity:
    """A signed-in, enabled user: the name stored on every decision, and the role."""

    name: str
    role: str


@dataclass(frozen=True)
class UserInfo:
    """One row of ``qa users list`` (no hash)."""

    name: str
    role: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


@cache
def _hasher() -> PasswordHash:
    # Built on first use (not at import): pwdlib picks argon2id with its recommended costs.
    from pwdlib import PasswordHash

    return PasswordHash.recommended()


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not a real password: evens out the time of failed sign-ins")


def check_name(name: str) -> str:
    """A user name: 1-64 letters, digits, ``.``, ``_``, ``@`` or ``-``, starting alphanumeric."""
    if not NAME_PATTERN.fullmatch(name or ""):
        raise AuthError(
            f"user name {name!r} is not valid: use 1-64 letters, digits, '.', '_', '@' or '-',"
            " starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    """A password of a sensible length (the only rule: long passphrases beat symbol rules)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"password too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthError(f"password too long: at most {MAX_PASSWORD_LENGTH} characters")
    return password


def _get(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == name)).first()


def _require(session: Session, name: str) -> User:
    user = _get(session, name)
    if user is None:
        known = ", ".join(u.name for u in session.exec(select(User).order_by(User.name)))
        raise AuthError(f"no user {name!r}; users: {known or '(none yet)'}")
    return user


def has_users(*, session: Session) -> bool:
    """Whether any user exists (sign-in is then required everywhere)."""
    return session.exec(select(func.count()).select_from(User)).one() > 0


def add_user(*, session: Session, name: str, role: str, password: str) -> UserInfo:
    """Create a user; the name must be new. Commits."""
    check_name(name)
    check_role(role)
    check_password(password)
    if _get(session, name) is not None:
        raise AuthError(
            f"user {name!r} already exists: pick another name "
            "(qa users passwd NAME sets a new password)"
        )
    user = User(name=name, role=role, password_hash=_hasher().hash(password))
    session.add(user)
    session.commit()
    return _info(user)


def set_password(*, session: Session, name: str, password: str) -> None:
    """Replace a user's password. Commits."""
    user = _require(session, name)
    user.password_hash = _hasher().hash(check_password(password))
    session.add(user)
    session.commit()


def _set_disabled(session: Session, name: str, disabled: bool) -> UserInfo:
    user = _require(session, name)
    user.disabled = disabled
    session.add(user)
    session.commit()
    return _info(user)


def disable_user(*, session: Session, name: str) -> UserInfo:
    """Stop a user from signing in (their past decisions keep their name). Commits."""
    return _set_disabled(session, name, True)


def enable_user(*, session: Session, name: str) -> UserInfo:
    """Let a disabled user sign in again. Commits."""
    return _set_disabled(session, name, False)


def list_users(*, session: Session) -> list[UserInfo]:
    """Every user, by name."""
    return [_info(u) for u in session.exec(select(User).order_by(col(User.name)))]


def authenticate(*, session: Session, name: str, password: str) -> Identity | None:
    """The identity for a correct name and password of an enabled user; else None.

    Records the sign-in time on success (commits).
    """
    user = _get(session, name) if NAME_PATTERN.fullmatch(name or "") else None
    if user is None or user.disabled or len(password) > MAX_PASSWORD_LENGTH:
        _hasher().verify("wrong", _dummy_hash())  # same cost as a real check
        return None
    if not _hasher().verify(password, user.password_hash):
        return None
    user.last_login_at = datetime.now()
    session.add(user)
    session.commit()
    return Identity(user.name, user.role)


def find_identity(*, session: Session, name: str | None) -> Identity | None:
    """The identity of a signed-in name, or None when it is unknown or now disabled."""
    if not name:
        return None
    user = _get(session, name)
    if user is None or user.disabled:
        return None
    return Identity(user.name, user.role)


def _info(user: User) -> UserInfo:
    return UserInfo(user.name, user.role, user.disabled, user.created_at, user.last_login_at)
