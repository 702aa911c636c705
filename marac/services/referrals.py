"""Making a referral: the case, who is in it, her safe contact details, and the eligibility."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from marac import audit
from marac.checklists import Checklist
from marac.domain import (
    CaseRole,
    CaseStatus,
    ChecklistAnswer,
    Disability,
    EthnicGroup,
    Gender,
    RelationshipKind,
    SexualOrientation,
    TransHistory,
)
from marac.eligibility import Eligibility, evaluate, last_hearing
from marac.models import (
    Area,
    Case,
    CasePerson,
    CaseReferenceCounter,
    ContactDetails,
    Person,
    PersonAlias,
    Referral,
    ReferralAnswer,
    ReferralCriterion,
    User,
)
from marac.services import people as people_service

# How each person is related to the victim, as offered on the form. Each maps to the
# Relationship rows it creates: (from, to, kind), where "victim", "person" and "perpetrator"
# (the first perpetrator named) stand for the people of the referral.
RELATIONSHIP_RULES: dict[str, tuple[tuple[str, str, RelationshipKind], ...]] = {
    "partner": (("person", "victim", RelationshipKind.PARTNER),),
    "ex_partner": (("person", "victim", RelationshipKind.EX_PARTNER),),
    "her_child": (("victim", "person", RelationshipKind.PARENT),),
    "their_child": (
        ("victim", "person", RelationshipKind.PARENT),
        ("perpetrator", "person", RelationshipKind.PARENT),
    ),
    "his_child": (("perpetrator", "person", RelationshipKind.PARENT),),
    "parent": (("person", "victim", RelationshipKind.PARENT),),
    "sibling": (("person", "victim", RelationshipKind.SIBLING),),
    "household": (("person", "victim", RelationshipKind.HOUSEHOLD_MEMBER),),
    "none": (),
}


@dataclass
class PersonEntry:
    role: CaseRole
    given_name: str
    family_name: str
    date_of_birth: date | None = None
    gender: Gender = Gender.NOT_KNOWN
    aliases: tuple[str, ...] = ()
    # An existing person the referrer picked from the candidates offered; None: a new person.
    existing_id: int | None = None
    relationship: str = "none"
    separated_on: date | None = None
    ethnic_group: EthnicGroup = EthnicGroup.NOT_KNOWN
    sexual_orientation: SexualOrientation = SexualOrientation.NOT_KNOWN
    trans_history: TransHistory = TransHistory.NOT_KNOWN
    disability: Disability = Disability.NOT_KNOWN


MONITORING_FIELDS = ("ethnic_group", "sexual_orientation", "trans_history", "disability")


def _record_monitoring(person: Person, entry: PersonEntry) -> list[str]:
    """Equality answers given on the referral. An answer already recorded is not replaced by a
    later "not known" (nobody asked this time); any other answer is the newer one."""
    changed = []
    for name in MONITORING_FIELDS:
        typed = getattr(entry, name)
        if typed.value != "not_known" and getattr(person, name) != typed:
            setattr(person, name, typed)
            changed.append(name)
    return changed


@dataclass
class ContactEntry:
    address: str | None = None
    safe_phone: str | None = None
    safe_to_call: bool | None = None
    safe_times: str | None = None
    may_leave_message: bool | None = None
    feared_people: str | None = None
    safe_to_speak_to: str | None = None
    not_safe_to_speak_to: str | None = None

    def filled(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if v is not None and v != ""}


@dataclass
class ReferralEntry:
    victim: PersonEntry
    others: list[PersonEntry]
    contact: ContactEntry
    officer_name: str
    officer_contact: str | None
    incident_on: date
    checklist: Checklist
    answers: dict[str, ChecklistAnswer]
    police_callouts: int
    professional_judgement: str | None
    victim_aware: bool | None
    consent_given: bool | None
    no_consent_reason: str | None
    extra: dict[str, object] = field(default_factory=dict)


def next_reference(session: Session, area: Area, day: date) -> str:
    """The area's next free reference for the year of ``day``, e.g. "NM-2026-0042".

    Safe when many referrals are saved at once: the number comes from the area's counter row,
    incremented by the database itself (``last_number = last_number + 1``), which gives the
    numbers out one at a time and keeps the row to this transaction until it ends (a row lock on
    PostgreSQL, the single writer on SQLite). A number already taken by a case made without the
    counter (the demo loader, an import) is passed over.
    """
    prefix = f"{area.code}-{day.year}-"
    _ensure_counter(session, area.id, day.year, prefix)
    counter = CaseReferenceCounter.__table__
    while True:
        number = session.execute(
            sa.update(counter)
            .where(counter.c.area_id == area.id, counter.c.year == day.year)
            .values(last_number=counter.c.last_number + 1)
            .returning(counter.c.last_number)
        ).scalar_one()
        reference = f"{prefix}{number:04d}"
        if session.scalar(sa.select(Case.id).where(Case.reference == reference)) is None:
            return reference


def _ensure_counter(session: Session, area_id: int, year: int, prefix: str) -> None:
    """The first referral of a year starts the count after the highest reference already used.
    Two first referrals at once both try to add the row; the database keeps one."""
    counter = CaseReferenceCounter.__table__
    known = session.scalar(
        sa.select(counter.c.last_number).where(counter.c.area_id == area_id, counter.c.year == year)
    )
    if known is not None:
        return
    last = session.scalar(
        sa.select(Case.reference)
        .where(Case.reference.startswith(prefix, autoescape=True))
        .order_by(sa.func.length(Case.reference).desc(), Case.reference.desc())
        .limit(1)
    )
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[
        session.get_bind().dialect.name
    ]
    session.execute(
        insert(counter)
        .values(area_id=area_id, year=year, last_number=int(last.rsplit("-", 1)[1]) if last else 0)
        .on_conflict_do_nothing(index_elements=[counter.c.area_id, counter.c.year])
    )


def assess(
    session: Session, entry: ReferralEntry, victim_id: int | None, case_id: int | None
) -> Eligibility:
    """The four criteria for what was entered; the repeat rule needs a known victim."""
    last = last_hearing(session, victim_id, exclude_case_id=case_id) if victim_id else None
    return evaluate(
        score=entry.checklist.score(entry.answers),
        threshold=entry.checklist.threshold,
        factor_count=len(entry.checklist.factors),
        police_callouts=entry.police_callouts,
        judgement=entry.professional_judgement,
        incident_on=entry.incident_on,
        last=last,
    )


def _person(session: Session, area_id: int, entry: PersonEntry) -> tuple[Person, bool]:
    if entry.existing_id is not None:
        person = session.get(Person, entry.existing_id)
        if person is None or person.area_id != area_id:
            raise ValueError("the chosen person is not of this area")
        _record_monitoring(person, entry)
        return person, False
    person = Person(
        area_id=area_id,
        given_name=entry.given_name.strip(),
        family_name=entry.family_name.strip(),
        date_of_birth=entry.date_of_birth,
        gender=entry.gender,
        aliases=[PersonAlias(name=a) for a in entry.aliases],
    )
    _record_monitoring(person, entry)
    session.add(person)
    return person, True


def _relate(
    session: Session, a: Person, b: Person, kind: RelationshipKind, separated_on: date | None
) -> None:
    if a.id == b.id:
        return
    people_service.add_relationship_once(
        session,
        a.id,
        b.id,
        kind,
        separated_on=separated_on if kind is RelationshipKind.EX_PARTNER else None,
    )


def _save_contact(session: Session, victim: Person, contact: ContactEntry) -> list[str]:
    """Her safe contact details: fields the referrer filled in are recorded; others are kept."""
    filled = contact.filled()
    if not filled:
        return []
    details = session.scalar(sa.select(ContactDetails).where(ContactDetails.person_id == victim.id))
    if details is None:
        details = ContactDetails(person_id=victim.id)
        session.add(details)
    for name, value in filled.items():
        setattr(details, name, value)
    return sorted(filled)


def create_referral(session: Session, user: User, entry: ReferralEntry, today: date) -> Case:
    """Creates the case and its referral record; audits; flushes. The route has already checked
    that every chosen existing person was offered to this user."""
    area = session.get(Area, user.agency.area_id)
    case = Case(
        area_id=area.id,
        reference=next_reference(session, area, today),
        status=CaseStatus.REFERRED,
        referring_agency_id=user.agency_id,
        referred_on=today,
    )
    session.add(case)
    victim, victim_new = _person(session, area.id, entry.victim)
    placed: list[tuple[PersonEntry, Person, bool]] = [(entry.victim, victim, victim_new)]
    for other in entry.others:
        person, new = _person(session, area.id, other)
        placed.append((other, person, new))
    session.flush()

    seen: set[int] = set()
    for person_entry, person, _new in placed:
        if person.id in seen:
            raise ValueError("the same person is named twice")
        seen.add(person.id)
        case.members.append(CasePerson(person_id=person.id, role=person_entry.role))
    perpetrators = [p for e, p, _n in placed if e.role is CaseRole.PERPETRATOR]
    for person_entry, person, _new in placed[1:]:
        for source, target, kind in RELATIONSHIP_RULES.get(person_entry.relationship, ()):
            ends = {
                "victim": victim,
                "person": person,
                "perpetrator": perpetrators[0] if perpetrators else None,
            }
            if ends[source] is not None and ends[target] is not None:
                _relate(session, ends[source], ends[target], kind, person_entry.separated_on)
    contact_fields = _save_contact(session, victim, entry.contact)
    session.flush()

    eligibility = assess(session, entry, victim.id, case.id)
    referral = Referral(
        case_id=case.id,
        referring_agency_id=user.agency_id,
        referred_by_id=user.id,
        officer_name=entry.officer_name.strip(),
        officer_contact=(entry.officer_contact or "").strip() or None,
        incident_on=entry.incident_on,
        checklist_key=entry.checklist.key,
        score=entry.checklist.score(entry.answers),
        threshold=entry.checklist.threshold,
        police_callouts=entry.police_callouts,
        professional_judgement=(entry.professional_judgement or "").strip() or None,
        victim_aware=entry.victim_aware,
        consent_given=entry.consent_given,
        no_consent_reason=(entry.no_consent_reason or "").strip() or None,
        eligible=eligibility.eligible,
        repeat_of_case_id=eligibility.repeat_of.case_id if eligibility.repeat_of else None,
        answers=[
            ReferralAnswer(
                factor_key=f.key, answer=entry.answers.get(f.key, ChecklistAnswer.NOT_ASKED)
            )
            for f in entry.checklist.factors
        ],
        criteria=[
            ReferralCriterion(criterion=r.criterion, met=r.met, reason=r.reason)
            for r in eligibility.results
        ],
    )
    session.add(referral)
    case.status = CaseStatus.ELIGIBLE if eligibility.eligible else CaseStatus.NOT_ELIGIBLE
    session.flush()

    new_people = [person for _e, person, new in placed if new]
    flagged = sum(people_service.flag_possible_duplicates(session, p) for p in new_people)
    met = ", ".join(r.criterion.label.lower() for r in eligibility.results if r.met)
    audit.record(
        "referral.create",
        user=user,
        object_type="case",
        object_id=case.id,
        detail=(
            f"{case.reference}: {'eligible (' + met + ')' if met else 'not eligible'}; "
            f"{len(placed)} people ({len(new_people)} new, {flagged} possible duplicates); "
            f"contact fields: {', '.join(contact_fields) or 'none'}"
        ),
    )
    return case
