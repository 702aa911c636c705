"""Sign-in sessions, security headers and caching rules for every response."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask, Response, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import joinedload

from marac.extensions import db, htmx, login_manager
from marac.models import User

SIGNED_IN_AT = "signed_in_at"
# When the user last proved both factors (signing in counts): sensitive actions ask for it to be
# recent (``marac.web.access.recent_sign_in``).
CONFIRMED_AT = "confirmed_at"
# Between a right password and a finished enrolment: whose, and since when. Not signed in.
PENDING_ENROLMENT = "pending_enrolment"
PENDING_MINUTES = 10


def start_session(user: User) -> None:
    """A fresh session at sign-in, so nothing planted before it survives."""
    session.clear()
    login_user(user)
    session.permanent = True
    now = datetime.now(UTC).isoformat()
    session[SIGNED_IN_AT] = now
    session[CONFIRMED_AT] = now


def mark_confirmed() -> None:
    session[CONFIRMED_AT] = datetime.now(UTC).isoformat()


def _age(key: str) -> timedelta | None:
    value = session.get(key)
    if not isinstance(value, str):
        return None
    try:
        return datetime.now(UTC) - datetime.fromisoformat(value)
    except ValueError:
        return None


def recently_confirmed(minutes: int) -> bool:
    age = _age(CONFIRMED_AT)
    return age is not None and timedelta(0) <= age <= timedelta(minutes=minutes)


def begin_enrolment(user: User) -> None:
    session.clear()
    session[PENDING_ENROLMENT] = {
        "token": user.session_token,
        "at": datetime.now(UTC).isoformat(),
    }


def pending_enrolment_user() -> User | None:
    """The account whose password was just accepted, if that was recent and it may enrol."""
    pending = session.get(PENDING_ENROLMENT)
    if not isinstance(pending, dict):
        return None
    try:
        started = datetime.fromisoformat(str(pending.get("at")))
    except ValueError:
        return None
    if datetime.now(UTC) - started > timedelta(minutes=PENDING_MINUTES):
        return None
    user = db.session.scalar(sa.select(User).where(User.session_token == pending.get("token")))
    if user is None or not user.is_active or (user.sign_in and user.sign_in.enrolled):
        return None
    return user


def content_security_policy(nonce: str) -> str:
    """A strict policy: scripts and style sheets only with this response's nonce.

    ``strict-dynamic`` lets the nonced scripts (htmx, app.js) load nothing else by themselves
    being trusted; no inline script, inline style or style attribute is allowed anywhere.
    """
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'nonce-{nonce}' 'strict-dynamic'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


def csp_nonce() -> str:
    """This response's nonce, made on first use (templates call it for each script tag)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def _redirect_to_login() -> Response:
    target = url_for("auth.login", next=_safe_next_for_current_request())
    if htmx:
        # A fragment request cannot follow a redirect into a page: tell htmx to load it whole.
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _safe_next_for_current_request() -> str | None:
    if request.method != "GET" or htmx:
        return None
    return request.full_path.rstrip("?") if request.full_path else None


# Built once, as every signed-in request runs it; the agency comes in the same query (the viewer).
_USER_BY_SESSION_TOKEN = (
    sa.select(User)
    .options(joinedload(User.agency))
    .where(User.session_token == sa.bindparam("token"))
)


def configure(app: Flask) -> None:
    login_manager.session_protection = "strong"
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @login_manager.user_loader
    def load_user(session_token: str) -> User | None:
        return db.session.scalar(_USER_BY_SESSION_TOKEN, {"token": session_token})

    @login_manager.unauthorized_handler
    def unauthorized() -> Response:
        flash("Please sign in to continue.", "info")
        return _redirect_to_login()

    @app.before_request
    def enforce_absolute_timeout() -> Response | None:
        if not current_user.is_authenticated:
            return None
        started = session.get(SIGNED_IN_AT)
        limit = timedelta(hours=app.config["MARAC_SESSION_ABSOLUTE_HOURS"])
        try:
            started_at = datetime.fromisoformat(started) if started else None
        except ValueError:
            started_at = None
        if started_at is None or datetime.now(UTC) - started_at > limit:
            logout_user()
            session.clear()
            flash("Your session has ended. Please sign in again.", "info")
            return _redirect_to_login()
        return None

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        if app.config.get("MARAC_HSTS") and request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static":
            # Case data must not stay in a shared office computer's browser cache or history.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
