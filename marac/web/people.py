"""Person records: possible duplicates for triage, merging two records, and undoing a merge.

GET      /people/duplicates                     open possible duplicates (coordinator, chair)
POST     /people/duplicates/<id>/dismiss        "not the same person" (coordinator)
GET/POST /people/merge/<kept_id>/<duplicate_id> compare two records, then merge (coordinator)
GET      /people/merges                         merge history (coordinator)
POST     /people/merges/<id>/undo               undo a merge (coordinator)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import aliased, selectinload

from marac import audit, policy
from marac.domain import Role
from marac.extensions import db
from marac.models import Case, CasePerson, Person, PersonMerge, PossibleDuplicate
from marac.services import people as people_service
from marac.web.access import current_viewer, recent_sign_in, signed_in

bp = Blueprint("people", __name__, url_prefix="/people")


def _triage_area() -> int:
    viewer = current_viewer()
    if not policy.may_triage_referrals(viewer, viewer.area_id).full:
        abort(403)
    return viewer.area_id


def _merge_area() -> int:
    viewer = current_viewer()
    if not policy.may_merge_people(viewer, viewer.area_id).full:
        abort(403)
    return viewer.area_id


def _person_in_area(person_id: int, area_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None or person.area_id != area_id:
        abort(404)
    return person


@dataclass(frozen=True)
class PersonSummary:
    """One record as the coordinator compares it: identity and cases, never contact details."""

    person_id: int
    name: str
    date_of_birth: date | None
    gender_label: str
    aliases: tuple[str, ...]
    cases: tuple[tuple[int, str, str], ...]
    merged: bool


def _summaries(person_ids: list[int]) -> dict[int, PersonSummary]:
    if not person_ids:
        return {}
    people = db.session.scalars(
        sa.select(Person).where(Person.id.in_(person_ids)).options(selectinload(Person.aliases))
    ).all()
    cases: dict[int, list[tuple[int, str, str]]] = {pid: [] for pid in person_ids}
    for person_id, case_id, reference, role in db.session.execute(
        sa.select(CasePerson.person_id, Case.id, Case.reference, CasePerson.role)
        .join(Case, Case.id == CasePerson.case_id)
        .where(CasePerson.person_id.in_(person_ids))
        .order_by(Case.reference)
    ):
        cases[person_id].append((case_id, reference, role.label))
    merged = set(
        db.session.scalars(
            sa.select(PersonMerge.duplicate_id).where(
                PersonMerge.duplicate_id.in_(person_ids), PersonMerge.undone_at.is_(None)
            )
        )
    )
    return {
        p.id: PersonSummary(
            person_id=p.id,
            name=p.full_name,
            date_of_birth=p.date_of_birth,
            gender_label=p.gender.label,
            aliases=tuple(a.name for a in p.aliases),
            cases=tuple(cases[p.id]),
            merged=p.id in merged,
        )
        for p in people
    }


@bp.route("/duplicates")
@signed_in(Role.COORDINATOR, Role.CHAIR)
def duplicates() -> str:
    area_id = _triage_area()
    flags = db.session.scalars(
        sa.select(PossibleDuplicate)
        .where(PossibleDuplicate.area_id == area_id, PossibleDuplicate.resolved_at.is_(None))
        .order_by(PossibleDuplicate.found_at.desc(), PossibleDuplicate.id.desc())
        .limit(200)
    ).all()
    people = _summaries(sorted({f.person_id for f in flags} | {f.candidate_id for f in flags}))
    may_merge = policy.may_merge_people(current_viewer(), area_id).full
    return render_template(
        "people/duplicates.html", flags=flags, people=people, may_merge=may_merge
    )


@bp.route("/duplicates/<int:flag_id>/dismiss", methods=["POST"])
@signed_in(Role.COORDINATOR)
def dismiss(flag_id: int) -> Response:
    area_id = _merge_area()
    flag = db.session.get(PossibleDuplicate, flag_id)
    if flag is None or flag.area_id != area_id or flag.resolved_at is not None:
        abort(404)
    people_service.dismiss_duplicate(db.session, current_user, flag)
    flash("Recorded as two different people.", "success")
    return redirect(url_for("people.duplicates"), code=303)


@bp.route("/merge/<int:kept_id>/<int:duplicate_id>", methods=["GET", "POST"])
@signed_in(Role.COORDINATOR)
@recent_sign_in()
def merge(kept_id: int, duplicate_id: int) -> Response | tuple[str, int] | str:
    area_id = _merge_area()
    kept = _person_in_area(kept_id, area_id)
    duplicate = _person_in_area(duplicate_id, area_id)
    people = _summaries([kept.id, duplicate.id])
    if request.method == "GET":
        for person_id in (kept.id, duplicate.id):
            audit.record_view("person.compare", object_type="person", object_id=person_id)
    problem = None
    try:
        people_service.check_merge(db.session, kept, duplicate)
    except people_service.MergeRefused as refused:
        problem = str(refused)
    if request.method == "POST" and problem is None:
        record = people_service.merge_people(db.session, current_user, kept, duplicate)
        flash(
            f"Merged: record {record.duplicate_id} now points to record {record.kept_id}. "
            "You can undo this from the merge history.",
            "success",
        )
        return redirect(url_for("people.merges"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "people/merge.html",
        kept=people[kept.id],
        duplicate=people[duplicate.id],
        problem=problem,
    ), status


@bp.route("/merges")
@signed_in(Role.COORDINATOR)
def merges() -> str:
    area_id = _merge_area()
    kept, dup = aliased(Person), aliased(Person)
    rows = db.session.execute(
        sa.select(PersonMerge, kept, dup)
        .join(kept, kept.id == PersonMerge.kept_id)
        .join(dup, dup.id == PersonMerge.duplicate_id)
        .where(PersonMerge.area_id == area_id)
        .options(
            selectinload(PersonMerge.merged_by),
            selectinload(PersonMerge.undone_by),
            selectinload(PersonMerge.moves),
        )
        .order_by(PersonMerge.merged_at.desc(), PersonMerge.id.desc())
        .limit(200)
    ).all()
    return render_template("people/merges.html", rows=rows)


@bp.route("/merges/<int:merge_id>/undo", methods=["POST"])
@signed_in(Role.COORDINATOR)
@recent_sign_in(return_to="people.merges")
def undo(merge_id: int) -> Response:
    area_id = _merge_area()
    record = db.session.get(PersonMerge, merge_id)
    if record is None or record.area_id != area_id:
        abort(404)
    if record.undone_at is not None:
        flash("This merge had already been undone.", "info")
        return redirect(url_for("people.merges"), code=303)
    restored = people_service.undo_merge(db.session, current_user, record)
    flash(
        f"Merge undone: {restored} records moved back to record {record.duplicate_id}.", "success"
    )
    return redirect(url_for("people.merges"), code=303)
