"""Administration: the agencies of the area and their users."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from marac import audit, policy
from marac.domain import AgencyKind, AgencySide, Role
from marac.extensions import db
from marac.models import Agency, User
from marac.services import accounts
from marac.web.access import current_viewer, recent_sign_in, signed_in
from marac.web.forms import enum_choices, id_choices

bp = Blueprint("admin", __name__, url_prefix="/admin")

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# Roles a perpetrator-facing agency's staff may hold: they must never chair, coordinate or act
# as a survivor's worker.
PERPETRATOR_SIDE_ROLES = frozenset({Role.AGENCY_REP})


def _area_id() -> int:
    viewer = current_viewer()
    if not policy.may_administer(viewer, viewer.area_id).full:
        abort(403)
    return viewer.area_id


def _agency_in_area(agency_id: int, area_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.area_id != area_id:
        abort(404)
    return agency


class VersionedForm(FlaskForm):
    version = HiddenField()

    def is_stale(self, current_version: int) -> bool:
        return (self.version.data or "") != str(current_version)


class AgencyForm(VersionedForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter the agency's name."), Length(max=160)]
    )
    kind = SelectField("Kind of agency", choices=enum_choices(AgencyKind))
    side = SelectField(
        "Works with",
        choices=enum_choices(AgencySide),
        description="Perpetrator-facing agencies never see survivor detail.",
    )
    is_active = BooleanField("Active (its users may sign in)", default=True)


class UserForm(VersionedForm):
    username = StringField(
        "Username",
        validators=[DataRequired("Enter a username."), Length(max=64)],
        description="Lower-case letters, digits, dots, dashes and underscores; 3 to 64.",
    )
    display_name = StringField(
        "Full name", validators=[DataRequired("Enter the person's name."), Length(max=120)]
    )
    email = EmailField(
        "Work email",
        validators=[
            Optional(),
            Email("Enter an email address like name@example.org."),
            Length(max=254),
        ],
    )
    agency_id = SelectField("Agency", coerce=int)
    role = SelectField("Role", choices=enum_choices(Role))
    is_enabled = BooleanField("Account enabled", default=True)
    password = PasswordField(
        "New password",
        validators=[Optional(), Length(max=256)],
        description=f"At least {accounts.MIN_PASSWORD_LENGTH} characters. "
        "Leave empty to keep the current password.",
    )

    def validate_username(self, field: StringField) -> None:
        field.data = (field.data or "").strip().lower()
        if not USERNAME_PATTERN.match(field.data):
            raise ValidationError(
                "Use 3 to 64 lower-case letters, digits, dots, dashes or underscores, "
                "starting with a letter or digit."
            )

    def validate_password(self, field: PasswordField) -> None:
        if field.data:
            problem = accounts.password_problem(field.data)
            if problem:
                raise ValidationError(problem)


def _agency_choices(area_id: int) -> list[SelectChoice]:
    rows = db.session.execute(
        sa.select(Agency.id, Agency.name).where(Agency.area_id == area_id).order_by(Agency.name)
    )
    return id_choices((row.id, row.name) for row in rows)


# --- agencies -------------------------------------------------------------------------------


@bp.route("/agencies")
@signed_in(Role.ADMINISTRATOR)
def agencies() -> str:
    area_id = _area_id()
    rows = db.session.execute(
        sa.select(Agency, sa.func.count(User.id))
        .outerjoin(User, User.agency_id == Agency.id)
        .where(Agency.area_id == area_id)
        .group_by(Agency.id)
        .order_by(Agency.name)
    ).all()
    return render_template("admin/agencies.html", rows=rows)


@bp.route("/agencies/new", methods=["GET", "POST"])
@signed_in(Role.ADMINISTRATOR)
def new_agency() -> Response | tuple[str, int]:
    area_id = _area_id()
    form = AgencyForm()
    if form.validate_on_submit():
        if _agency_name_taken(area_id, form.name.data):
            form.name.errors.append("An agency with this name already exists in the area.")
        else:
            agency = Agency(area_id=area_id)
            _apply_agency(form, agency)
            db.session.add(agency)
            db.session.flush()
            audit.record(
                "agency.create",
                object_type="agency",
                object_id=agency.id,
                detail=f"{agency.name} ({agency.kind.label}, {agency.side.label})",
            )
            flash(f"Agency {agency.name} added.", "success")
            return redirect(url_for("admin.agencies"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/agency_form.html", form=form, agency=None), status


@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
@signed_in(Role.ADMINISTRATOR)
def edit_agency(agency_id: int) -> Response | tuple[str, int]:
    area_id = _area_id()
    agency = _agency_in_area(agency_id, area_id)
    form = AgencyForm(obj=agency)
    if request.method == "GET":
        form.version.data = str(agency.version)
    elif form.validate_on_submit():
        if form.is_stale(agency.version):
            return _conflict("admin/agency_form.html", form, agency.version, agency=agency)
        if _agency_name_taken(area_id, form.name.data, exclude=agency.id):
            form.name.errors.append("An agency with this name already exists in the area.")
        else:
            before = _agency_state(agency)
            _apply_agency(form, agency)
            try:
                db.session.flush()
            except StaleDataError:
                db.session.rollback()
                agency = _agency_in_area(agency_id, area_id)
                return _conflict("admin/agency_form.html", form, agency.version, agency=agency)
            audit.record(
                "agency.update",
                object_type="agency",
                object_id=agency.id,
                detail=audit.describe_changes(before, _agency_state(agency)),
            )
            flash(f"Agency {agency.name} saved.", "success")
            return redirect(url_for("admin.agencies"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/agency_form.html", form=form, agency=agency), status


def _agency_name_taken(area_id: int, name: str | None, exclude: int | None = None) -> bool:
    statement = sa.select(Agency.id).where(
        Agency.area_id == area_id, sa.func.lower(Agency.name) == (name or "").strip().lower()
    )
    if exclude is not None:
        statement = statement.where(Agency.id != exclude)
    return db.session.scalar(statement) is not None


def _apply_agency(form: AgencyForm, agency: Agency) -> None:
    agency.name = (form.name.data or "").strip()
    agency.kind = AgencyKind(form.kind.data)
    agency.side = AgencySide(form.side.data)
    agency.is_active = bool(form.is_active.data)


def _agency_state(agency: Agency) -> dict[str, object]:
    return {
        "name": agency.name,
        "kind": agency.kind,
        "side": agency.side,
        "is_active": agency.is_active,
    }


# --- users ----------------------------------------------------------------------------------


@bp.route("/users")
@signed_in(Role.ADMINISTRATOR)
def users() -> str:
    area_id = _area_id()
    rows = db.session.scalars(
        sa.select(User)
        .join(Agency, Agency.id == User.agency_id)
        .where(Agency.area_id == area_id)
        .options(selectinload(User.agency))
        .order_by(Agency.name, User.display_name)
    ).all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@signed_in(Role.ADMINISTRATOR)
def new_user() -> Response | tuple[str, int]:
    area_id = _area_id()
    form = UserForm()
    form.agency_id.choices = _agency_choices(area_id)
    if _user_form_valid(form, area_id, user=None):
        user = User(
            username=form.username.data,
            password_hash=accounts.hash_password(form.password.data),
        )
        _apply_user(form, user)
        db.session.add(user)
        db.session.flush()
        audit.record(
            "user.create",
            object_type="user",
            object_id=user.id,
            detail=f"{user.username}: {user.role.label}",
        )
        flash(f"User {user.username} added.", "success")
        return redirect(url_for("admin.users"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@signed_in(Role.ADMINISTRATOR)
def edit_user(user_id: int) -> Response | tuple[str, int]:
    area_id = _area_id()
    user = _user_in_area(user_id, area_id)
    form = UserForm(obj=user)
    form.agency_id.choices = _agency_choices(area_id)
    if request.method == "GET":
        form.version.data = str(user.version)
        form.password.data = ""
    elif _user_form_valid(form, area_id, user=user):
        if form.is_stale(user.version):
            return _conflict("admin/user_form.html", form, user.version, user=user)
        before = _user_state(user)
        _apply_user(form, user)
        if form.password.data:
            user.password_hash = accounts.hash_password(form.password.data)
            user.end_sessions()
        if not user.is_enabled:
            user.end_sessions()
        try:
            db.session.flush()
        except StaleDataError:
            db.session.rollback()
            current = _user_in_area(user_id, area_id)
            return _conflict("admin/user_form.html", form, current.version, user=current)
        changes = audit.describe_changes(before, _user_state(user))
        if form.password.data:
            changes = ", ".join(filter(None, [changes, "password"]))
        audit.record("user.update", object_type="user", object_id=user.id, detail=changes)
        flash(f"User {user.username} saved.", "success")
        return redirect(url_for("admin.users"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/user_form.html", form=form, user=user), status


@bp.route("/users/<int:user_id>/end-sessions", methods=["POST"])
@signed_in(Role.ADMINISTRATOR)
def end_sessions(user_id: int) -> Response:
    area_id = _area_id()
    user = _user_in_area(user_id, area_id)
    user.end_sessions()
    db.session.flush()
    audit.record("user.sessions_ended", object_type="user", object_id=user.id)
    flash(f"Every session of {user.username} has been ended.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@signed_in(Role.ADMINISTRATOR)
def disable(user_id: int) -> Response:
    """Disable the account and sign it out everywhere, in one step."""
    area_id = _area_id()
    user = _user_in_area(user_id, area_id)
    if user.id == current_viewer().user_id:
        abort(400)
    user.is_enabled = False
    user.end_sessions()
    db.session.flush()
    audit.record("user.disable", object_type="user", object_id=user.id, detail="sessions ended")
    flash(f"{user.username} is disabled and signed out everywhere.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


@bp.route("/users/<int:user_id>/reset-second-factor", methods=["POST"])
@signed_in(Role.ADMINISTRATOR)
@recent_sign_in()
def reset_second_factor(user_id: int) -> Response:
    """For someone who lost their phone and codes: they set the app up again at next sign-in."""
    area_id = _area_id()
    user = _user_in_area(user_id, area_id)
    accounts.reset_second_factor(user)
    db.session.flush()
    audit.record(
        "user.second_factor_reset",
        object_type="user",
        object_id=user.id,
        detail="second factor and recovery codes removed; sessions ended",
    )
    flash(
        f"{user.username} is signed out and will set up the authenticator app at the next "
        "sign-in. Tell them only in person or by a channel you trust.",
        "success",
    )
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


def _user_in_area(user_id: int, area_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.agency.area_id != area_id:
        abort(404)
    return user


def _user_form_valid(form: UserForm, area_id: int, user: User | None) -> bool:
    """Every check at once, so that the person sees all the problems in one go."""
    if not form.is_submitted():
        return False
    valid = form.validate()
    return _user_form_consistent(form, area_id, user) and valid


def _user_form_consistent(form: UserForm, area_id: int, user: User | None) -> bool:
    """Checks that need the database or more than one field; adds messages to the fields."""
    ok = True
    taken = db.session.scalar(sa.select(User.id).where(User.username == form.username.data))
    if taken is not None and (user is None or taken != user.id):
        form.username.errors.append("This username is taken.")
        ok = False
    if user is None and not form.password.data:
        form.password.errors.append("Set a password for the new account.")
        ok = False
    # Only an offered choice is looked up: any other number (however large) is already an error.
    chosen = form.agency_id.data if not form.agency_id.errors else None
    agency = db.session.get(Agency, chosen) if chosen else None
    if agency is None or agency.area_id != area_id:
        if not form.agency_id.errors:
            form.agency_id.errors.append("Choose an agency of this area.")
        return False
    if form.role.errors:
        return False
    role = Role(form.role.data)
    if agency.side is AgencySide.PERPETRATOR_FACING and role not in PERPETRATOR_SIDE_ROLES:
        form.role.errors.append(
            "Staff of a perpetrator-facing agency can only be agency representatives."
        )
        ok = False
    if role is Role.SUPPORT_WORKER and agency.side is not AgencySide.VICTIM_FACING:
        form.role.errors.append(
            "IDVA and partner-contact workers belong to a victim-facing agency."
        )
        ok = False
    me = current_viewer()
    if user is not None and user.id == me.user_id:
        if role is not Role.ADMINISTRATOR or not form.is_enabled.data:
            form.role.errors.append("You cannot remove your own administrator access.")
            ok = False
    return ok


def _apply_user(form: UserForm, user: User) -> None:
    user.username = form.username.data
    user.display_name = (form.display_name.data or "").strip()
    user.email = (form.email.data or "").strip() or None
    user.agency_id = form.agency_id.data
    user.role = Role(form.role.data)
    user.is_enabled = bool(form.is_enabled.data)


def _user_state(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "agency_id": user.agency_id,
        "role": user.role,
        "is_enabled": user.is_enabled,
    }


def _conflict(
    template: str, form: VersionedForm, current_version: int, **context: object
) -> tuple[str, int]:
    """Someone saved first: show their version, keep what this user typed, save nothing.

    The form now carries the current version, so saving again is a deliberate choice to replace
    the other person's change with what is on screen.
    """
    form.version.data = str(current_version)
    return render_template(template, form=form, conflict=True, **context), 409
