"""Agencies involved in a case: who works with whom, allocating an agency or worker, ending it.

The case page shows the same section through ``allocation_context``. Every form works without
JavaScript: a plain POST, then a redirect back to the case. Refusals (the practice rules in
``marac.services.allocation``) come back as errors beside the field, with what was chosen kept.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField
from wtforms.validators import InputRequired

from marac import audit, clock, policy
from marac.domain import InvolvementKind
from marac.extensions import db
from marac.models import Case, Involvement
from marac.present import CaseReads
from marac.present_allocation import allocation_choices, present_involvements
from marac.services.allocation import (
    AllocationRefused,
    AllocationRequest,
    allocate_worker,
    end_involvement,
    record_refusal,
)
from marac.viewer import CaseLinks, Viewer, links_for_case
from marac.web.access import case_route
from marac.web.forms import FastDateInput, FastSelect, enum_choices, id_choices
from marac.web.htmx import render

bp = Blueprint("involvements", __name__, url_prefix="/cases")

FORM_PREFIX = "allocate"


def _optional_id(value: object) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)  # a ValueError becomes "Not a valid choice" beside the field


class InvolvementForm(FlaskForm):
    person_id = SelectField("Person", widget=FastSelect(), coerce=int)
    agency_id = SelectField("Agency", widget=FastSelect(), coerce=int)
    kind = SelectField("Kind of work", widget=FastSelect(), choices=enum_choices(InvolvementKind))
    worker_id = SelectField(
        "Named worker",
        widget=FastSelect(),
        coerce=_optional_id,
        description="Optional. Only a worker of the chosen agency.",
    )
    started_on = DateField(
        "Started on",
        widget=FastDateInput(),
        validators=[InputRequired("Enter the date the work started, like 2026-11-24.")],
        description="For example 2026-11-24.",
    )


class EndInvolvementForm(FlaskForm):
    version = HiddenField()


def allocation_context(
    case: Case,
    viewer: Viewer,
    links: CaseLinks,
    form: InvolvementForm | None = None,
    conflict: bool = False,
    reads: CaseReads | None = None,
) -> dict[str, Any]:
    today = clock.service_today()
    reads = reads or CaseReads(db.session, links)
    choices = allocation_choices(db.session, viewer, links, reads)
    if choices.any:
        if form is None:
            form = InvolvementForm(formdata=None, prefix=FORM_PREFIX, started_on=today)
        _set_choices(form, choices)
    return {
        "allocation_case_id": case.id,
        "allocation_case_reference": case.reference,
        "agencies": present_involvements(db.session, viewer, links, today, reads),
        "allocation_form": form if choices.any else None,
        "allocation_conflict": conflict,
    }


def _set_choices(form: InvolvementForm, choices: Any) -> None:
    form.person_id.choices = id_choices(choices.people)
    form.agency_id.choices = id_choices(choices.agencies)
    form.worker_id.choices = [("", "No named worker"), *id_choices(choices.workers)]


@bp.route("/<int:case_id>/agencies", methods=["GET", "POST"])
@case_route
def agencies(case: Case, viewer: Viewer, links: CaseLinks) -> Response:
    choices = allocation_choices(db.session, viewer, links)
    # What was sent wins over the default date; a plain GET shows today.
    form = (
        InvolvementForm(prefix=FORM_PREFIX, started_on=clock.service_today())
        if choices.any
        else None
    )
    if form is not None:
        _set_choices(form, choices)
        if form.validate_on_submit():
            done = _allocate(case, viewer, links, form)
            if done is not None:
                return done
    elif request.method == "POST":
        _refused(case, "may allocate no agency to anyone in this case")
        abort(403)
    status = 400 if form is not None and form.is_submitted() else 200
    return render(
        "involvements/page.html",
        "involvements/_agencies.html",
        status_code=status,
        **allocation_context(case, viewer, links, form),
    )


def _allocate(
    case: Case, viewer: Viewer, links: CaseLinks, form: InvolvementForm
) -> Response | None:
    person_id, agency_id = form.person_id.data, form.agency_id.data
    wanted = AllocationRequest(
        case_id=case.id,
        person_id=person_id,
        agency_id=agency_id,
        kind=InvolvementKind(form.kind.data),
        worker_id=form.worker_id.data,
        started_on=form.started_on.data,
    )
    decision = policy.may_allocate(viewer, links, person_id, agency_id)
    if not decision.full:
        form.agency_id.errors.append("You may allocate only your own agency.")
        record_refusal(wanted, [f"Not allowed: {decision.reason}."])
        _keep_refusal_on_record()
        return None
    try:
        allocate_worker(wanted, today=clock.service_today())
    except AllocationRefused as refused:
        for refusal in refused.refusals:
            getattr(form, refusal.field).errors.append(refusal.message)
        _keep_refusal_on_record()
        return None
    flash("Added to the agencies involved.", "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="agencies"), code=303)


def _keep_refusal_on_record() -> None:
    # The refusal is recorded even though the 400 (or 403) answer rolls the request back;
    # nothing else has changed by then.
    db.session.commit()


def _refused(case: Case, reason: str) -> None:
    audit.record(
        "involvement.refused",
        object_type="case",
        object_id=case.id,
        detail=f"case {case.id}: refused: {reason}",
    )
    _keep_refusal_on_record()


@bp.route("/<int:case_id>/agencies/<int:involvement_id>/end", methods=["POST"])
@case_route
def end(case: Case, viewer: Viewer, links: CaseLinks, involvement_id: int) -> Response:
    involvement = db.session.get(Involvement, involvement_id)
    today = clock.service_today()
    if (
        involvement is None
        or involvement.person_id not in links.roles
        or (involvement.ended_on is not None and involvement.ended_on <= today)
        or not policy.involvement(viewer, links, involvement.person_id, involvement.agency_id).full
    ):
        abort(404)
    if not policy.may_allocate(viewer, links, involvement.person_id, involvement.agency_id).full:
        abort(403)
    form = EndInvolvementForm()
    if not form.validate_on_submit():
        abort(400)
    if (form.version.data or "") != str(involvement.version):
        return render(
            "involvements/page.html",
            "involvements/_agencies.html",
            status_code=409,
            **allocation_context(case, viewer, links, conflict=True),
        )
    end_involvement(involvement, case.id, today)
    flash("The involvement has ended. It stays on record.", "success")
    if not policy.case_access(viewer, links_for_case(db.session, viewer, case)).full:
        # Ending one's own work can close the case to oneself.
        return redirect(url_for("cases.index"), code=303)
    return redirect(url_for("cases.show", case_id=case.id, _anchor="agencies"), code=303)
