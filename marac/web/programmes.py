"""Behaviour-change programmes: the list of men, and one man's programme record.

The programme records on its own record (status, attendance, disclosures, concerns); the chair
reads it in full; the coordinator reads each event only in the words that cross to his partners'
workers (``policy.programme_record``). Recording an event that raises risk tells every partner's
worker (``marac.services.programmes``); the page says the same whatever happened, so that the
programme never learns how many partners there are or who works with them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from marac import audit, clock, policy
from marac.domain import (
    STATUSES_WITH_A_REASON,
    InvolvementKind,
    ProgrammeEventKind,
    ProgrammeStatus,
    StatusReason,
)
from marac.extensions import db
from marac.models import Agency, Involvement, Person, ProgrammeRecord
from marac.policy import Decision
from marac.present import person_names
from marac.present_programmes import present_programme
from marac.services import programmes as programme_service
from marac.viewer import Viewer
from marac.web.access import current_viewer, programme_route, signed_in
from marac.web.forms import enum_choices
from marac.web.htmx import render

bp = Blueprint("programmes", __name__, url_prefix="/programmes")

DATE_HINT = "For example 2026-11-24."
TOLD = (
    "Recorded. Where this raises risk, the partner-contact workers of everyone the programme "
    "must inform have been given a task."
)


def _date_field(label: str) -> DateField:
    return DateField(
        label, validators=[InputRequired("Enter the date, like 2026-11-24.")], description=DATE_HINT
    )


class StatusForm(FlaskForm):
    status = SelectField("New status", choices=enum_choices(ProgrammeStatus))
    occurred_on = _date_field("Date of the change")
    reason = SelectField(
        "Reason (for a suspension, drop-out or breach)",
        choices=enum_choices(StatusReason, blank="Not known"),
        validators=[Optional()],
        description="Her worker tells her this category, never your notes.",
    )
    detail = TextAreaField(
        "Notes for the programme",
        validators=[Optional(), Length(max=4000, message="Use at most 4,000 characters.")],
        description="Stay with the programme and the chair.",
    )
    version = HiddenField()


class AttendanceForm(FlaskForm):
    occurred_on = _date_field("Date of the session")
    attended = RadioField(
        "Did he attend?",
        choices=[SelectChoice("yes", "Attended"), SelectChoice("no", "Did not attend")],
        validators=[InputRequired("Say whether he attended.")],
    )
    detail = TextAreaField(
        "Notes for the programme",
        validators=[Optional(), Length(max=4000, message="Use at most 4,000 characters.")],
    )
    version = HiddenField()


class DisclosureForm(FlaskForm):
    kind = SelectField(
        "What to record",
        choices=[
            SelectChoice(kind.value, kind.label)
            for kind in (ProgrammeEventKind.DISCLOSURE, ProgrammeEventKind.CONCERN)
        ],
    )
    occurred_on = _date_field("Date")
    detail = TextAreaField(
        "What he said, or the concern",
        validators=[
            InputRequired("Write down what was disclosed or what the concern is."),
            Length(max=4000, message="Use at most 4,000 characters."),
        ],
        description="Stays with the programme and the chair. Her worker is told only that he "
        "disclosed violence or abuse, or that there is a concern, and the date.",
    )
    may_cite = BooleanField("His disclosure may be cited as the source when risk is passed on")
    version = HiddenField()


FORMS = {"status": StatusForm, "attendance": AttendanceForm, "disclosure": DisclosureForm}


class StartForm(FlaskForm):
    person_id = HiddenField()


# --- the list ---------------------------------------------------------------------------------


@bp.route("/")
@signed_in()
def index() -> Response:
    viewer = current_viewer()
    if not policy.may_list_programmes(viewer).full:
        abort(403)
    records = db.session.scalars(
        sa.select(ProgrammeRecord)
        .where(policy.visible_programmes_clause(viewer))
        .order_by(ProgrammeRecord.status_on.desc(), ProgrammeRecord.id.desc())
        .limit(200)
    ).all()
    not_started = _men_without_a_record(viewer)
    names = person_names(db.session, {r.person_id for r in records} | set(not_started))
    agencies = dict(
        db.session.execute(
            sa.select(Agency.id, Agency.name).where(Agency.id.in_({r.agency_id for r in records}))
        ).all()
    )
    rows = [
        {
            "record_id": r.id,
            "name": names[r.person_id],
            "agency": agencies[r.agency_id],
            "status": r.status.label,
            "status_on": r.status_on,
        }
        for r in records
    ]
    return render(
        "programmes/index.html",
        "programmes/index.html",
        rows=rows,
        not_started=[(pid, names[pid]) for pid in not_started],
        start_form=StartForm(),
    )


def _men_without_a_record(viewer: Viewer) -> list[int]:
    """The men the viewer's programme works with who have no record yet (only for a programme)."""
    if not viewer.perpetrator_facing:
        return []
    today = clock.service_today()
    return list(
        db.session.scalars(
            sa.select(Involvement.person_id)
            .join(Person, Person.id == Involvement.person_id)
            .where(
                Involvement.agency_id == viewer.agency_id,
                Involvement.kind == InvolvementKind.PERPETRATOR_PROGRAMME,
                sa.or_(Involvement.ended_on.is_(None), Involvement.ended_on > today),
                Person.area_id == viewer.area_id,
                ~sa.exists(
                    sa.select(1).where(
                        ProgrammeRecord.person_id == Involvement.person_id,
                        ProgrammeRecord.agency_id == viewer.agency_id,
                    )
                ),
            )
            .distinct()
            .order_by(Involvement.person_id)
        )
    )


@bp.route("/start", methods=["POST"])
@signed_in()
def start() -> Response:
    viewer = current_viewer()
    if not viewer.perpetrator_facing:
        abort(403)
    form = StartForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        man_id = int(form.person_id.data or "")
    except ValueError:
        abort(400)
    agency = db.session.get(Agency, viewer.agency_id)
    if man_id not in _men_without_a_record(viewer):
        audit.record("programme.refused", object_type="person", object_id=man_id)
        db.session.commit()
        abort(404)
    record = programme_service.start_record(
        db.session, agency=agency, man_id=man_id, by=current_user, today=clock.service_today()
    )
    flash("His programme record is started.", "success")
    return redirect(url_for("programmes.show", programme_id=record.id), code=303)


# --- one record ---------------------------------------------------------------------------------


def page_context(
    record: ProgrammeRecord,
    viewer: Viewer,
    decision: Decision,
    forms: dict[str, FlaskForm] | None = None,
    conflict: bool = False,
) -> dict[str, Any]:
    may_record = policy.may_record_programme(
        viewer, policy.ProgrammeFacts(record.id, record.area_id, record.person_id, record.agency_id)
    ).full
    forms = dict(forms or {})
    if may_record:
        for name, form_class in FORMS.items():
            if name not in forms:
                forms[name] = form_class(
                    formdata=None,
                    prefix=name,
                    occurred_on=clock.service_today(),
                    version=record.version,
                )
    return {
        "programme": present_programme(db.session, viewer, record),
        "forms": forms if may_record else {},
        "conflict": conflict,
        "reason_statuses": [s.label for s in STATUSES_WITH_A_REASON],
    }


@bp.route("/<int:programme_id>")
@programme_route
def show(record: ProgrammeRecord, viewer: Viewer, decision: Decision) -> Response:
    audit.record("programme_record.view", object_type="programme_record", object_id=record.id)
    return render(
        "programmes/show.html", "programmes/show.html", **page_context(record, viewer, decision)
    )


@bp.route("/<int:programme_id>/status", methods=["POST"])
@programme_route
def status(record: ProgrammeRecord, viewer: Viewer, decision: Decision) -> Response:
    return _record_event(record, viewer, decision, "status")


@bp.route("/<int:programme_id>/attendance", methods=["POST"])
@programme_route
def attendance(record: ProgrammeRecord, viewer: Viewer, decision: Decision) -> Response:
    return _record_event(record, viewer, decision, "attendance")


@bp.route("/<int:programme_id>/disclosure", methods=["POST"])
@programme_route
def disclosure(record: ProgrammeRecord, viewer: Viewer, decision: Decision) -> Response:
    """A disclosure or a facilitator's concern."""
    return _record_event(record, viewer, decision, "disclosure")


def _record_event(
    record: ProgrammeRecord, viewer: Viewer, decision: Decision, form_name: str
) -> Response:
    facts = policy.ProgrammeFacts(record.id, record.area_id, record.person_id, record.agency_id)
    if not policy.may_record_programme(viewer, facts).full:
        abort(403)
    form = FORMS[form_name](prefix=form_name)
    if form.validate_on_submit():
        if (form.version.data or "") != str(record.version):
            return _page(record, viewer, decision, {form_name: form}, 409, conflict=True)
        wanted = _wanted(form_name, form)
        try:
            programme_service.record_event(
                db.session,
                record,
                wanted,
                by=current_user,
                today=clock.service_today(),
                step_up_weeks=current_app.config["MARAC_PC_STEP_UP_WEEKS"],
            )
        except programme_service.ProgrammeProblem as problem:
            field = getattr(form, problem.field, None) or form.occurred_on
            field.errors = [*field.errors, problem.message]
        else:
            flash(TOLD, "success")
            return redirect(url_for("programmes.show", programme_id=record.id), code=303)
    return _page(record, viewer, decision, {form_name: form}, 400)


def _wanted(form_name: str, form: Any) -> programme_service.EventInput:
    if form_name == "status":
        return programme_service.EventInput(
            ProgrammeEventKind.STATUS,
            form.occurred_on.data,
            status=ProgrammeStatus(form.status.data),
            reason=StatusReason(form.reason.data) if form.reason.data else None,
            detail=form.detail.data,
        )
    if form_name == "attendance":
        return programme_service.EventInput(
            ProgrammeEventKind.ATTENDANCE,
            form.occurred_on.data,
            attended=form.attended.data == "yes",
            detail=form.detail.data,
        )
    return programme_service.EventInput(
        ProgrammeEventKind(form.kind.data),
        form.occurred_on.data,
        detail=form.detail.data,
        may_cite=bool(form.may_cite.data),
    )


def _page(
    record: ProgrammeRecord,
    viewer: Viewer,
    decision: Decision,
    forms: dict[str, FlaskForm],
    status: int,
    conflict: bool = False,
) -> Response:
    db.session.rollback()
    record = db.session.get(ProgrammeRecord, record.id)
    return render(
        "programmes/show.html",
        "programmes/show.html",
        status_code=status,
        **page_context(record, viewer, decision, forms, conflict),
    )
