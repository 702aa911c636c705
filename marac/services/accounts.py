"""Passwords, the second factor, sign-in and its lock-out, and account changes.

Signing in takes the username, the password and a code (from the authenticator app, or a
recovery code) in one go, and answers with one message whatever was wrong, so that a guesser
learns neither which usernames exist nor whether the password alone was right. Only an account
that has never enrolled a second factor is told its password was right: it goes on to enrol.

Failures in a row (password or code) lock the account for a while (``MARAC_LOGIN_LOCK_AFTER``,
``MARAC_LOGIN_LOCK_MINUTES``); the web layer also limits attempts per address (Flask-Limiter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from marac import audit, clock, sealing, twofactor
from marac.extensions import db
from marac.models import RecoveryCode, SignInState, User

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


def _verify_dummy(password: str) -> None:
    try:
        hasher().verify(_dummy_hash(), password)
    except VerificationError:
        pass


def sign_in_state(user: User) -> SignInState:
    if user.sign_in is None:
        user.sign_in = SignInState(user_id=user.id, failed_attempts=0)
    return user.sign_in


class Outcome(StrEnum):
    SIGNED_IN = "signed in"
    ENROL = "enrol a second factor"
    REFUSED = "refused"


@dataclass(frozen=True)
class SignInResult:
    outcome: Outcome
    user: User | None = None
    recovery_codes_left: int | None = None  # set when a recovery code was used


def _is_locked(state: SignInState, now: datetime) -> bool:
    return state.locked_until is not None and now < clock.as_utc(state.locked_until)


def _audit_user(action: str, user: User, detail: str | None = None) -> None:
    audit.record(action, user=user, object_type="user", object_id=user.id, detail=detail)


def _failure(user: User, state: SignInState, now: datetime, what: str) -> None:
    config = current_app.config
    state.failed_attempts = (state.failed_attempts or 0) + 1
    if state.failed_attempts >= config["MARAC_LOGIN_LOCK_AFTER"]:
        minutes = config["MARAC_LOGIN_LOCK_MINUTES"]
        state.locked_until = now + timedelta(minutes=minutes)
        state.failed_attempts = 0
        what = f"{what}; locked for {minutes} minutes after repeated failures"
    _audit_user("login.failed", user, what)


def _password_ok(user: User, password: str) -> bool:
    try:
        hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return True


def _second_factor(user: User, state: SignInState, code: str, now: datetime) -> str | None:
    """None when the code is right (and is then used up); otherwise what was wrong, in words."""
    if twofactor.looks_like_totp(code):
        try:
            secret = state.totp_secret or ""
        except sealing.SealBroken:
            # The service runs with another data key than the one the secret was sealed with:
            # nobody's code can be checked. Said in the log and the audit, never to the person
            # signing in; recovery codes (hashed, not sealed) still work.
            current_app.logger.error("second-factor secret of user %s cannot be opened", user.id)
            return "second-factor secret cannot be opened with this service's data key"
        step = twofactor.accepted_step(secret, code, now, state.totp_last_step)
        if step is None:
            return "wrong or reused code"
        state.totp_last_step = step
        return None
    if twofactor.looks_like_recovery_code(code):
        return None if use_recovery_code(user, code, now) else "wrong recovery code"
    return "no code"


def authenticate(username: str, password: str, code: str = "") -> SignInResult:
    """Checks both factors; audits every outcome. Flushes nothing the caller must undo."""
    now = clock.utc_now()
    user = db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None:
        _verify_dummy(password)
        audit.record("login.failed", detail="unknown username")
        return SignInResult(Outcome.REFUSED)
    state = sign_in_state(user)
    if _is_locked(state, now):
        _verify_dummy(password)
        _audit_user("login.failed", user, "account locked")
        return SignInResult(Outcome.REFUSED, user)
    if not _password_ok(user, password):
        _failure(user, state, now, "wrong password")
        return SignInResult(Outcome.REFUSED, user)
    if not user.is_active:
        _audit_user("login.refused", user, "account or agency disabled")
        return SignInResult(Outcome.REFUSED, user)
    if not state.enrolled:
        _audit_user("login.enrol", user, "password accepted; second factor not set up yet")
        return SignInResult(Outcome.ENROL, user)
    problem = _second_factor(user, state, code, now)
    if problem is not None:
        _failure(user, state, now, problem)
        return SignInResult(Outcome.REFUSED, user)
    _succeeded(user, state, password)
    used_recovery = not twofactor.looks_like_totp(code)
    left = recovery_codes_left(user) if used_recovery else None
    _audit_user("login", user, "with a recovery code" if used_recovery else None)
    return SignInResult(Outcome.SIGNED_IN, user, left)


def _succeeded(user: User, state: SignInState, password: str) -> None:
    state.failed_attempts = 0
    state.locked_until = None
    ph = hasher()
    if ph.check_needs_rehash(user.password_hash):
        user.password_hash = ph.hash(password)


def confirm_identity(user: User, password: str, code: str) -> bool:
    """Re-authentication of a signed-in user before a sensitive action: both factors again.

    Failures count towards the same lock as signing in; a locked account is refused here too.
    """
    now = clock.utc_now()
    state = sign_in_state(user)
    if _is_locked(state, now) or not user.is_active:
        _verify_dummy(password)
        _audit_user("reauth.failed", user, "account locked or disabled")
        return False
    problem = None if _password_ok(user, password) else "wrong password"
    if problem is None:
        problem = _second_factor(user, state, code, now)
    if problem is not None:
        _failure(user, state, now, problem)
        _audit_user("reauth.failed", user, problem)
        return False
    _succeeded(user, state, password)
    _audit_user("reauth", user)
    return True


def is_locked(user: User) -> bool:
    return _is_locked(sign_in_state(user), clock.utc_now())


# --- enrolment and recovery codes ------------------------------------------------------------


def enrolment_secret(user: User) -> str:
    """The secret being enrolled: made once, kept until confirmed (a reload shows the same)."""
    state = sign_in_state(user)
    if state.enrolled:
        raise ValueError("already enrolled")
    try:
        pending = state.totp_secret
    except sealing.SealBroken:
        pending = None  # started under another data key and never confirmed: start afresh
    if pending is None:
        pending = twofactor.new_secret()
        state.totp_secret = pending
    return pending


def confirm_enrolment(user: User, code: str) -> list[twofactor.NewRecoveryCode] | None:
    """Trusts the secret once the person shows a code from it; returns fresh recovery codes."""
    now = clock.utc_now()
    state = sign_in_state(user)
    try:
        secret = state.totp_secret
    except sealing.SealBroken:
        secret = None
    step = twofactor.accepted_step(secret or "", code, now, state.totp_last_step)
    if secret is None or step is None:
        _audit_user("two_factor.enrol_failed", user, "wrong code")
        return None
    state.totp_confirmed_at = now
    state.totp_last_step = step
    state.failed_attempts = 0
    codes = replace_recovery_codes(user)
    _audit_user("two_factor.enrolled", user)
    _audit_user("login", user, "after setting up the second factor")
    return codes


def replace_recovery_codes(user: User) -> list[twofactor.NewRecoveryCode]:
    """New codes; every earlier one stops working."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = twofactor.new_recovery_codes()
    ph = hasher()
    db.session.add_all(
        RecoveryCode(user_id=user.id, lookup=c.lookup, code_hash=ph.hash(c.code)) for c in codes
    )
    _audit_user("two_factor.recovery_codes", user, f"{len(codes)} new recovery codes")
    return codes


def use_recovery_code(user: User, code: str, now: datetime) -> bool:
    code = twofactor.normalise(code)
    candidates = db.session.scalars(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.lookup == code[: twofactor.LOOKUP_LENGTH],
            RecoveryCode.used_at.is_(None),
        )
    ).all()
    ph = hasher()
    for candidate in candidates:
        try:
            ph.verify(candidate.code_hash, code)
        except (VerificationError, InvalidHashError):
            continue
        # Only one sign-in may use it, even when two race: the update names the unused row.
        claimed = db.session.execute(
            sa.update(RecoveryCode)
            .where(RecoveryCode.id == candidate.id, RecoveryCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return claimed.rowcount == 1
    return False


def recovery_codes_left(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def reset_second_factor(user: User) -> None:
    """An administrator's reset for someone who lost their phone and codes: enrol again."""
    state = sign_in_state(user)
    state.totp_secret = None
    state.totp_confirmed_at = None
    state.totp_last_step = None
    state.failed_attempts = 0
    state.locked_until = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.end_sessions()
