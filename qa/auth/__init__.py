"""Sign-in and roles: users with argon2 password hashes, and what each role may do."""

from qa.auth.roles import ROLES, Permission, can, permissions_of
from qa.auth.users import (
    AuthError,
    Identity,
    add_user,
    authenticate,
    disable_user,
    enable_user,
    find_identity,
    has_users,
    list_users,
    set_password,
)

__all__ = [
    "ROLES",
    "AuthError",
    "Identity",
    "Permission",
    "add_user",
    "authenticate",
    "can",
    "disable_user",
    "enable_user",
    "find_identity",
    "has_users",
    "list_users",
    "permissions_of",
    "set_password",
]
