"""Signing in (password and second factor), enrolling the second factor, confirming it is you
before a sensitive action, and signing out.

The rules live in ``marac.services.accounts``; this module turns them into pages. Attempts on
the sign-in and confirm forms are limited per address (Flask-Limiter) on top of the per-account
lock-out.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from marac import audit, security, twofactor
from marac.domain import Role
from marac.extensions import db, limiter
from marac.services import accounts
from marac.web.access import public, recent_sign_in, signed_in

bp = Blueprint("auth", __name__)

REFUSED_MESSAGE = "The username, password or code is not right."


def sign_in_rate_limit() -> str:
    return current_app.config["MARAC_LOGIN_RATE_LIMIT"]


def _code_field(label: str = "Code") -> StringField:
    return StringField(
        label,
        validators=[Optional(), Length(max=40)],
        description="The 6-digit code your authenticator app shows now, or one of your "
        "recovery codes.",
    )


class LoginForm(FlaskForm):
    username = StringField(
        "Username", validators=[DataRequired("Enter your username."), Length(max=64)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=256)]
    )
    code = _code_field()


class ConfirmForm(FlaskForm):
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=256)]
    )
    code = StringField(
        "Code",
        validators=[DataRequired("Enter the code from your authenticator app."), Length(max=40)],
        description="The 6-digit code your authenticator app shows now, or one of your "
        "recovery codes.",
    )


class EnrolForm(FlaskForm):
    code = StringField(
        "Code from the app",
        validators=[DataRequired("Enter the 6-digit code the app shows."), Length(max=40)],
        description="6 digits. It changes every 30 seconds.",
    )


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host, scheme or a protocol-relative URL."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def home_for(role: Role) -> str:
    if role is Role.ADMINISTRATOR:
        return url_for("admin.users")
    return url_for("cases.index")


def _refused_attempt_on_record() -> None:
    # The failure (and any lock it started) is kept even though the error answer rolls back.
    db.session.commit()


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(sign_in_rate_limit, methods=["POST"])
def login() -> Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = accounts.authenticate(
            form.username.data or "", form.password.data or "", form.code.data or ""
        )
        if result.outcome is accounts.Outcome.SIGNED_IN and result.user is not None:
            security.start_session(result.user)
            _warn_about_recovery_codes(result.recovery_codes_left)
            return redirect(safe_next(request.args.get("next")) or home_for(result.user.role))
        if result.outcome is accounts.Outcome.ENROL and result.user is not None:
            security.begin_enrolment(result.user)
            return redirect(url_for("auth.enrol", next=safe_next(request.args.get("next"))))
        _refused_attempt_on_record()
        # One message for every failure, so it does not tell which part was wrong.
        form.code.errors.append(REFUSED_MESSAGE)
        form.code.data = ""
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, **_lock_policy()), status


def _lock_policy() -> dict[str, int]:
    return {
        "lock_after": current_app.config["MARAC_LOGIN_LOCK_AFTER"],
        "lock_minutes": current_app.config["MARAC_LOGIN_LOCK_MINUTES"],
    }


def _warn_about_recovery_codes(left: int | None) -> None:
    if left is None:
        return
    flash(
        f"You signed in with a recovery code; it cannot be used again. {left} left. "
        "Make new ones from Your sign-in if you are running out.",
        "info" if left > 2 else "error",
    )


@bp.route("/login/enrol", methods=["GET", "POST"])
@public
@limiter.limit(sign_in_rate_limit, methods=["POST"])
def enrol() -> Response | tuple[str, int]:
    """After the first right password: set up the authenticator app, then sign in."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role))
    user = security.pending_enrolment_user()
    if user is None:
        session.pop(security.PENDING_ENROLMENT, None)
        flash("Sign in to set up your second factor.", "info")
        return redirect(url_for("auth.login"))
    secret = accounts.enrolment_secret(user)
    form = EnrolForm()
    status = 200
    if form.validate_on_submit():
        codes = accounts.confirm_enrolment(user, form.code.data or "")
        if codes is not None:
            security.start_session(user)
            target = safe_next(request.args.get("next")) or home_for(user.role)
            return render_template("auth/recovery_codes.html", codes=codes, target=target), 200
        _refused_attempt_on_record()
        form.code.errors.append(
            "That code is not right. Type the newest code the app shows; if it still fails, "
            "check that your phone's clock is set automatically."
        )
        form.code.data = ""
        status = 400
    elif request.method == "POST":
        status = 400
    uri = twofactor.provisioning_uri(secret, user.username, current_app.config["MARAC_TOTP_ISSUER"])
    return render_template(
        "auth/enrol.html",
        form=form,
        qr=Markup(twofactor.qr_svg(uri)),  # noqa: S704 - segno's own SVG, no user text in it
        secret=twofactor.grouped(secret),
        username=user.username,
    ), status


@bp.route("/confirm", methods=["GET", "POST"])
@signed_in()
@limiter.limit(sign_in_rate_limit, methods=["POST"])
def confirm() -> Response | tuple[str, int]:
    """Both factors again, before a sensitive action (``access.recent_sign_in``)."""
    form = ConfirmForm()
    status = 200
    target = safe_next(request.args.get("next")) or home_for(current_user.role)
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if accounts.confirm_identity(user, form.password.data or "", form.code.data or ""):
            security.mark_confirmed()
            return redirect(target, code=303)
        if accounts.is_locked(user):
            _refused_attempt_on_record()
            logout_user()
            session.clear()
            flash("Too many failed attempts: you have been signed out.", "error")
            return redirect(url_for("auth.login"), code=303)
        _refused_attempt_on_record()
        form.code.errors.append("The password or code is not right.")
        form.code.data = ""
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/confirm.html", form=form, target=target), status


@bp.route("/account")
@signed_in()
def account() -> str:
    state = accounts.sign_in_state(current_user)
    return render_template(
        "auth/account.html",
        enrolled_at=state.totp_confirmed_at,
        codes_left=accounts.recovery_codes_left(current_user),
    )


@bp.route("/account/recovery-codes", methods=["POST"])
@signed_in()
@recent_sign_in(return_to="auth.account")
def new_recovery_codes() -> tuple[str, int]:
    codes = accounts.replace_recovery_codes(current_user)
    return render_template(
        "auth/recovery_codes.html", codes=codes, target=url_for("auth.account")
    ), 200


@bp.route("/logout", methods=["POST"])
@signed_in()
def logout() -> Response:
    audit.record("logout", object_type="user", object_id=current_user.id)
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))
