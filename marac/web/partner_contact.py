"""Partner contact: the work list, her record, and what her worker does on it.

Every URL of the area is here. Her record opens through ``access.partner_contact_route``
(``policy.partner_contact_record``): in full to her own named worker and the chair, as a summary
(who works with her, what is due) to the coordinator, to nobody else. Only her worker records on
it; the coordinator or her worker hands her over to another worker.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from marac import clock, policy
from marac.domain import (
    PROMPTING_CONSENTS,
    CaseRole,
    CaseStatus,
    Classification,
    ContactConsent,
    ContactMethod,
    ContactOutcome,
    PcTaskStatus,
)
from marac.extensions import db
from marac.models import Case, CasePerson, PartnerContactRecord, PcTask, User
from marac.policy import Decision, PartnerContactFacts
from marac.present import person_names
from marac.present_programmes import (
    present_partner_contact,
    present_tasks,
    task_rows_statement,
)
from marac.services import partner_contact as pc
from marac.services.allocation import AllocationRefused
from marac.viewer import Viewer, partner_contact_facts
from marac.web.access import current_viewer, partner_contact_route, signed_in
from marac.web.forms import enum_choices, id_choices
from marac.web.htmx import render

bp = Blueprint("partner_contact", __name__, url_prefix="/partner-contact")

LIST_LIMIT = 100
CONTACT_DUE_WITHIN_DAYS = 7
DATE_HINT = "For example 2026-11-24."
LONG_TEXT = [Optional(), Length(max=4000, message="Use at most 4,000 characters.")]
YES_NO_UNKNOWN = [
    SelectChoice("", "Not asked"),
    SelectChoice("yes", "Yes"),
    SelectChoice("no", "No"),
]


def _date(label: str, required: bool = True) -> DateField:
    validators = [InputRequired("Enter the date, like 2026-11-24.")] if required else [Optional()]
    return DateField(label, validators=validators, description=DATE_HINT)


class ConsentForm(FlaskForm):
    consent = SelectField(
        "Her consent to contact",
        choices=enum_choices(ContactConsent),
        description="Contact is voluntary. When she declines or withdraws, the service stops "
        "prompting contact.",
    )
    consent_on = _date("Date she said so")
    version = HiddenField()


class DetailsForm(FlaskForm):
    safe_phone = StringField("Safe phone number", validators=[Optional(), Length(max=64)])
    safe_email = EmailField(
        "Safe email address",
        validators=[Optional(), Email("Enter an email address."), Length(max=254)],
    )
    safe_times = StringField("Safe times to contact her", validators=[Optional(), Length(max=200)])
    may_leave_message = RadioField(
        "May a message be left?", choices=YES_NO_UNKNOWN, validators=[Optional()], default=""
    )
    sharing_agreed = TextAreaField(
        "What she agrees may be shared, and with whom", validators=LONG_TEXT
    )
    risk_account = TextAreaField("Her own account of risk", validators=LONG_TEXT)
    hopes_fears = TextAreaField("Her hopes and fears about his programme", validators=LONG_TEXT)
    safety_plan = TextAreaField("Safety planning done with her", validators=LONG_TEXT)
    safety_plan_on = _date("Safety plan last reviewed on", required=False)
    contact_every_days = IntegerField(
        "Planned contact every (days)",
        validators=[InputRequired("Enter a number of days."), NumberRange(1, 365, "1 to 365.")],
        description="Weekly for a period after he drops out or is suspended, whatever this says.",
    )
    version = HiddenField()


class ContactForm(FlaskForm):
    occurred_on = _date("Date of the contact")
    method = SelectField("How", choices=enum_choices(ContactMethod))
    outcome = SelectField("Outcome", choices=enum_choices(ContactOutcome))
    note = TextAreaField("Note", validators=LONG_TEXT)


class ChildForm(FlaskForm):
    child_name = StringField(
        "The child's name, as she gives it",
        validators=[InputRequired("Enter the child's name."), Length(max=200)],
    )
    impact = TextAreaField(
        "Impact of his abuse on this child",
        validators=[InputRequired("Describe the impact on this child."), Length(max=4000)],
    )
    plan = TextAreaField("Plan for this child", validators=LONG_TEXT)
    assessed_on = _date("Assessed on")


class TaskDoneForm(FlaskForm):
    note = TextAreaField("What was done", validators=LONG_TEXT)
    version = HiddenField()


class CloseForm(FlaskForm):
    reason = TextAreaField(
        "Why partner contact is closing",
        validators=[InputRequired("Say why partner contact is closing."), Length(max=4000)],
        description="A decision, never automatic: not because he left the programme.",
    )
    version = HiddenField()


class VersionForm(FlaskForm):
    version = HiddenField()


class HandoverForm(FlaskForm):
    worker_id = SelectField("New partner-contact worker", coerce=str)
    version = HiddenField()


TABLE_CHOICES = [
    SelectChoice("", "Do not table"),
    *(SelectChoice(c.value, c.label) for c in pc.TABLE_CLASSIFICATIONS),
]


class TableForm(FlaskForm):
    case_id = SelectField("Her case", coerce=str)
    risk_account = SelectField("Her own account of risk", choices=TABLE_CHOICES, default="")
    hopes_fears = SelectField(
        "Her hopes and fears about his programme", choices=TABLE_CHOICES, default=""
    )
    safety_plan = SelectField("Safety planning done with her", choices=TABLE_CHOICES, default="")


# --- the work list ----------------------------------------------------------------------------


@bp.route("/")
@signed_in()
def index() -> Response:
    viewer = current_viewer()
    if not policy.may_see_partner_contact_list(viewer).full:
        abort(403)
    today = clock.service_today()
    visible = policy.visible_partner_contact_clause(viewer, today)
    task_rows = db.session.execute(
        task_rows_statement()
        .where(visible, PcTask.status == PcTaskStatus.OPEN)
        .order_by(PcTask.due_on, PcTask.id)
        .limit(LIST_LIMIT)
    ).all()
    open_tasks = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(PcTask)
        .join(PartnerContactRecord, PartnerContactRecord.id == PcTask.record_id)
        .where(visible, PcTask.status == PcTaskStatus.OPEN)
    )
    records = db.session.scalars(
        sa.select(PartnerContactRecord)
        .where(visible)
        .order_by(PartnerContactRecord.closed_on.is_not(None), PartnerContactRecord.id)
        .limit(LIST_LIMIT)
    ).all()
    facts = partner_contact_facts(
        db.session, records + [r for _, _, r in task_rows if r not in records], today
    )
    rows = _record_rows(viewer, records, facts, today)
    return render(
        "partner_contact/index.html",
        "partner_contact/index.html",
        tasks=present_tasks(db.session, viewer, list(task_rows), facts, today),
        open_tasks=open_tasks,
        rows=rows,
        contacts_due=[
            r
            for r in rows
            if r["full"]
            and r["next_contact_on"]
            and r["next_contact_on"] <= (today + timedelta(days=CONTACT_DUE_WITHIN_DAYS))
        ],
        unassigned=[r for r in rows if not r["workers"] and r["closed_on"] is None],
        overview=policy.may_see_partner_contact_overview(viewer).full,
        today=today,
    )


def _record_rows(
    viewer: Viewer,
    records: list[PartnerContactRecord],
    facts: dict[int, PartnerContactFacts],
    today: date,
) -> list[dict[str, Any]]:
    names = person_names(db.session, {r.person_id for r in records})
    worker_ids = {w for f in facts.values() for w in f.worker_ids}
    workers = dict(
        db.session.execute(
            sa.select(User.id, User.display_name).where(User.id.in_(worker_ids))
        ).all()
    )
    rows = []
    for record in records:
        decision = policy.partner_contact_record(viewer, facts[record.id])
        if decision.withheld:
            continue
        full = decision.full
        rows.append(
            {
                "record_id": record.id,
                "name": names[record.person_id],
                "workers": sorted(workers[w] for w in facts[record.id].worker_ids),
                "full": full,
                "consent": record.consent.label if full else None,
                "next_contact_on": record.next_contact_on if full else None,
                "stepped_up": full
                and record.stepped_up_until is not None
                and record.stepped_up_until > today,
                "closed_on": record.closed_on,
            }
        )
    return rows


# --- her record -------------------------------------------------------------------------------


def page_context(
    record: PartnerContactRecord,
    viewer: Viewer,
    facts: PartnerContactFacts,
    forms: dict[str, FlaskForm] | None = None,
    conflict: bool = False,
) -> dict[str, Any]:
    today = clock.service_today()
    presented = present_partner_contact(db.session, viewer, record, facts, today)
    may_work = policy.may_work_on_partner_contact(viewer, facts).full
    forms = dict(forms or {})
    if may_work:
        defaults = {
            "consent": lambda: ConsentForm(
                formdata=None, prefix="consent", consent=record.consent.value, consent_on=today
            ),
            "details": lambda: DetailsForm(
                formdata=None,
                prefix="details",
                **{k: v for k, v in presented.details.items() if k != "may_leave_message"},
                may_leave_message={True: "yes", False: "no"}.get(record.may_leave_message, ""),
            ),
            "contact": lambda: ContactForm(formdata=None, prefix="contact", occurred_on=today),
            "child": lambda: ChildForm(formdata=None, prefix="child", assessed_on=today),
            "close": lambda: CloseForm(formdata=None, prefix="close"),
        }
        for name, make in defaults.items():
            if name not in forms:
                forms[name] = make()
        for form in forms.values():
            if hasattr(form, "version"):
                form.version.data = record.version
    return {
        "record": presented,
        "forms": forms if may_work else {},
        "may_hand_over": policy.may_hand_over(viewer, facts).full,
        "may_table": may_work and bool(_her_cases(record)),
        "conflict": conflict,
        "prompting": record.consent in PROMPTING_CONSENTS and record.closed_on is None,
        "task_form": may_work,
    }


@bp.route("/<int:partner_contact_id>")
@partner_contact_route
def show(
    record: PartnerContactRecord, viewer: Viewer, facts: PartnerContactFacts, decision: Decision
) -> Response:
    from marac import audit

    audit.record("partner_contact.view", object_type="partner_contact_record", object_id=record.id)
    return render(
        "partner_contact/show.html",
        "partner_contact/show.html",
        **page_context(record, viewer, facts),
    )


def _require_work(viewer: Viewer, facts: PartnerContactFacts) -> None:
    if not policy.may_work_on_partner_contact(viewer, facts).full:
        abort(403)


def _again(
    record: PartnerContactRecord,
    viewer: Viewer,
    facts: PartnerContactFacts,
    name: str,
    form: FlaskForm,
    status: int = 400,
) -> Response:
    db.session.rollback()
    record = db.session.get(PartnerContactRecord, record.id)
    return render(
        "partner_contact/show.html",
        "partner_contact/show.html",
        status_code=status,
        **page_context(record, viewer, facts, {name: form}, conflict=status == 409),
    )


def _back(record: PartnerContactRecord, message: str, anchor: str) -> Response:
    flash(message, "success")
    return redirect(
        url_for("partner_contact.show", partner_contact_id=record.id, _anchor=anchor), code=303
    )


def _stale(form: FlaskForm, version: int) -> bool:
    return (form.version.data or "") != str(version)


def _problem(form: FlaskForm, problem: pc.PartnerContactProblem, fallback: str) -> None:
    field = getattr(form, problem.field, None) or getattr(form, fallback)
    field.errors = [*field.errors, problem.message]


@bp.route("/<int:partner_contact_id>/consent", methods=["POST"])
@partner_contact_route
def consent(
    record: PartnerContactRecord, viewer: Viewer, facts: PartnerContactFacts, decision: Decision
) -> Response:
    _require_work(viewer, facts)
    form = ConsentForm(prefix="consent")
    if form.validate_on_submit():
        if _stale(form, record.version):
            return _again(record, viewer, facts, "consent", form, 409)
        try:
            pc.set_consent(
                db.session,
                record,
                consent=ContactConsent(form.consent.data),
                on=form.consent_on.data,
                by=current_user,
                today=clock.service_today(),
            )
        except pc.PartnerContactProblem as problem:
            _problem(form, problem, "consent")
        else:
            return _back(record, "Her consent is recorded.", "consent")
    return _again(record, viewer, facts, "consent", form)


@bp.route("/<int:partner_contact_id>/details", methods=["POST"])
@partner_contact_route
def details(
    record: PartnerContactRecord, viewer: Viewer, facts: PartnerContactFacts, decision: Decision
) -> Response:
    _require_work(viewer, facts)
    form = DetailsForm(prefix="details")
    if form.validate_on_submit():
        if _stale(form, record.version):
            return _again(record, viewer, facts, "details", form, 409)
        values = {name: getattr(form, name).data for name in pc.DETAIL_FIELDS}
        values["may_leave_message"] = {"yes": True, "no": False}.get(form.may_leave_message.data)
        try:
            pc.update_details(
                db.session, record, values, by=current_user, today=clock.service_today()
            )
        except pc.PartnerContactProblem as problem:
            _problem(form, problem, "risk_account")
        else:
            return _back(record, "Saved.", "details")
    return _again(record, viewer, facts, "details", form)


@bp.route("/<int:partner_contact_id>/contacts", methods=["POST"])
@partner_contact_route
def contacts(
    record: PartnerContactRecord, viewer: Viewer, facts: PartnerContactFacts, decision: Decision
) -> Response:
    _require_work(viewer, facts)
    form = ContactForm(prefix="contact")
    if form.validate_on_submit():
        try:
            pc.log_contact(
                db.session,
                record,
                occurred_on=form.occurred_on.data,
                method=ContactMethod(form.method.data),
                outcome=ContactOutcome(form.outcome.data),
                note=form.note.data,
                by=current_user,
                today=clock.service_today(),
            )
        except pc.PartnerContactProblem as problem:
            _problem(form, problem, "occurred_on")
        else:
            return _back(record, "The contact is logged.", "contacts")
    return _again(record, viewer, facts, "contact", form)


@bp.route("/<int:partner_contact_id>/children", methods=["POST"])
@partner_contact_route
def children(
    record: PartnerContactRecord, viewer: Viewer, facts: PartnerContactFacts, decision: Decision
) -> Response:
    _require_work(viewer, facts)
    form = ChildForm(prefix="child")
    if form.validate_on_submit():
        try:
            pc.add_child_impact(
                db.session,
                record,
                child_name=form.child_name.data,
                impact=form.impact.data,
                plan=form.plan.data,
                assessed_on=form.assessed_on.data,
                by=current_user,
                today=clock.service_today(),
            )
        except pc.PartnerContactProblem as problem:
            _problem(form, problem, "impact")
        else:
            return _back(record, "The assessment for this child is saved.", "children")
    return _again(record, viewer, facts, "child", form)


@bp.route("/<int:partner_contact_id>/tasks/<int:task_id>", methods=["POST"])
@partner_contact_route
def task_done(
    record: PartnerContactRecord,
    viewer: Viewer,
    facts: PartnerContactFacts,
    decision: Decision,
    task_id: int,
) -> Response:
    _require_work(viewer, facts)
    task = db.session.get(PcTask, task_id)
    if task is None or task.record_id != record.id:
        abort(404)
    form = TaskDoneForm()
    if not form.validate_on_submit():
        return _again(record, viewer, facts, "task", form)
    if _stale(form, task.version) or task.status is PcTaskStatus.DONE:
        return _again(record, viewer, facts, "task", form, 409)
    pc.complete_task(
        db.session, task, note=form.note.data, by=current_user, today=clock.service_today()
    )
    return _back(record, "The task is done.", "tasks")


@bp.route("/<int:partner_contact_id>/close", methods=["POST"])
@partner_contact_route
def close(
    record: PartnerContactRecord, viewer: Viewer, facts: PartnerContactFacts, decision: Decision
) -> Response:
    _require_work(viewer, facts)
    form = CloseForm(prefix="close")
    if form.validate_on_submit():
        if _stale(form, record.version):
            return _again(record, viewer, facts, "close", form, 409)
        try:
            pc.close_record(
                db.session,
                record,
                reason=form.reason.data,
                by=current_user,
                today=clock.service_today(),
            )
        except pc.PartnerContactProblem as problem:
            _problem(form, problem, "reason")
        else:
            return _back(record, "Partner contact is closed. It can be reopened.", "close")
    return _again(record, viewer, facts, "close", form)


@bp.route("/<int:partner_contact_id>/reopen", methods=["POST"])
@partner_contact_route
def reopen(
    record: PartnerContactRecord, viewer: Viewer, facts: PartnerContactFacts, decision: Decision
) -> Response:
    _require_work(viewer, facts)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    if _stale(form, record.version) or record.closed_on is None:
        return _again(record, viewer, facts, "reopen", form, 409)
    pc.reopen_record(db.session, record, by=current_user, today=clock.service_today())
    return _back(record, "Partner contact is open again.", "close")


# --- handing her over -------------------------------------------------------------------------


def _worker_choices(record: PartnerContactRecord, facts: PartnerContactFacts) -> list:
    workers = db.session.execute(
        sa.select(User.id, User.display_name)
        .where(
            User.agency_id == record.agency_id,
            User.is_enabled.is_(True),
            User.id.not_in(facts.worker_ids or {-1}),
        )
        .order_by(User.display_name, User.id)
    ).all()
    return [SelectChoice("", "Choose a worker"), *id_choices(workers)]


@bp.route("/<int:partner_contact_id>/handover", methods=["GET", "POST"])
@partner_contact_route
def handover(
    record: PartnerContactRecord, viewer: Viewer, facts: PartnerContactFacts, decision: Decision
) -> Response:
    if not policy.may_hand_over(viewer, facts).full:
        abort(403)
    form = HandoverForm(prefix="handover")
    form.worker_id.choices = _worker_choices(record, facts)
    status = 200
    if not form.is_submitted():
        form.version.data = record.version
    else:
        status = 400
        if form.validate():
            if _stale(form, record.version):
                status = 409
                form.version.data = record.version
            elif not form.worker_id.data:
                form.worker_id.errors = ["Choose the new worker."]
            else:
                try:
                    moved = pc.hand_over(
                        db.session,
                        record,
                        new_worker_id=int(form.worker_id.data),
                        by=current_user,
                        today=clock.service_today(),
                    )
                except AllocationRefused as refused:
                    form.worker_id.errors = [r.message for r in refused.refusals]
                    db.session.commit()  # the refusal stays on record; nothing else changed
                else:
                    flash(f"Handed over. {moved} open tasks moved to the new worker.", "success")
                    if policy.partner_contact_record(
                        viewer, partner_contact_facts(db.session, [record])[record.id]
                    ).withheld:
                        return redirect(url_for("partner_contact.index"), code=303)
                    return redirect(
                        url_for("partner_contact.show", partner_contact_id=record.id), code=303
                    )
    presented = present_partner_contact(db.session, viewer, record, facts, clock.service_today())
    return render(
        "partner_contact/handover.html",
        "partner_contact/handover.html",
        status_code=status,
        record=presented,
        form=form,
    )


# --- tabling survivor-informed risk at the MARAC ------------------------------------------


def _her_cases(record: PartnerContactRecord) -> list[tuple[int, str]]:
    """Her cases as the victim that are not closed: where her account can be tabled."""
    rows = db.session.execute(
        sa.select(Case.id, Case.reference, Case.status)
        .join(CasePerson, CasePerson.case_id == Case.id)
        .where(
            CasePerson.person_id == record.person_id,
            CasePerson.role == CaseRole.VICTIM,
            Case.status.not_in([CaseStatus.CLOSED, CaseStatus.NOT_ELIGIBLE]),
        )
        .order_by(Case.referred_on.desc(), Case.id.desc())
    ).all()
    return [(row.id, f"{row.reference} ({row.status.label.lower()})") for row in rows]


@bp.route("/<int:partner_contact_id>/table", methods=["GET", "POST"])
@partner_contact_route
def table(
    record: PartnerContactRecord, viewer: Viewer, facts: PartnerContactFacts, decision: Decision
) -> Response:
    _require_work(viewer, facts)
    cases = _her_cases(record)
    form = TableForm(prefix="table")
    form.case_id.choices = id_choices(cases)
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate() and cases:
            chosen = {
                name: Classification(getattr(form, name).data)
                for name in pc.TABLEABLE
                if getattr(form, name).data
            }
            try:
                pc.table_at_marac(
                    db.session,
                    record,
                    case_id=int(form.case_id.data),
                    chosen=chosen,
                    by=current_user,
                )
            except pc.PartnerContactProblem as problem:
                form.risk_account.errors = [problem.message]
            else:
                flash(f"Tabled: {len(chosen)} items added to the case.", "success")
                return redirect(
                    url_for("cases.show", case_id=int(form.case_id.data), _anchor="items-title"),
                    code=303,
                )
    presented = present_partner_contact(db.session, viewer, record, facts, clock.service_today())
    return render(
        "partner_contact/table.html",
        "partner_contact/table.html",
        status_code=status,
        record=presented,
        form=form,
        cases=cases,
    )
