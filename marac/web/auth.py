"""Signing in and out."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from marac import audit
from marac.domain import Role
from marac.extensions import db
from marac.security import SIGNED_IN_AT
from marac.services import accounts
from marac.web.access import public, signed_in

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(
        "Username", validators=[DataRequired("Enter your username."), Length(max=64)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=256)]
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


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            # A fresh session at sign-in, so nothing planted before it survives.
            session.clear()
            login_user(user)
            session.permanent = True
            session[SIGNED_IN_AT] = datetime.now(UTC).isoformat()
            return redirect(safe_next(request.args.get("next")) or home_for(user.role))
        # The failed attempt is recorded even though the answer is an error (which rolls back).
        db.session.commit()
        # One message for every failure, so it does not tell which part was wrong.
        form.password.errors.append("The username or password is not right.")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@signed_in()
def logout() -> Response:
    audit.record("logout", object_type="user", object_id=current_user.id)
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))
