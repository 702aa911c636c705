"""Disclosure overrides of a case: recording one, and revoking it.

Only the area's coordinator and chair reach these pages (``policy.may_manage_overrides``); both
ask for a recent sign-in before the form is even shown, so that what is typed is not lost to a
confirmation. The case page lists the overrides through ``case_panel``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from marac import audit, policy
from marac.domain import OverrideGround
from marac.extensions import db
from marac.models import Case, DisclosureOverride, User
from marac.services import overrides as service
from marac.services.overrides import OverrideConflict, OverrideRefused
from marac.viewer import CaseLinks, Viewer
from marac.web.access import case_route, recent_sign_in
from marac.web.forms import enum_choices, id_choices
from marac.web.htmx import render

bp = Blueprint("overrides", __name__, url_prefix="/cases")


def _optional_id(value: object) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)  # a ValueError becomes "Not a valid choice" beside the field


class OverrideForm(FlaskForm):
    item_id = SelectField(
        "Information item to open",
        coerce=_optional_id,
        validators=[InputRequired("Choose the item to open.")],
        description="Items shared with the MARAC are not listed: every agency that may open "
        "the case reads them already.",
    )
    agency_id = SelectField(
        "Agency to open it to",
        coerce=_optional_id,
        validators=[InputRequired("Choose the agency.")],
        description="Perpetrator-facing agencies are never offered: an override never opens "
        "anything to them.",
    )
    ground = RadioField(
        "Ground",
        choices=enum_choices(OverrideGround),
        validators=[InputRequired("Choose the ground for the override.")],
    )
    reason = TextAreaField(
        "Reason",
        validators=[
            InputRequired("Say why the item must be opened to this agency."),
            Length(max=service.REASON_LIMIT),
        ],
        description="In plain words: the agency named reads this item from now on. Agencies do "
        "not see this reason; the coordinator and the chair do.",
    )


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        "Why is it revoked?",
        validators=[
            InputRequired("Say why the override is revoked."),
            Length(max=service.REASON_LIMIT),
        ],
    )


def _keepers_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """After the case is loaded: only those who keep overrides go on (the others get 403
    before being asked to confirm who they are)."""

    @wraps(view)
    def wrapper(*args: Any, case: Case, viewer: Viewer, links: CaseLinks, **kwargs: Any) -> Any:
        if not policy.may_manage_overrides(viewer, links).full:
            abort(403)
        return view(*args, case=case, viewer=viewer, links=links, **kwargs)

    return wrapper


def _me() -> User:
    return current_user._get_current_object()


def case_panel(session: Session, viewer: Viewer, links: CaseLinks, case: Case) -> dict | None:
    """The case page's list of overrides: None (no section at all) for anyone who may not keep
    them, so that nobody else learns whether an item of the case was opened to someone."""
    if not policy.may_manage_overrides(viewer, links).full:
        return None
    return {
        "case_id": case.id,
        "overrides": service.case_overrides(session, viewer, links, case.id),
    }


def _set_choices(form: OverrideForm, case: Case, viewer: Viewer, links: CaseLinks) -> None:
    items = service.item_labels(db.session, viewer, links, case.id, openable_only=True)
    agencies = service.recipient_agencies(db.session, case.area_id)
    form.item_id.choices = [
        ("", "Choose an item"),
        *id_choices((i.item_id, i.label) for i in items),
    ]
    form.agency_id.choices = [
        ("", "Choose an agency"),
        *id_choices((a.id, a.name) for a in agencies),
    ]


def _form_page(
    case: Case,
    viewer: Viewer,
    links: CaseLinks,
    form: OverrideForm,
    status: int = 200,
    problem: str | None = None,
) -> Response:
    return render(
        "overrides/new.html",
        "overrides/new.html",
        status_code=status,
        case_id=case.id,
        reference=case.reference,
        form=form,
        has_items=len(form.item_id.choices) > 1,
        problem=problem,
    )


@bp.route("/<int:case_id>/overrides/new", methods=["GET", "POST"])
@case_route
@_keepers_only
@recent_sign_in()
def new(case: Case, viewer: Viewer, links: CaseLinks) -> Response:
    form = OverrideForm()
    _set_choices(form, case, viewer, links)
    if request.method == "GET":
        audit.record_view("disclosure_override.form", object_type="case", object_id=case.id)
        return _form_page(case, viewer, links, form)
    if not form.validate():
        return _form_page(case, viewer, links, form, 400)
    try:
        override, opened_now = service.record_override(
            db.session,
            case=case,
            item_id=form.item_id.data,
            agency_id=form.agency_id.data,
            ground=OverrideGround(form.ground.data),
            reason=form.reason.data or "",
            user=_me(),
        )
    except OverrideConflict as conflict:
        return _form_page(case, viewer, links, form, 409, str(conflict))
    except OverrideRefused as refused:
        if refused.field is None:
            return _form_page(case, viewer, links, form, 400, str(refused))
        getattr(form, refused.field).errors.append(str(refused))
        return _form_page(case, viewer, links, form, 400)
    agency_name = override.agency.name
    if opened_now:
        flash(f"The item is open to {agency_name} from now on.", "success")
    else:
        flash(
            f"The override is recorded. {agency_name} may not open this case yet: they will read "
            "the item once the case is open to them.",
            "success",
        )
    return redirect(url_for("cases.show", case_id=case.id, _anchor="overrides"), code=303)


def _override_or_404(case: Case, override_id: int) -> DisclosureOverride:
    override = service.override_of_case(db.session, case, override_id)
    if override is None:
        abort(404)
    return override


def _revoke_page(
    case: Case,
    viewer: Viewer,
    links: CaseLinks,
    override: DisclosureOverride,
    form: RevokeForm,
    status: int = 200,
    problem: str | None = None,
) -> Response:
    shown = next(
        o
        for o in service.case_overrides(db.session, viewer, links, case.id)
        if o.override_id == override.id
    )
    return render(
        "overrides/revoke.html",
        "overrides/revoke.html",
        status_code=status,
        case_id=case.id,
        reference=case.reference,
        override=shown,
        form=form,
        problem=problem,
    )


@bp.route("/<int:case_id>/overrides/<int:override_id>/revoke", methods=["GET", "POST"])
@case_route
@_keepers_only
@recent_sign_in()
def revoke(case: Case, viewer: Viewer, links: CaseLinks, override_id: int) -> Response:
    override = _override_or_404(case, override_id)
    form = RevokeForm()
    if request.method == "GET":
        audit.record_view(
            "disclosure_override.view", object_type="disclosure_override", object_id=override.id
        )
        return _revoke_page(case, viewer, links, override, form)
    if not form.validate():
        return _revoke_page(case, viewer, links, override, form, 400)
    try:
        withdrawn = service.revoke_override(
            db.session, case=case, override=override, reason=form.reason.data or "", user=_me()
        )
    except OverrideConflict as conflict:
        return _revoke_page(case, viewer, links, override, form, 409, str(conflict))
    except OverrideRefused as refused:
        form.reason.errors.append(str(refused))
        return _revoke_page(case, viewer, links, override, form, 400)
    flash(f"The override is revoked: {override.agency.name} no longer reads the item.", "success")
    if withdrawn:
        numbers = ", ".join(d.number or "" for d in withdrawn)
        flash(
            f"{override.agency.name}'s copies of papers issued while the override stood held "
            f"the item and are withdrawn ({numbers}): issue those meetings' papers again.",
            "info",
        )
    return redirect(url_for("cases.show", case_id=case.id, _anchor="overrides"), code=303)
