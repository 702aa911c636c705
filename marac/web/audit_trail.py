"""The administrator's view of the audit trail: who looked at a person's record, and when.

Administrators see no case content, so the screen names people only by record number and
shows audit metadata only: when, who, their agency, what kind of access or change, which
record, and from which address. Never the entry's detail text, never a name or a case reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, Response, abort, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Regexp

from marac import audit, clock, policy
from marac.domain import Role
from marac.extensions import db
from marac.models import Agency, AuditEntry, CasePerson, Person, PersonMerge, User
from marac.web.access import current_viewer, signed_in

bp = Blueprint("audit_trail", __name__, url_prefix="/admin/audit")

LIMIT = 500

# What each kind of entry means, in plain words; anything else shows its own name.
WHAT = {
    "case.view": "opened the case",
    "case.network_view": "looked at the case's network",
    "case.refused": "was refused the case",
    "person.compare": "compared the record with a possible duplicate",
    "person.offered": "was offered the record while making a referral",
    "person.merge": "merged records",
    "person.merge_undone": "undid a merge",
    "person.duplicate_dismissed": "recorded two different people",
    "referral.create": "made a referral",
    "involvement.create": "allocated an agency or worker",
    "involvement.end": "ended an involvement",
    "involvement.refused": "was refused an allocation",
}


class LookupForm(FlaskForm):
    person_id = StringField(
        "Person record number",
        validators=[
            DataRequired("Enter the record number, for example 12."),
            Regexp(r"^\s*\d{1,9}\s*$", message="Enter the record number, for example 12."),
        ],
        description="The number the coordinator gives you, as shown on the merge pages "
        '("record 12").',
    )


@dataclass(frozen=True)
class Row:
    at: datetime
    who: str
    username: str
    agency: str
    what: str
    record: str
    remote_addr: str


def _area_id() -> int:
    viewer = current_viewer()
    if not policy.may_administer(viewer, viewer.area_id).full:
        abort(403)
    return viewer.area_id


@bp.route("/people", methods=["GET", "POST"])
@signed_in(Role.ADMINISTRATOR)
def person_lookup() -> Response | tuple[str, int]:
    _area_id()
    form = LookupForm()
    if form.validate_on_submit():
        return redirect(
            url_for("audit_trail.person", person_id=int(form.person_id.data or 0)), code=303
        )
    status = 400 if form.is_submitted() else 200
    return render_template("audit/person_lookup.html", form=form), status


@bp.route("/people/<int:person_id>")
@signed_in(Role.ADMINISTRATOR)
def person(person_id: int) -> str:
    area_id = _area_id()
    found = db.session.get(Person, person_id)
    if found is None or found.area_id != area_id:
        abort(404)
    # Records merged into this one are the same person: their history counts too.
    person_ids = [person_id] + list(
        db.session.scalars(
            sa.select(PersonMerge.duplicate_id).where(
                PersonMerge.kept_id == person_id, PersonMerge.undone_at.is_(None)
            )
        )
    )
    case_ids = list(
        db.session.scalars(
            sa.select(CasePerson.case_id).where(CasePerson.person_id.in_(person_ids)).distinct()
        )
    )
    about_person = sa.and_(AuditEntry.object_type == "person", AuditEntry.object_id.in_(person_ids))
    about_cases = sa.and_(AuditEntry.object_type == "case", AuditEntry.object_id.in_(case_ids))
    rows = db.session.execute(
        sa.select(AuditEntry, User.display_name, User.username, Agency.name)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .outerjoin(Agency, Agency.id == AuditEntry.agency_id)
        .where(sa.or_(about_person, about_cases) if case_ids else about_person)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(LIMIT + 1)
    ).all()
    audit.record(
        "audit.person_lookup",
        object_type="person",
        object_id=person_id,
        detail=f"{min(len(rows), LIMIT)} entries shown",
    )
    zone = clock.service_timezone()
    shown = [
        Row(
            at=clock.as_utc(entry.at).astimezone(zone),
            who=name or "(nobody signed in)",
            username=username or "",
            agency=agency or "",
            what=WHAT.get(entry.action, entry.action),
            record=f"{entry.object_type} record {entry.object_id}",
            remote_addr=entry.remote_addr or "",
        )
        for entry, name, username, agency in rows[:LIMIT]
    ]
    return render_template(
        "audit/person.html",
        person_id=person_id,
        merged_ids=person_ids[1:],
        case_ids=case_ids,
        rows=shown,
        more=len(rows) > LIMIT,
    )
