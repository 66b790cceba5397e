"""Roles and the permissions each one grants (one table: change it here, nowhere else).

- coach: reads everything, builds coaching packs;
- reviewer: also decides on tags and fills scorecards;
- lead: also calibration, the scorecard set-up, theme renames and promotions, and (when the
  deployment keeps originals) playing the unredacted recording;
- admin: everything, including managing users.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """One thing a signed-in user may do."""

    read = "read"
    build_packs = "build_packs"
    decide_tags = "decide_tags"
    review = "review"
    calibrate = "calibrate"
    edit_scorecards = "edit_scorecards"
    manage_themes = "manage_themes"
    play_original = "play_original"
    manage_users = "manage_users"


_COACH = frozenset({Permission.read, Permission.build_packs})
_REVIEWER = _COACH | {Permission.decide_tags, Permission.review}
_LEAD = _REVIEWER | {
    Permission.calibrate,
    Permission.edit_scorecards,
    Permission.manage_themes,
    Permission.play_original,
}
GRANTS: dict[str, frozenset[Permission]] = {
    "coach": _COACH,
    "reviewer": frozenset(_REVIEWER),
    "lead": frozenset(_LEAD),
    "admin": frozenset(Permission),
}
ROLES: tuple[str, ...] = tuple(GRANTS)


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`; else a ValueError that lists them."""
    if role not in GRANTS:
        raise ValueError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    return role


def permissions_of(role: str) -> frozenset[Permission]:
    """What ``role`` may do (nothing for an unknown role)."""
    return GRANTS.get(role, frozenset())


def can(role: str | None, permission: Permission) -> bool:
    """Whether ``role`` grants ``permission``; ``None`` (nobody signed in) grants nothing."""
    return role is not None and permission in permissions_of(role)


def roles_with(permission: Permission) -> list[str]:
    """The roles that grant ``permission``, lowest first (for error messages)."""
    return [role for role in ROLES if permission in GRANTS[role]]
