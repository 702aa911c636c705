"""Referrals: the referral form (with live score and live matches), and the coordinator's queue.

GET/POST /referrals/new           the form; plain POST works without JavaScript
POST     /referrals/new/score     fragment: the score and the criteria as typed (htmx)
POST     /referrals/new/matches   fragment: people already known for one person row (htmx)
GET      /referrals/              the queue for coordinator and chair
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from marac import audit, clock, eligibility, matching, policy
from marac.checklists import Checklist, get_checklist
from marac.domain import (
    CaseRole,
    CaseStatus,
    ChecklistAnswer,
    Disability,
    EthnicGroup,
    Gender,
    SexualOrientation,
    TransHistory,
)
from marac.extensions import db
from marac.models import Agency, Area, Case, CasePerson, PossibleDuplicate, Referral
from marac.present_referrals import PresentedCandidate, present_candidates, queue_rows
from marac.services import referrals as referral_service
from marac.viewer import Viewer, links_for_case
from marac.web.access import current_viewer, signed_in
from marac.web.forms import id_choices
from marac.web.htmx import render
from marac.web.referral_forms import (
    MAX_PEOPLE,
    NEW_PERSON,
    OtherPersonFields,
    PersonFields,
    ReferralFormBase,
    answers_from,
    callouts_typed,
    referral_form,
    yes_no,
)

bp = Blueprint("referrals", __name__, url_prefix="/referrals")

QUEUE_STATUSES = (
    CaseStatus.REFERRED,
    CaseStatus.ELIGIBLE,
    CaseStatus.NOT_ELIGIBLE,
    CaseStatus.LISTED,
)
QUEUE_LABELS = {
    CaseStatus.REFERRED: "New",
    CaseStatus.ELIGIBLE: "Eligible",
    CaseStatus.NOT_ELIGIBLE: "Not eligible",
    CaseStatus.LISTED: "Listed",
}
PAGE_SIZE = 50


def _referrer() -> tuple[Viewer, Checklist]:
    viewer = current_viewer()
    if not policy.may_refer(viewer).full:
        abort(403)
    area = db.session.get(Area, viewer.area_id)
    return viewer, get_checklist(area.checklist_key)


# --- matching for one person row -------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """The people offered for one person row, and whether too many share the name to show."""

    candidates: list[PresentedCandidate] = field(default_factory=list)
    crowded: bool = False


def _candidates(viewer: Viewer, row: PersonFields) -> Offer:
    given, family = (row.given_name.data or "").strip(), (row.family_name.data or "").strip()
    if row.given_name.errors or row.family_name.errors or not given or not family:
        return Offer()
    gender = Gender(row.gender.data) if row.gender.data in Gender._value2member_map_ else None
    query = matching.Query(
        given, family, row.date_of_birth.data if not row.date_of_birth.errors else None, gender
    )
    found = matching.find_candidates(
        db.session,
        viewer.area_id,
        query,
        allowed=policy.matchable_people_clause(viewer),
    )
    candidates = present_candidates(db.session, viewer, found.candidates)
    for candidate in candidates:
        audit.record_view("person.offered", object_type="person", object_id=candidate.person_id)
    return Offer(candidates, found.crowded)


def _offer(row: PersonFields, offer: Offer) -> None:
    row.match.choices = [SelectChoice(str(c.person_id), c.label) for c in offer.candidates] + [
        SelectChoice(NEW_PERSON, "None of these: a new person")
    ]


def _match_all(viewer: Viewer, form: ReferralFormBase) -> dict[str, Offer]:
    offered = {}
    for prefix, row in form.rows():
        offered[prefix] = _candidates(viewer, row)
        _offer(row, offered[prefix])
    return offered


def _check_choices(form: ReferralFormBase, offered: dict[str, Offer]) -> bool:
    """Each person with candidates needs an explicit choice among those offered to this user."""
    ok = True
    chosen: set[int] = set()
    for prefix, row in form.rows():
        candidates = offered[prefix].candidates if prefix in offered else []
        value = row.match.data
        if not row.named or not candidates:
            row.match.data = NEW_PERSON
            continue
        allowed = {str(c.person_id) for c in candidates} | {NEW_PERSON}
        if value not in allowed:
            row.match.errors = [
                "Choose one of the people already known, or confirm this is a new person."
            ]
            ok = False
        elif value != NEW_PERSON:
            if int(value) in chosen:
                row.match.errors = ["This person is already named above."]
                ok = False
            chosen.add(int(value))
    return ok


# --- the form --------------------------------------------------------------------------------


def _new_form(checklist: Checklist) -> ReferralFormBase:
    form = referral_form(checklist)()
    if request.method == "GET":
        form.officer_name.data = current_user.display_name
        form.people.entries[0].form.role.data = CaseRole.PERPETRATOR.value
        form.people.entries[0].form.relationship.data = "partner"
    return form


def _page(
    form: ReferralFormBase,
    checklist: Checklist,
    viewer: Viewer,
    offered: dict[str, Offer],
    status: int = 200,
) -> Response:
    return render(
        "referrals/new.html",
        "referrals/new.html",
        status_code=status,
        form=form,
        checklist=checklist,
        offered=offered,
        live=_live_eligibility(form, checklist, viewer),
        max_people=MAX_PEOPLE,
    )


def _live_eligibility(
    form: ReferralFormBase, checklist: Checklist, viewer: Viewer
) -> dict[str, object]:
    answers = answers_from(form, checklist)
    score = checklist.score(answers)
    callouts = callouts_typed(form)
    judgement = (form.judgement_reason.data or "") if form.professional_judgement.data else ""
    results = [
        eligibility.visible_high_risk(score, checklist.threshold, len(checklist.factors)),
        eligibility.potential_escalation(callouts),
        eligibility.professional_judgement(judgement),
    ]
    return {
        "score": score,
        "threshold": checklist.threshold,
        "factor_count": len(checklist.factors),
        "unknown": sum(
            1
            for a in answers.values()
            if a in (ChecklistAnswer.DONT_KNOW, ChecklistAnswer.NOT_ASKED)
        ),
        "results": results,
        "eligible_so_far": any(r.met for r in results),
    }


@bp.route("/new", methods=["GET", "POST"])
@signed_in()
def new() -> Response:
    viewer, checklist = _referrer()
    form = _new_form(checklist)
    if request.method == "GET":
        return _page(form, checklist, viewer, {})
    action = request.form.get("action", "save")
    if action == "add_person":
        if len(form.people.entries) < MAX_PEOPLE:
            form.people.append_entry()
        offered = _match_all(viewer, form)
        return _page(form, checklist, viewer, offered)
    valid = form.validate()
    offered = _match_all(viewer, form)
    if action == "check":
        return _page(form, checklist, viewer, offered)
    consistent = form.check_consistency(clock.service_today())
    choices_ok = _check_choices(form, offered)
    if not (valid and consistent and choices_ok):
        return _page(form, checklist, viewer, offered, status=400)
    case = referral_service.create_referral(
        db.session, current_user, _entry(form, checklist), clock.service_today()
    )
    links = links_for_case(db.session, viewer, case)
    flash(f"Referral {case.reference} saved. Status: {case.status.label}.", "success")
    if policy.case_access(viewer, links).full:
        return redirect(url_for("cases.show", case_id=case.id), code=303)
    return redirect(url_for("referrals.new"), code=303)


def _person_entry(row: PersonFields, role: CaseRole) -> referral_service.PersonEntry:
    chosen = row.match.data
    return referral_service.PersonEntry(
        role=role,
        given_name=row.given_name.data.strip(),
        family_name=row.family_name.data.strip(),
        date_of_birth=row.date_of_birth.data,
        gender=Gender(row.gender.data),
        aliases=row.alias_list(),
        existing_id=int(chosen) if chosen and chosen != NEW_PERSON else None,
        relationship=row.relationship.data if isinstance(row, OtherPersonFields) else "none",
        separated_on=row.separated_on.data if isinstance(row, OtherPersonFields) else None,
        ethnic_group=EthnicGroup(row.ethnic_group.data),
        sexual_orientation=SexualOrientation(row.sexual_orientation.data),
        trans_history=TransHistory(row.trans_history.data),
        disability=Disability(row.disability.data),
    )


def _entry(form: ReferralFormBase, checklist: Checklist) -> referral_service.ReferralEntry:
    others = [
        _person_entry(row, CaseRole(row.role.data)) for row in form.other_rows() if row.touched
    ]
    return referral_service.ReferralEntry(
        victim=_person_entry(form.victim.form, CaseRole.VICTIM),
        others=others,
        contact=referral_service.ContactEntry(
            address=(form.address.data or "").strip() or None,
            safe_phone=(form.safe_phone.data or "").strip() or None,
            safe_to_call=yes_no(form.safe_to_call.data),
            safe_times=(form.safe_times.data or "").strip() or None,
            may_leave_message=yes_no(form.may_leave_message.data),
            feared_people=(form.feared_people.data or "").strip() or None,
            safe_to_speak_to=(form.safe_to_speak_to.data or "").strip() or None,
            not_safe_to_speak_to=(form.not_safe_to_speak_to.data or "").strip() or None,
        ),
        officer_name=form.officer_name.data,
        officer_contact=form.officer_contact.data,
        incident_on=form.incident_on.data,
        checklist=checklist,
        answers=answers_from(form, checklist),
        police_callouts=form.police_callouts.data,
        professional_judgement=form.judgement_reason.data
        if form.professional_judgement.data
        else None,
        victim_aware=yes_no(form.victim_aware.data),
        consent_given=yes_no(form.consent.data),
        no_consent_reason=form.no_consent_reason.data if form.consent.data == "no" else None,
    )


@bp.route("/new/score", methods=["POST"])
@signed_in()
def score() -> Response:
    viewer, checklist = _referrer()
    form = referral_form(checklist)()
    return render(
        "referrals/_eligibility.html",
        "referrals/_eligibility.html",
        live=_live_eligibility(form, checklist, viewer),
    )


@bp.route("/new/matches", methods=["POST"])
@signed_in()
def matches() -> Response:
    viewer, checklist = _referrer()
    form = referral_form(checklist)()
    rows = dict(form.rows())
    prefix = request.form.get("row", "")
    if prefix not in rows:
        abort(400)
    row = rows[prefix]
    for typed in (row.given_name, row.family_name, row.date_of_birth):
        typed.validate(form)
    offer = _candidates(viewer, row)
    _offer(row, offer)
    return render(
        "referrals/_matches.html",
        "referrals/_matches.html",
        prefix=prefix,
        row=row,
        offer=offer,
    )


# --- the queue -------------------------------------------------------------------------------


@bp.route("/")
@signed_in()
def queue() -> Response:
    viewer = current_viewer()
    if not policy.may_triage_referrals(viewer, viewer.area_id).full:
        abort(403)
    status_value = request.args.get("status", "")
    status = next((s for s in QUEUE_STATUSES if s.value == status_value), None)
    bad = bool(status_value) and status is None
    agency_value = request.args.get("agency", "")
    agencies = db.session.execute(
        sa.select(Agency.id, Agency.name)
        .where(Agency.area_id == viewer.area_id)
        .order_by(Agency.name)
    ).all()
    agency_id = next((a.id for a in agencies if str(a.id) == agency_value), None)
    bad = bad or (bool(agency_value) and agency_id is None)
    repeats_only = request.args.get("repeat") == "1"
    duplicates_only = request.args.get("duplicates") == "1"

    base = sa.select(Case).where(
        policy.visible_cases_clause(viewer), Case.status.in_(QUEUE_STATUSES)
    )
    counts = dict(
        db.session.execute(
            sa.select(Case.status, sa.func.count())
            .where(policy.visible_cases_clause(viewer), Case.status.in_(QUEUE_STATUSES))
            .group_by(Case.status)
        ).all()
    )
    statement = base
    if status is not None:
        statement = statement.where(Case.status == status)
    if agency_id is not None:
        statement = statement.where(Case.referring_agency_id == agency_id)
    if repeats_only:
        statement = statement.where(
            sa.exists().where(Referral.case_id == Case.id, Referral.repeat_of_case_id.is_not(None))
        )
    if duplicates_only:
        statement = statement.where(
            sa.exists(
                sa.select(1)
                .select_from(CasePerson)
                .join(PossibleDuplicate, PossibleDuplicate.person_id == CasePerson.person_id)
                .where(CasePerson.case_id == Case.id, PossibleDuplicate.resolved_at.is_(None))
            )
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    try:
        page = max(1, min(int(request.args.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    cases = db.session.scalars(
        statement.order_by(Case.referred_on.desc(), Case.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render(
        "referrals/queue.html",
        "referrals/_queue_results.html",
        status_code=400 if bad else 200,
        rows=queue_rows(db.session, viewer, cases),
        counts={s: counts.get(s, 0) for s in QUEUE_STATUSES},
        labels=QUEUE_LABELS,
        statuses=QUEUE_STATUSES,
        chosen=status,
        agencies=id_choices((a.id, a.name) for a in agencies),
        agency_id=agency_id,
        repeats_only=repeats_only,
        duplicates_only=duplicates_only,
        bad_filter=bad,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
    )
