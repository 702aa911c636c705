"""Passwords, sign-in and account changes."""

from __future__ import annotations

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from marac import audit
from marac.extensions import db
from marac.models import User

MIN_PASSWORD_LENGTH = 12
# Verified against when the username is unknown, so that a wrong username takes as long as a
# wrong password and usernames cannot be discovered by timing.
_DUMMY_HASH_CACHE: dict[tuple, str] = {}


def hasher() -> PasswordHasher:
    return PasswordHasher(**current_app.config["MARAC_ARGON2"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > 256:
        return "Use at most 256 characters."
    return None


def _dummy_hash() -> str:
    key = tuple(sorted(current_app.config["MARAC_ARGON2"].items()))
    if key not in _DUMMY_HASH_CACHE:
        _DUMMY_HASH_CACHE[key] = hash_password("not-a-real-password-for-timing")
    return _DUMMY_HASH_CACHE[key]


def authenticate(username: str, password: str) -> User | None:
    """The user if the password is right and the account may sign in; audits both outcomes."""
    user = db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    ph = hasher()
    if user is None:
        try:
            ph.verify(_dummy_hash(), password)
        except VerificationError:
            pass
        audit.record("login.failed", detail="unknown username")
        return None
    try:
        ph.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        audit.record(
            "login.failed",
            user=user,
            object_type="user",
            object_id=user.id,
            detail="wrong password",
        )
        return None
    if not user.is_active:
        audit.record(
            "login.refused",
            user=user,
            object_type="user",
            object_id=user.id,
            detail="account or agency disabled",
        )
        return None
    if ph.check_needs_rehash(user.password_hash):
        user.password_hash = ph.hash(password)
    audit.record("login", user=user, object_type="user", object_id=user.id)
    return user
